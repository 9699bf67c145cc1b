from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.fakes.fixtures import fake_llm  # noqa: F401 - the scripted LLM server fixture
from tests.services import (
    browser_missing_reason,
    postgres_url,
    redis_url,
    services_required,
    unreachable_reason,
)

SERVICE_CHECKS = {
    "redis": lambda: unreachable_reason(redis_url(), 6379),
    "postgres": lambda: unreachable_reason(postgres_url(), 5432),
    "browser": browser_missing_reason,
}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # LLM calls abandoned by cancel/timeout tests end on helper threads once the fake
    # server has gone; let them finish before the interpreter tears down their modules.
    import sys

    llm = sys.modules.get("apps.runtime.llm")
    if llm is not None:
        llm.wait_for_abandoned_calls(timeout=30)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, check in SERVICE_CHECKS.items():
        if item.get_closest_marker(marker) is None:
            continue
        reason = check()
        if reason is None:
            continue
        if services_required():
            pytest.fail(f"CONDUCTOR_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
        pytest.skip(f"needs {marker}: {reason}")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    yield
    # Async tests check connections out on other threads (sync_to_async) and never
    # return them to psycopg's pool; they would keep the test database from being
    # dropped. End those sessions, then close the pool.
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all():
            if getattr(connection, "pool", None) is None:
                continue
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            connection.close()
            connection.close_pool()


@pytest.fixture(autouse=True)
def _no_publish_outlives_its_test():
    """Publishes are sent from a loop thread after publish() returns: one still on its way
    when a test ends would reach the next test's subscribers."""
    yield
    from apps.streams.publish import wait_for_publishes

    wait_for_publishes()


@pytest.fixture(autouse=True)
def _no_stray_llm_calls(settings):
    """No LLM call outlives its test.

    A cancel or timeout abandons an in-flight call on a helper thread. Were it to
    retry after its fake server stopped, the retry could reach the next test's fake
    server (the OS reuses the port) and take that test's scripted reply. So tests
    retry only when they ask to, and each test waits for its abandoned calls.
    """
    settings.CONDUCTOR_LLM_NUM_RETRIES = 0
    yield
    import sys

    llm = sys.modules.get("apps.runtime.llm")
    if llm is not None:
        llm.wait_for_abandoned_calls(timeout=15)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every user fixture hashes a password; PBKDF2 made that most of a test's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _isolated_data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters live in the cache; one test's requests must not limit another's.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer")


@pytest.fixture
def other_user(db):
    return UserFactory(username="other")


@pytest.fixture
def editor(db):
    """Staff with the Editors group: every permission on Conductor's content, not superuser."""
    from django.contrib.auth.models import Group

    from apps.core.roles import EDITORS_GROUP

    user = UserFactory(username="editor", is_staff=True)
    user.groups.add(Group.objects.get(name=EDITORS_GROUP))
    return user


@pytest.fixture
def editor_client(editor) -> APIClient:
    client = APIClient()
    client.force_authenticate(editor)
    return client


@pytest.fixture
def editor_admin(editor) -> Client:
    """A browser session in the admin as an editor (pytest-django's admin_client: a superuser)."""
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def staff_client(staff) -> APIClient:
    client = APIClient()
    client.force_authenticate(staff)
    return client


@pytest.fixture
def staff(db):
    return UserFactory(username="staff", is_staff=True, is_superuser=True)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def viewer_client(viewer) -> APIClient:
    client = APIClient()
    client.force_authenticate(viewer)
    return client
