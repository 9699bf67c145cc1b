"""Input limits (issue #12, part 4): what a client sends past a limit is refused cleanly.

Each limit answers with a 4xx and the error envelope (or closes a WebSocket with a code
that says why), never a 500 and never by doing the work: body size
(``DATA_UPLOAD_MAX_MEMORY_SIZE``), JSON depth (``CONDUCTOR_MAX_JSON_DEPTH``), WebSocket
message size (``CONDUCTOR_WS_MAX_MESSAGE_BYTES``) and upload size
(``CONDUCTOR_MAX_UPLOAD_BYTES``).
"""

from __future__ import annotations

import asyncio
import json
import re

import aiohttp
import httpx
import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.core.consumers import CLOSE_MESSAGE_TOO_BIG
from apps.personas.models import Persona
from conductor_site.asgi import application
from tests.envelope import assert_envelope
from tests.factories import ConversationFactory
from tests.subprocesses import child_env, manage, serving

DEFAULT_BODY_LIMIT = 2_621_440


def json_post(client: Client, path: str, raw: str | bytes):
    return client.generic("POST", path, raw, content_type="application/json")


def persona_body(content_size: int) -> str:
    return json.dumps({"name": "Big", "content": "a" * content_size})


def nested(depth: int) -> str:
    """A JSON document of ``depth`` nested arrays around a string."""
    return "[" * depth + '"x"' + "]" * depth


# --- Request body size -----------------------------------------------------------------


def test_the_body_limit_is_set_explicitly_with_djangos_default():
    assert django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE == DEFAULT_BODY_LIMIT


@pytest.mark.django_db
def test_a_json_body_over_the_default_limit_gets_413_and_creates_nothing(editor_client):
    response = json_post(editor_client, "/api/personas/", persona_body(DEFAULT_BODY_LIMIT))

    error = assert_envelope(response, 413, "payload_too_large")
    assert error["details"] == {"max_bytes": DEFAULT_BODY_LIMIT}
    assert not Persona.objects.filter(name="Big").exists()


