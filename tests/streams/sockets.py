"""Opening the project's WebSockets as a signed-in browser would."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from conductor_site.asgi import application

ALLOWED_ORIGIN = (b"origin", b"http://localhost:8000")


def session_cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def open_socket(
    user, path: str, origin: tuple[bytes, bytes] = ALLOWED_ORIGIN
) -> tuple[bool, Any, WebsocketCommunicator]:
    """Connects to ``path`` with the user's session cookie (none for ``None``)."""
    headers = [origin]
    if user is not None:
        headers.append((b"cookie", await sync_to_async(session_cookie_for)(user)))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, detail = await communicator.connect()
    return connected, detail, communicator
