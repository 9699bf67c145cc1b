"""A run's admin page, in Chromium: the run is started from the admin and watched live."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.fakes import llm_server as llm
from tests.subprocesses import Served

if TYPE_CHECKING:
    from playwright.sync_api import Page, WebSocketRoute

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Markup in the model's answer must show as text, and never run.
ANSWER = 'Two agents: assistant and code_reviewer. <img src=x onerror="window.pwned=1">'
RUN_PAGE = re.compile(r"/admin/runs/run/[0-9a-f-]{36}/change/$")


def expect(actual: Any) -> Any:
    """Playwright's `expect`, imported only once a browser test runs.

    Importing Playwright at collection would load it (and greenlet) into every test
    run, and fail collection where it is not installed instead of skipping.
    """
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(actual)


def start_run(page: Page, agent_slug: str, text: str) -> None:
    """Starts a run from the admin's "Start a run" form; lands on its live page."""
    page.goto("/admin/runs/run/")
    page.get_by_role("link", name="Start a run").click()
    agent = page.locator("#id_agent option", has_text=f"({agent_slug},")
    page.select_option("#id_agent", agent.get_attribute("value"))
    page.fill("#id_input", text)
    page.fill("#id_cwd", "/srv/project")
    page.get_by_role("button", name="Start the run").click()
    expect(page).to_have_url(RUN_PAGE)
    # Reloading would lose this: the run must unfold on the page as it was loaded.
    page.evaluate("window.loadedOnce = true")