@pytest.mark.django_db
def test_the_limit_follows_the_setting_to_the_byte(editor_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    fits = persona_body(4096 - len(persona_body(0)))

    assert len(fits) == 4096
    assert json_post(editor_client, "/api/personas/", fits).status_code == 201
    over = json_post(editor_client, "/api/personas/", fits.replace('"Big"', '"Bigger"'))
    assert_envelope(over, 413, "payload_too_large")


@pytest.mark.django_db
def test_the_seed_gateway_execute_route_refuses_a_large_body_before_running_anything(
    viewer_client, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    body = json.dumps({"agent_id": "assistant", "task": "a" * 5000})

    response = json_post(viewer_client, "/execute", body)

    assert_envelope(response, 413, "payload_too_large")


@pytest.mark.django_db
def test_a_plain_django_form_over_the_limit_gets_413_not_a_500(settings):
    """The admin reads request.POST: Django's own check, answered by handler400 as 413."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096

    response = Client().post("/admin/login/", {"username": "u" * 5000, "password": "p"})

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_a_form_encoded_api_body_over_the_limit_gets_the_413_envelope(editor_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096

    response = editor_client.post(
        "/api/personas/",
        "name=Big&content=" + "a" * 5000,
        content_type="application/x-www-form-urlencoded",
    )

    assert_envelope(response, 413, "payload_too_large")


@pytest.mark.django_db(transaction=True)
async def test_the_mcp_endpoint_refuses_a_body_over_the_limit_with_413(viewer):
    """/mcp/ bypasses Django: the SDK applies the same limit, before parsing the body."""
    token = await sync_to_async(Token.objects.create)(user=viewer)
    message = {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "a" * 3_000_000}}

    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        response = await client.post(
            "/mcp/",
            json=message,
            headers={
                "Authorization": f"Bearer {token.key}",
                "Accept": "application/json, text/event-stream",
            },
        )

    assert response.status_code == 413, response.text


# --- JSON depth ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_ten_thousand_nested_arrays_get_a_400_not_a_recursion_error(editor_client):
    response = json_post(editor_client, "/api/personas/", nested(10_000))

    error = assert_envelope(response, 400, "parse_error")
    assert "nested deeper than 64 levels" in error["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/portfolio/chat/", "/api/internal/task-event/"], ids=["public", "service"]
)
def test_views_with_their_own_parsers_refuse_deep_json_too(path, settings):
    """The public portfolio chat (anonymous) and the service-token ingest choose parsers."""
    settings.CONDUCTOR_SERVICE_TOKEN = "service-token-for-the-test"
    client = Client(HTTP_AUTHORIZATION="Bearer service-token-for-the-test")

    response = json_post(client, path, nested(3_000))

    assert_envelope(response, 400, "parse_error")


@pytest.mark.django_db
def test_depth_is_counted_inside_a_valid_object_too(editor_client):
    metadata = json.loads(nested(64))  # with the body's object: 65 levels
    body = json.dumps({"name": "Deep", "content": "c", "metadata": {"tree": metadata}})

    response = json_post(editor_client, "/api/personas/", body)

    assert_envelope(response, 400, "parse_error")
    assert not Persona.objects.filter(name="Deep").exists()


@pytest.mark.django_db
def test_a_document_at_the_depth_limit_is_parsed(editor_client, settings):
    settings.CONDUCTOR_MAX_JSON_DEPTH = 5
    # The body, metadata, a, b and the list: five levels.
    body = {"name": "Shallow", "content": "c", "metadata": {"a": {"b": {"c": ["d"]}}}}

    response = editor_client.post("/api/personas/", body, format="json")

    assert response.status_code == 201, response.content
    deeper = {**body, "name": "Deeper", "metadata": {"a": {"b": {"c": [["d"]]}}}}
    assert_envelope(editor_client.post("/api/personas/", deeper, format="json"), 400, "parse_error")


@pytest.mark.django_db
def test_malformed_json_still_gets_a_parse_error(editor_client):
    error = assert_envelope(json_post(editor_client, "/api/personas/", b'{"name": '), 400)

    assert error["code"] == "parse_error"
    assert error["message"].startswith("JSON parse error")


# --- WebSocket message size (and depth) ----------------------------------------------------


async def open_socket(user, path: str) -> WebsocketCommunicator:
    token = await sync_to_async(Token.objects.create)(user=user)
    communicator = WebsocketCommunicator(
        application, path, headers=[(b"authorization", f"Token {token.key}".encode())]
    )
    connected, _ = await communicator.connect()
    assert connected
    await communicator.receive_json_from()  # "connected"
    return communicator


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ws/ping/", "/ws/gamification/", "/ws/councilors/"])
async def test_a_message_over_the_limit_closes_the_socket_with_message_too_big(viewer, path):
    communicator = await open_socket(viewer, path)
    limit = django_settings.CONDUCTOR_WS_MAX_MESSAGE_BYTES
    ping = json.dumps({"type": "ping", "pad": ""})

    await communicator.send_to(text_data=ping.replace('""', '"' + "a" * (limit - len(ping)) + '"'))
    assert await communicator.receive_json_from() == {"type": "pong"}

    await communicator.send_to(text_data=json.dumps({"type": "ping", "pad": "é" * (limit // 2)}))
    closed = await communicator.receive_output()

    assert closed == {"type": "websocket.close", "code": CLOSE_MESSAGE_TOO_BIG}
    await communicator.wait()


@pytest.mark.django_db(transaction=True)
async def test_a_binary_message_over_the_limit_closes_the_socket_too(viewer):
    communicator = await open_socket(viewer, "/ws/gamification/")

    await communicator.send_to(
        bytes_data=b"\0" * (django_settings.CONDUCTOR_WS_MAX_MESSAGE_BYTES + 1)
    )

    assert await communicator.receive_output() == {
        "type": "websocket.close",
        "code": CLOSE_MESSAGE_TOO_BIG,
    }
    await communicator.wait()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ws/ping/", "/ws/gamification/"])
async def test_a_deeply_nested_message_is_answered_and_the_socket_survives(viewer, path):
    communicator = await open_socket(viewer, path)

    await communicator.send_to(text_data=nested(10_000))
    error = await communicator.receive_json_from()
    await communicator.send_json_to({"type": "ping"})

    assert error["type"] == "error"
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.slow
def test_under_manage_py_serve_the_limits_hold_through_daphne(tmp_path):
    """daphne delivers 4009 (an application code) and drops a message far over the limit
    (over apps.core.serving.websocket_transport_limit) without buffering all of it."""
    env = child_env(tmp_path / "data", CONDUCTOR_WS_MAX_MESSAGE_BYTES="2048")
    with serving(env, "--concurrency", "1") as served:
        username = re.search(r"Login:\s+username (\S+)", served.output).group(1)
        created = manage("drf_create_token", username, env=env)
        key = re.search(r"Generated token (\w+)", created.stdout).group(1)
        url = served.base.replace("http", "ws") + "/ws/ping/"
        over = asyncio.run(_close_code_after(url, key, 4096))
        far_over = asyncio.run(_close_code_after(url, key, 64 * 1024))

    assert over == CLOSE_MESSAGE_TOO_BIG
    assert far_over == aiohttp.WSCloseCode.ABNORMAL_CLOSURE


async def _close_code_after(url: str, key: str, size: int) -> int | None:
    """Pings, then sends a ping of ``size`` bytes; the close code the server answers with."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            url,
            headers={"Authorization": f"Token {key}"},
            timeout=aiohttp.ClientWSTimeout(ws_receive=15),
        ) as socket,
    ):
        assert (await socket.receive_json())["type"] == "connected"
        await socket.send_json({"type": "ping"})
        assert await socket.receive_json() == {"type": "pong"}
        await socket.send_str(json.dumps({"type": "ping", "pad": "a" * size}))
        closing = await socket.receive()
        assert closing.type in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED}, closing
        return socket.close_code


