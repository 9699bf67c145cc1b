"""How Conductor degrades when a backing service fails, in process: fast, on any database.

The service-level versions (real Redis and PostgreSQL stopped under real processes) are
in the other test_faults_* modules; these pin the rules themselves.
"""

from __future__ import annotations

import contextlib
import logging

import pytest
from django.contrib.admin import AdminSite
from django.db import IntegrityError, OperationalError
from django.test import Client, override_settings
from kombu.exceptions import OperationalError as BrokerError

from apps.activity.models import TaskEvent
from apps.agents.api import AgentViewSet
from apps.runs import execution, services
from apps.runs.models import Run, RunEvent
from apps.runs.tasks import execute_run
from tests.factories import DEFAULT_PASSWORD, AgentFactory, RunFactory, UserFactory
from tests.services import free_port

OUTAGE = OperationalError('connection failed: connection to server at "db" refused')


def _raise(exc: Exception):
    def view(*args, **kwargs):
        raise exc

    return view


# --- The database goes away: 503, never 500 -----------------------------------------


@pytest.mark.django_db
def test_an_api_request_during_a_database_outage_is_a_503_envelope(viewer_client, monkeypatch):
    monkeypatch.setattr(AgentViewSet, "list", _raise(OUTAGE))

    response = viewer_client.get("/api/agents/")

    assert response.status_code == 503
    assert response.json()["error"] == {
        "code": "service_unavailable",
        "message": "The database is unavailable. Try again shortly.",
        "details": None,
    }


@pytest.mark.django_db
def test_an_event_stream_during_a_database_outage_is_a_503_envelope(viewer, monkeypatch):
    async def unreachable(*args):
        raise OUTAGE

    monkeypatch.setattr("apps.streams.sse.visible_run", unreachable)
    client = Client()
    client.force_login(viewer)

    response = client.get(f"/api/runs/{RunFactory(created_by=viewer).pk}/events/")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"


@pytest.mark.django_db
def test_an_admin_page_during_a_database_outage_is_a_503_page(editor_admin, monkeypatch):
    monkeypatch.setattr(AdminSite, "get_app_list", _raise(OUTAGE))

    response = editor_admin.get("/admin/")

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert b"The database is unavailable" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/agents/", "/admin/"])
def test_other_database_errors_stay_server_errors(staff, monkeypatch, path):
    """A constraint violation is a bug to fix, not an outage to wait out."""
    monkeypatch.setattr(AgentViewSet, "list", _raise(IntegrityError("duplicate key")))
    monkeypatch.setattr(AdminSite, "get_app_list", _raise(IntegrityError("dup")))
    client = Client(raise_request_exception=False)
    client.force_login(staff)

    response = client.get(path)

    assert response.status_code == 500


# --- The broker goes away: a run start is refused, and leaves nothing behind ----------


@pytest.mark.django_db(transaction=True)
def test_a_run_start_the_broker_cannot_take_is_a_503_that_leaves_no_run(
    viewer_client, monkeypatch, caplog
):
    """The run is enqueued once committed; if that fails, it is deleted with its log and
    feed entries instead of waiting in ``queued`` for a worker that will never hear of it."""
    AgentFactory(slug="native", model="gpt-4o-mini")
    monkeypatch.setattr(
        "apps.runs.tasks.execute_run.delay", _raise(BrokerError("Error 111 connecting"))
    )

    response = viewer_client.post(
        "/api/agents/native/run/", {"input": "Hi", "cwd": "/srv/project"}, format="json"
    )

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "service_unavailable"
    assert error["message"] == (
        "The run queue (the Celery broker) is unreachable, so the run was not started. "
        "Try again shortly."
    )
    assert not Run.objects.exists()
    assert not RunEvent.objects.exists()
    assert not TaskEvent.objects.exists()
    assert "could not enqueue run" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_run_start_the_broker_takes_is_enqueued_after_its_commit(viewer_client, monkeypatch):
    AgentFactory(slug="native", model="gpt-4o-mini")
    enqueued: list[tuple[str, str]] = []

    def delay(run_id: str) -> None:
        # What a worker would see at this point: the run, committed and queued.
        enqueued.append((run_id, Run.objects.get(pk=run_id).status))

    monkeypatch.setattr("apps.runs.tasks.execute_run.delay", delay)

    response = viewer_client.post(
        "/api/agents/native/run/", {"input": "Hi", "cwd": "/srv/project"}, format="json"
    )

    assert response.status_code == 202
    assert enqueued == [(response.json()["id"], "queued")]


def test_a_worker_that_cannot_reach_the_database_retries_the_run_instead_of_losing_it(
    monkeypatch,
):
    """Acked after a failed claim, the message would leave the run queued for ever."""
    claims: list[str] = []
    executed: list[object] = []

    def claim(run_id: str) -> object:
        claims.append(run_id)
        if len(claims) == 1:
            raise OperationalError("couldn't get a connection after 10.00 sec")
        return "the claimed run"

    monkeypatch.setattr(services, "run_claim", claim)
    monkeypatch.setattr(execution, "execute", executed.append)
    monkeypatch.setattr(execution, "heartbeat", lambda *args: contextlib.nullcontext())

    result = execute_run.apply(args=["a-run-id"])

    assert result.successful()
    assert claims == ["a-run-id", "a-run-id"]
    assert executed == ["the claimed run"]


# --- The cache goes away: throttled endpoints fail open ------------------------------


def _unreachable_redis_cache() -> dict:
    location = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    options = {"socket_connect_timeout": 1, "socket_timeout": 1}
    backend = "apps.core.cache.FailOpenRedisCache"
    return {"default": {"BACKEND": backend, "LOCATION": location, "OPTIONS": options}}


def test_an_unreachable_cache_misses_and_drops_writes_with_a_warning(caplog):
    with override_settings(CACHES=_unreachable_redis_cache()):
        from django.core.cache import cache

        with caplog.at_level(logging.WARNING, logger="apps.core.cache"):
            cache.set("key", "value")
            stored = cache.add("other", "value")
            value = cache.get("key", "fallback")
            values = cache.get_many(["key", "other"])

    assert (stored, value, values) == (False, "fallback", {})
    assert "cache set skipped, Redis is unreachable" in caplog.text


@pytest.mark.django_db
def test_a_throttled_login_still_answers_while_the_cache_is_unreachable(api_client):
    UserFactory(username="alice")

    with override_settings(CACHES=_unreachable_redis_cache()):
        response = api_client.post(
            "/api/auth/token/", {"username": "alice", "password": DEFAULT_PASSWORD}
        )

    assert response.status_code == 200, response.content
    assert response.json()["token"]
