import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.authtoken.models import Token

from conductor_site.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def handshake(
    headers: list[tuple[bytes, bytes]],
) -> tuple[bool, object, WebsocketCommunicator]:
    communicator = WebsocketCommunicator(application, "/ws/ping/", headers=headers)
    connected, detail = await communicator.connect()
    return connected, detail, communicator


async def test_a_browser_on_an_allowed_origin_connects_with_its_session(viewer):
    cookie = await sync_to_async(session_cookie_for)(viewer)

    connected, _, communicator = await handshake(
        [(b"origin", b"http://localhost:8000"), (b"cookie", cookie)]
    )

    assert connected
    assert await communicator.receive_json_from() == {"type": "connected", "user": "viewer"}
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


async def test_a_handshake_from_a_foreign_origin_is_rejected_even_with_a_valid_session(viewer):
    cookie = await sync_to_async(session_cookie_for)(viewer)

    connected, _, _ = await handshake([(b"origin", b"https://evil.example"), (b"cookie", cookie)])

    assert not connected


async def test_a_lookalike_origin_is_rejected(viewer):
    cookie = await sync_to_async(session_cookie_for)(viewer)

    connected, _, _ = await handshake(
        [(b"origin", b"http://localhost.evil.example"), (b"cookie", cookie)]
    )

    assert not connected


async def test_a_foreign_origin_is_rejected_even_with_a_valid_token(viewer):
    token = await sync_to_async(Token.objects.create)(user=viewer)

    connected, _, _ = await handshake(
        [(b"origin", b"https://evil.example"), (b"authorization", f"Token {token.key}".encode())]
    )

    assert not connected


async def test_a_non_browser_client_connects_with_a_token_and_no_origin(viewer):
    token = await sync_to_async(Token.objects.create)(user=viewer)

    connected, _, communicator = await handshake(
        [(b"authorization", f"Token {token.key}".encode())]
    )

    assert connected
    assert await communicator.receive_json_from() == {"type": "connected", "user": "viewer"}
    await communicator.disconnect()


async def test_a_handshake_with_neither_origin_nor_token_is_rejected(viewer):
    cookie = await sync_to_async(session_cookie_for)(viewer)

    connected, _, _ = await handshake([(b"cookie", cookie)])

    assert not connected


async def test_an_invalid_token_is_closed_as_unauthenticated():
    connected, code, _ = await handshake([(b"authorization", b"Token not-a-real-token")])

    assert not connected
    assert code == 4401


async def test_an_anonymous_browser_is_closed_as_unauthenticated():
    connected, code, _ = await handshake([(b"origin", b"http://127.0.0.1:8000")])

    assert not connected
    assert code == 4401


async def test_a_token_of_a_deactivated_user_is_refused(viewer):
    token = await sync_to_async(Token.objects.create)(user=viewer)
    viewer.is_active = False
    await sync_to_async(viewer.save)()

    connected, code, _ = await handshake([(b"authorization", f"Token {token.key}".encode())])

    assert not connected
    assert code == 4401