# --- Upload size ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_upload_over_the_upload_limit_is_refused_unread_with_413(viewer, settings):
    """The one upload route (a conversation's markdown context) also caps the file at 50 KB
    itself (tests/conversations/test_context_upload.py); this cap covers any multipart body."""
    settings.CONDUCTOR_MAX_UPLOAD_BYTES = 32 * 1024
    conversation = ConversationFactory(created_by=viewer)
    client = APIClient()
    client.force_authenticate(viewer)

    response = client.post(
        f"/api/conversations/{conversation.pk}/context/upload/",
        {"file": SimpleUploadedFile("context.md", b"# big\n" * 8000, content_type="text/markdown")},
        format="multipart",
    )

    error = assert_envelope(response, 413, "payload_too_large")
    assert error["details"] == {"max_bytes": 32 * 1024}
    conversation.refresh_from_db()
    assert conversation.context == ""


@pytest.mark.django_db
def test_an_upload_under_the_limit_still_works(viewer, settings):
    settings.CONDUCTOR_MAX_UPLOAD_BYTES = 32 * 1024
    conversation = ConversationFactory(created_by=viewer)
    client = APIClient()
    client.force_authenticate(viewer)

    response = client.post(
        f"/api/conversations/{conversation.pk}/context/upload/",
        {"file": SimpleUploadedFile("context.md", b"# small\n", content_type="text/markdown")},
        format="multipart",
    )

    assert response.status_code == 200, response.content
    assert response.json()["context"] == "# small\n"


@pytest.mark.django_db
def test_multipart_fields_over_the_body_limit_get_413(editor_client, settings):
    """Files aside, multipart form fields count against DATA_UPLOAD_MAX_MEMORY_SIZE."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096

    response = editor_client.post(
        "/api/personas/", {"name": "Big", "content": "a" * 5000}, format="multipart"
    )

    assert_envelope(response, 413, "payload_too_large")
    assert not Persona.objects.filter(name="Big").exists()
