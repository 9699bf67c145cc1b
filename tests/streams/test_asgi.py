"""The project's ASGI handler: which requests it serves without a thread of their own, and
how many times a request crosses between the event loop and a thread."""

import threading
import uuid

import httpx
import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.common import CommonMiddleware
from rest_framework.authtoken.models import Token

from apps.streams.asgi import _path_info, is_long_lived
from conductor_site.asgi import application


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/api/runs/{uuid.uuid4()}/events/", True),
        ("/api/runs/", False),
        (f"/api/runs/{uuid.uuid4()}/", False),
        ("/admin/", False),
        ("/no/such/page/", False),
    ],
)
def test_only_event_streams_are_long_lived(path, expected):
    assert is_long_lived(path) is expected


def test_the_path_is_resolved_without_the_root_it_is_mounted_under():
    scope = {"path": "/conductor/api/runs/", "root_path": "/conductor"}

    assert _path_info(scope) == "/api/runs/"
    assert _path_info({"path": "/api/runs/"}) == "/api/runs/"


@pytest.mark.django_db(transaction=True)
async def test_a_request_crosses_into_a_thread_once_for_its_whole_middleware_chain(
    monkeypatch, viewer
):
    """Django would hop between the event loop and a thread for each hook of every
    async-capable MiddlewareMixin (about twenty hand-offs per request here)."""
    token = await sync_to_async(lambda: Token.objects.create(user=viewer).key)()
    hook_threads: set[int] = set()
    hops = 0
    real_call = SyncToAsync.__call__

    async def counting_call(self, *args, **kwargs):
        nonlocal hops
        hops += 1
        return await real_call(self, *args, **kwargs)

    def recording(hook):
        def record(self, *args):
            hook_threads.add(threading.get_ident())
            return hook(self, *args)

        return record

    for name in ("process_request", "process_response"):
        monkeypatch.setattr(SessionMiddleware, name, recording(getattr(SessionMiddleware, name)))
        monkeypatch.setattr(CommonMiddleware, name, recording(getattr(CommonMiddleware, name)))
    monkeypatch.setattr(SyncToAsync, "__call__", counting_call)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        response = await client.get("/api/me/", headers={"Authorization": f"Token {token}"})

    assert response.status_code == 200
    assert response.json()["username"] == viewer.username
    assert len(hook_threads) == 1
    # The chain (with the view), plus the request_started/finished signals' receivers.
    assert hops <= 3