def expect_answer(page: Page, answer: str) -> None:
    expect(page.locator("#run-live-status")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#run-live-status")).to_have_text("Succeeded")
    expect(page.locator("#run-live-answer")).to_have_text(answer)
    expect(page.locator("#run-live-connection")).to_have_text("Finished")
    assert page.evaluate("window.loadedOnce") is True


def streamed_answer(answer: str) -> llm.Reply:
    """Streamed slowly enough for the page to show it arriving."""
    return llm.slow(0.5, llm.text(answer, chunks=8), per_chunk_delay=0.2)


def test_the_run_page_shows_a_run_unfold_live(page: Page, fake_llm: Any):
    fake_llm.script(llm.slow(2.0, llm.tool_call("list_agents", {})), streamed_answer(ANSWER))

    start_run(page, "assistant", "Which agents are there?")

    status = page.locator("#run-live-status")
    expect(status).to_have_attribute("data-status", "running")
    expect(status).to_have_text("Running")
    expect(page.locator("#run-live-connection")).to_have_text("Live")
    steps = page.locator(".run-live-step")
    expect(steps).to_have_count(2)
    tool = steps.nth(0).locator(".run-live-tool")
    expect(tool.locator("summary")).to_contain_text("list_agents")
    expect(tool).to_have_attribute("data-state", "ok")
    tool.locator("summary").click()
    expect(tool.locator(".run-live-tool-result")).to_contain_text('"slug": "code_reviewer"')
    expect_answer(page, ANSWER)
    expect(steps.nth(1).locator(".run-live-text")).to_have_text(ANSWER)
    assert page.locator("#run-live img").count() == 0
    assert page.evaluate("window.pwned") is None


def test_a_warning_shows_above_the_steps(page: Page, fake_llm: Any, conductor: Served):
    token = {"Authorization": f"Token {demo_token(conductor)}"}
    server = {"name": "offline", "transport": "http", "url": "https://mcp.invalid/mcp"}
    registered = httpx.post(f"{conductor.base}/api/mcp-servers/", json=server, headers=token)
    assert registered.status_code == 201, registered.text
    guarded_agent(
        conductor, slug="warned", model="gpt-4o-mini", mcp_configs={"servers": {"offline": {}}}
    )
    fake_llm.script(streamed_answer("Done without it."))

    start_run(page, "warned", "Go on.")

    expect_answer(page, "Done without it.")
    warning = page.locator("#run-live-warnings .run-live-warning")
    expect(warning).to_have_count(1)
    expect(warning).to_contain_text("could not connect to MCP server 'offline'")
    expect(warning).to_contain_text("the run goes on without its tools")


class CutOnce:
    """Routes the page's run sockets: cuts the first one mid-answer, after a few deltas.

    The next socket starts by repeating the last envelope the first one delivered,
    as a server replaying from too far back would: the page must ignore it.
    """

    def __init__(self, *, deltas_before_cut: int) -> None:
        self.deltas_before_cut = deltas_before_cut
        self.urls: list[str] = []
        self.delivered: list[dict[str, Any]] = []
        self.cut = False

    def __call__(self, socket: WebSocketRoute) -> None:
        self.urls.append(socket.url)
        server = socket.connect_to_server()
        if len(self.urls) == 1:
            server.on_message(lambda message: self.forward(socket, server, message))
        elif self.delivered:
            socket.send(json.dumps(self.delivered[-1]))

    def forward(self, socket: WebSocketRoute, server: WebSocketRoute, message: str | bytes) -> None:
        if self.cut:
            return
        socket.send(message)
        envelope = json.loads(message)
        if "id" in envelope:
            self.delivered.append(envelope)
        if [e["event"] for e in self.delivered].count("llm.delta") == self.deltas_before_cut:
            self.cut = True
            server.close()
            socket.close()


def test_after_a_dropped_connection_nothing_is_shown_twice_or_skipped(page: Page, fake_llm: Any):
    sockets = CutOnce(deltas_before_cut=2)
    page.route_web_socket(re.compile(r"/ws/runs/"), sockets)
    fake_llm.script(llm.tool_call("list_agents", {}), streamed_answer(ANSWER))

    start_run(page, "assistant", "Which agents are there?")

    expect_answer(page, ANSWER)
    steps = page.locator(".run-live-step")
    expect(steps).to_have_count(2)
    expect(steps.nth(1).locator(".run-live-text")).to_have_text(ANSWER)
    expect(page.locator(".run-live-tool")).to_have_count(1)
    assert sockets.cut
    assert len(sockets.urls) == 2, sockets.urls
    assert sockets.urls[0].endswith("?after=0")
    assert sockets.urls[1].endswith(f"?after={sockets.delivered[-1]['id']}")


def test_staff_deny_a_tool_call_from_the_page_and_the_run_goes_on(
    page: Page, fake_llm: Any, conductor: Served
):
    guarded_agent(conductor, slug="guarded", model="gpt-4o-mini", tools=["sql_query"])
    fake_llm.script(
        llm.tool_call("sql_query", {"query": "SELECT 1"}),
        llm.text("I was not allowed to query the database."),
    )

    start_run(page, "guarded", "Count the agents in the database.")

    approval = page.locator(".run-live-approval")
    expect(page.locator("#run-live-status")).to_have_attribute("data-status", "requires_approval")
    expect(approval).to_contain_text("sql_query")
    expect(approval).to_contain_text("SELECT 1")
    approval.get_by_role("button", name="Deny").click()
    expect(approval).to_have_attribute("data-state", "denied")
    expect(approval.get_by_role("button")).to_have_count(0)
    expect(approval.locator(".run-live-approval-outcome")).to_have_text(
        "Denied: decided on the run's live page"
    )
    expect(page.locator(".run-live-tool")).to_have_attribute("data-state", "error")
    expect_answer(page, "I was not allowed to query the database.")


def demo_token(conductor: Served) -> str:
    """The demo user's API token, from the server's start-up banner."""
    token = re.search(r"Token:\s+(\S+)", conductor.output)
    assert token, conductor.output
    return token.group(1)


def guarded_agent(conductor: Served, **fields: Any) -> None:
    """Creates an agent through the API, as the demo user."""
    body = {"name": fields["slug"].title(), "description": "Needs approval.", **fields}
    response = httpx.post(
        f"{conductor.base}/api/agents/",
        json=body,
        headers={"Authorization": f"Token {demo_token(conductor)}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
