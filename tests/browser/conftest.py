"""A real Conductor (`manage.py serve`) talking to the fake LLM, and Chromium driving it.

The server is shared by the module's tests: starting it (migrate, demo content, web,
worker) is most of their time. Its data directory is its own, so it always runs the
embedded default (SQLite, in-memory channel layer and broker), whatever the suite's
DATABASE_URL and REDIS_URL say. Playwright is imported only inside fixtures: the
`browser` marker skips (or, with CONDUCTOR_REQUIRE_SERVICES=1, fails) these tests
when it or Chromium is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.llm_server import FakeLLMServer
from tests.services import CHROMIUM
from tests.subprocesses import Served, child_env, fake_llm_env, serving

ADMIN_USERNAME = "demo"
ADMIN_PASSWORD = "browser-test-password"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# The machine may be slow: every wait on the page is this generous.
PAGE_TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def fake_llm_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake_llm(fake_llm_server: FakeLLMServer) -> FakeLLMServer:
    """The shared fake LLM, emptied: each test scripts its own conversation."""
    fake_llm_server.reset()
    return fake_llm_server


@pytest.fixture(scope="module")
def conductor(
    tmp_path_factory: pytest.TempPathFactory, fake_llm_server: FakeLLMServer
) -> Iterator[Served]:
    """`manage.py serve` on a free port; the demo content's agents use the fake LLM.

    With OPENAI_BASE_URL set, the demo agents get the OpenAI default model, which the
    fake server answers; CONDUCTOR_DEMO_PASSWORD fixes the demo superuser's password.
    """
    data_dir = tmp_path_factory.mktemp("conductor-data")
    env = child_env(
        data_dir,
        **fake_llm_env(fake_llm_server.base_url),
        CONDUCTOR_DEMO_USERNAME=ADMIN_USERNAME,
        CONDUCTOR_DEMO_PASSWORD=ADMIN_PASSWORD,
    )
    with serving(env, "--concurrency", "2", "--no-beat") as served:
        yield served


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing test's report shows what the server printed."""
    report = yield
    served = getattr(item, "funcargs", {}).get("conductor")
    if report.failed and isinstance(served, Served):
        report.sections.append(("conductor serve output", served.output))
    return report


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, conductor: Served) -> Iterator[Any]:
    """A fresh browser context, signed in to the admin as the demo superuser."""
    from playwright.sync_api import expect

    expect.set_options(timeout=PAGE_TIMEOUT_MS)
    context = chromium.new_context(base_url=conductor.base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    page.goto("/admin/login/")
    page.fill("#id_username", ADMIN_USERNAME)
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(ADMIN_USERNAME)
    yield page
    context.close()
