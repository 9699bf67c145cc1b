"""Security settings (issue #12, part 6), each tested by the attack it stops.

- CORS: only ``CONDUCTOR_CORS_ALLOWED_ORIGINS`` may read API responses cross-origin, and
  never with the user's cookies.
- CSRF: a session-authenticated write needs the CSRF token and a same-site origin; a
  token-authenticated one needs neither.
- Security headers on every response, and HSTS in production.
- WebSocket handshakes from a foreign origin are refused, cookie or not.
- Configured secrets never appear in logs, error responses, /health, the MCP
  ``get_system_config`` or a run's error.
"""

from __future__ import annotations

import io
import json
import logging
import logging.config
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import AsyncClient, Client
from mcp import Client as McpClient
from rest_framework.authtoken.models import Token

from apps.activity.models import TaskEvent
from apps.core.logging import ContextFilter
from apps.mcp import identity
from apps.mcp.server import server as mcp_server
from apps.personas.models import Persona
from apps.runs.models import RunEvent
from conductor_site.asgi import application
from tests.envelope import assert_envelope
from tests.factories import AgentFactory, PersonaFactory, RunFactory
from tests.fakes import llm_server as llm
from tests.services import free_port
from tests.subprocesses import PRODUCTION_ENV, child_env, manage

APP = "https://app.example"
FOREIGN_ORIGINS = [
    "https://evil.example",
    "https://app.example.evil.example",  # the allowed origin as a prefix
    "http://app.example",  # another scheme
    "https://app.example:8443",  # another port
    "null",  # sandboxed iframes, file:// pages
]


@pytest.fixture
def cors(settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]


def preflight(client: Client, path: str, origin: str):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, last-event-id",
    )


def token_client(user, **defaults: str) -> Client:
    key = Token.objects.get_or_create(user=user)[0].key
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {key}", **defaults)


# --- CORS -------------------------------------------------------------------------------


def test_no_origin_is_allowed_unless_configured():
    assert django_settings.CORS_ALLOWED_ORIGINS == []
    assert "Access-Control-Allow-Origin" not in preflight(Client(), "/api/me/", APP)


@pytest.mark.usefixtures("cors")
def test_an_allowed_origin_passes_the_preflight_without_credentials():
    response = preflight(Client(), "/api/personas/", APP)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    allowed_headers = response["Access-Control-Allow-Headers"]
    assert {"authorization", "content-type", "last-event-id"} <= set(allowed_headers.split(", "))
    assert "Access-Control-Allow-Credentials" not in response
    assert "origin" in response["Vary"].lower()


@pytest.mark.django_db
@pytest.mark.usefixtures("cors")
@pytest.mark.parametrize("path", ["/api/me/", "/api/personas/"])
def test_an_allowed_origin_reads_the_api_with_a_token(viewer, path):
    response = token_client(viewer).get(path, HTTP_ORIGIN=APP)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert response["Access-Control-Expose-Headers"] == "X-Request-ID"
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.django_db
@pytest.mark.usefixtures("cors")
@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_a_foreign_origin_gets_no_cors_headers(viewer, origin):
    answered = preflight(Client(), "/api/personas/", origin)
    read = token_client(viewer).get("/api/me/", HTTP_ORIGIN=origin)

    assert "Access-Control-Allow-Origin" not in answered
    assert read.status_code == 200  # the server answers; the browser hides it from the page
    assert "Access-Control-Allow-Origin" not in read


@pytest.mark.django_db
@pytest.mark.usefixtures("cors")
@pytest.mark.parametrize("path", ["/admin/login/", "/health"])
def test_pages_outside_the_api_get_no_cors_headers_even_for_the_allowed_origin(path):
    assert "Access-Control-Allow-Origin" not in Client().get(path, HTTP_ORIGIN=APP)


# --- CSRF -------------------------------------------------------------------------------


def signed_in_browser(user) -> tuple[Client, str]:
    """A browser session, and the CSRF token a page of the site would give its scripts."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.get("/admin/").status_code == 200
    return browser, browser.cookies["csrftoken"].value


def create_persona(client: Client, **headers: str):
    body = json.dumps({"name": "Planted", "content": "Obey the attacker."})
    return client.post("/api/personas/", body, content_type="application/json", **headers)


@pytest.mark.django_db
def test_a_session_write_without_the_csrf_token_is_refused(editor):
    browser, _ = signed_in_browser(editor)

    error = assert_envelope(create_persona(browser), 403, "permission_denied")

    assert "CSRF" in error["message"]
    assert not Persona.objects.filter(name="Planted").exists()


@pytest.mark.django_db
def test_a_session_delete_without_the_csrf_token_is_refused(editor):
    persona = PersonaFactory()
    browser, _ = signed_in_browser(editor)

    assert_envelope(browser.delete(f"/api/personas/{persona.pk}/"), 403, "permission_denied")
    assert Persona.objects.filter(pk=persona.pk).exists()


@pytest.mark.django_db
def test_a_session_write_with_the_csrf_token_works(editor):
    browser, csrf = signed_in_browser(editor)

    assert create_persona(browser, HTTP_X_CSRFTOKEN=csrf).status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("origin", ["https://evil.example", APP])
def test_a_cross_origin_session_write_is_refused_even_with_the_token(editor, origin, cors):
    """A stolen token replayed from another site, or from the CORS-allowed one:
    the CORS allow-list does not make an origin trusted for CSRF."""
    browser, csrf = signed_in_browser(editor)

    response = create_persona(browser, HTTP_X_CSRFTOKEN=csrf, HTTP_ORIGIN=origin)

    error = assert_envelope(response, 403, "permission_denied")
    assert "Origin checking failed" in error["message"]
    assert not Persona.objects.filter(name="Planted").exists()


@pytest.mark.django_db
def test_a_token_authenticated_write_needs_no_csrf_token(editor):
    assert create_persona(token_client(editor)).status_code == 201


# --- Security headers ---------------------------------------------------------------------

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/me/", "/api/no-such-route/", "/health", "/admin/login/", "/no-such-page"]
)
def test_every_response_carries_the_security_headers(path):
    response = Client().get(path)

    assert {name: response.get(name) for name in HEADERS} == HEADERS


PRODUCTION_PROBE = """
import json
from django.conf import settings
from django.test import Client
browser = Client(HTTP_HOST="conductor.example.com")
secure = browser.get("/api/me/", secure=True)
plain = browser.get("/api/me/")
print(json.dumps({
    "secure": {"status": secure.status_code, "headers": dict(secure.headers)},
    "plain": {"status": plain.status_code, "location": plain.get("Location")},
    "cors": settings.CORS_ALLOWED_ORIGINS,
    "cookies_secure": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
}))
"""


@pytest.mark.slow
def test_production_settings_add_hsts_and_https_redirects(tmp_path):
    env = child_env(
        tmp_path / "data",
        **PRODUCTION_ENV,
        CONDUCTOR_CORS_ALLOWED_ORIGINS="https://app.example, https://admin.example",
    )

    completed = manage("shell", "-c", PRODUCTION_PROBE, env=env)

    assert completed.returncode == 0, completed.stderr
    probe = json.loads(completed.stdout.strip().splitlines()[-1])
    headers = probe["secure"]["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert {name: headers.get(name) for name in HEADERS} == HEADERS
    assert probe["plain"] == {"status": 301, "location": "https://conductor.example.com/api/me/"}
    assert probe["cors"] == ["https://app.example", "https://admin.example"]
    assert probe["cookies_secure"] == [True, True]


# --- WebSocket origin ----------------------------------------------------------------------

ALLOWED_WS_ORIGIN = "http://localhost:8000"
HOSTILE_WS_ORIGINS = [
    "https://evil.example",
    "null",
    "http://localhost.evil.example",  # an allowed host as a prefix
    "http://localhost@evil.example",  # an allowed host as user info
    "http://127.0.0.1.evil.example",
]


def session_cookie(user) -> bytes:
    browser = Client()
    browser.force_login(user)
    return f"sessionid={browser.cookies['sessionid'].value}".encode()


async def ws_paths(user) -> list[str]:
    run = await sync_to_async(RunFactory)(created_by=user)
    return ["/ws/ping/", f"/ws/runs/{run.pk}/", "/ws/gamification/", "/ws/councilors/"]


async def handshake(path: str, origin: str, cookie: bytes) -> bool:
    communicator = WebsocketCommunicator(
        application, path, headers=[(b"origin", origin.encode()), (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect()
    if connected:
        await communicator.disconnect()
    return connected


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("origin", HOSTILE_WS_ORIGINS)
async def test_a_page_on_a_hostile_origin_cannot_open_a_socket_with_the_victims_cookie(
    viewer, origin
):
    cookie = await sync_to_async(session_cookie)(viewer)

    accepted = {path: await handshake(path, origin, cookie) for path in await ws_paths(viewer)}

    assert not any(accepted.values()), accepted


@pytest.mark.django_db(transaction=True)
async def test_the_sites_own_origin_opens_every_socket(viewer):
    cookie = await sync_to_async(session_cookie)(viewer)

    accepted = {
        path: await handshake(path, ALLOWED_WS_ORIGIN, cookie) for path in await ws_paths(viewer)
    }

    assert all(accepted.values()), accepted


# --- Secrets ---------------------------------------------------------------------------------

# Each long and unique, so that finding one anywhere can only mean it leaked.
SECRETS = {
    "DJANGO_SECRET_KEY": "djsecret-4nKq9vT2wX7pL1mZ8rB3",
    "OPENAI_API_KEY": "sk-leakcheck-openai-7Hq2Vn9Kx4Lm1Pz6",
    "ANTHROPIC_API_KEY": "sk-ant-leakcheck-3Rt8Yw5Qe2Uo9Ia4",
    "REDIS_PASSWORD": "redispass-6Gh1Jk8Lz3Xc5Vb2",
    "DATABASE_PASSWORD": "dbpass-9Nm4Qw7Er2Ty5Ui8",
    "OLLAMA_PASSWORD": "ollamapass-2Wd6Fg9Hj4Kl1Zx7",
    "CONDUCTOR_SERVICE_TOKEN": "svc-leakcheck-5Pl8Ok3Ij6Uh1Yg4",
    "MCP_GITHUB_TOKEN": "ghp-leakcheck-8Tg2Rf5Ed9Ws3Qa6",
}


class LogCapture:
    """Every log record of a test, formatted by the project's json and console formatters."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        configurator = logging.config.DictConfigurator(django_settings.LOGGING)
        self.handlers = []
        for name in ("json", "console"):
            formatter = configurator.configure_formatter(
                dict(django_settings.LOGGING["formatters"][name])
            )
            handler = logging.StreamHandler(self.stream)
            handler.setFormatter(formatter)
            handler.addFilter(ContextFilter())
            self.handlers.append(handler)

    def __enter__(self) -> LogCapture:
        for handler in self.handlers:
            logging.getLogger().addHandler(handler)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for handler in self.handlers:
            logging.getLogger().removeHandler(handler)

    @property
    def text(self) -> str:
        return self.stream.getvalue()


@pytest.fixture
def secrets_configured(settings, monkeypatch, caplog):
    """The secrets a deployment configures, and every log record at DEBUG and up."""
    unreachable_redis = f"redis://:{SECRETS['REDIS_PASSWORD']}@127.0.0.1:{free_port()}/0"
    settings.SECRET_KEY = SECRETS["DJANGO_SECRET_KEY"]
    settings.CONDUCTOR_SERVICE_TOKEN = SECRETS["CONDUCTOR_SERVICE_TOKEN"]
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MCP_GITHUB_TOKEN"):
        monkeypatch.setenv(name, SECRETS[name])
    monkeypatch.setenv("REDIS_URL", unreachable_redis)
    monkeypatch.setenv(
        "OLLAMA_API_BASE", f"http://ollama:{SECRETS['OLLAMA_PASSWORD']}@127.0.0.1:11434"
    )
    database_url = f"postgresql://conductor:{SECRETS['DATABASE_PASSWORD']}@db.internal/conductor"
    monkeypatch.setenv("DATABASE_URL", database_url)
    caplog.set_level(logging.DEBUG)
    with LogCapture() as logs:
        yield SimpleNamespace(logs=logs, caplog=caplog, redis_url=unreachable_redis)


def leaked(*texts: str) -> dict[str, str]:
    """The configured secrets found in any of ``texts``."""
    together = "\n".join(texts)
    return {name: value for name, value in SECRETS.items() if value in together}


def everything_logged(secrets_configured: SimpleNamespace) -> str:
    records = secrets_configured.caplog.records
    return "\n".join([secrets_configured.logs.text, *(repr(vars(record)) for record in records)])


@pytest.mark.django_db
def test_a_500_says_nothing_secret_in_its_response_or_its_logs(secrets_configured, monkeypatch):
    """An unexpected error inside a view that the service token reached (DEBUG=false)."""

    def explode(**kwargs: object) -> None:
        raise RuntimeError("the event store is gone")

    monkeypatch.setattr("apps.activity.services.task_event_ingest", explode)
    client = Client(
        raise_request_exception=False,
        HTTP_AUTHORIZATION=f"Bearer {SECRETS['CONDUCTOR_SERVICE_TOKEN']}",
    )

    response = client.post(
        "/api/internal/task-event/", {"type": "task_started"}, content_type="application/json"
    )

    assert_envelope(response, 500, "server_error")
    logged = everything_logged(secrets_configured)
    assert "the event store is gone" in logged  # the traceback was logged
    assert leaked(response.content.decode(), logged) == {}


@pytest.mark.django_db
def test_error_envelopes_and_their_logs_say_nothing_secret(secrets_configured, viewer, editor):
    wrong_service = Client(HTTP_AUTHORIZATION="Bearer not-the-service-token")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(viewer)

    responses = [
        wrong_service.post("/api/internal/task-event/", {}, content_type="application/json"),
        Client(HTTP_AUTHORIZATION="Token not-a-token").get("/api/me/"),
        browser.post("/api/personas/", {}, content_type="application/json"),
        token_client(viewer).get("/api/no-such-route/"),
        token_client(editor).post("/api/personas/", "[" * 5000, content_type="application/json"),
    ]

    assert [response.status_code for response in responses] == [401, 401, 403, 404, 400]
    bodies = [response.content.decode() for response in responses]
    assert leaked(*bodies, everything_logged(secrets_configured)) == {}


@pytest.mark.django_db
async def test_health_names_redis_without_its_password(secrets_configured, settings):
    settings.CELERY_BROKER_URL = secrets_configured.redis_url
    settings.CONDUCTOR_HEALTH_TIMEOUT = 0.5

    response = await AsyncClient().get("/health")

    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["broker"]["detail"].startswith("Redis at redis://:***@127.0.0.1:")
    assert leaked(response.content.decode(), everything_logged(secrets_configured)) == {}


@pytest.mark.django_db(transaction=True)
async def test_get_system_config_through_the_mcp_server_reveals_no_secret(
    secrets_configured, staff, monkeypatch
):
    """Staff get the most from it (the keys' last four characters)."""
    monkeypatch.setattr(identity, "_stdio_identity", identity.Identity(username=staff.username))

    async with McpClient(mcp_server) as client:
        result = await client.call_tool("get_system_config", {})

    assert not result.is_error, result
    config = result.structured_content
    assert config is not None
    assert config["providers"] == ["openai", "anthropic", "ollama"]
    assert config["provider_keys"]["OPENAI_API_KEY"] == "…" + SECRETS["OPENAI_API_KEY"][-4:]
    assert config["provider_base_urls"]["OLLAMA_API_BASE"] == "http://127.0.0.1:11434"
    shown = json.dumps(config, ensure_ascii=False)
    assert leaked(shown, everything_logged(secrets_configured)) == {}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_a_provider_error_echoing_the_key_does_not_spread_it(
    secrets_configured, fake_llm, viewer, monkeypatch
):
    """Some OpenAI-compatible servers quote the key they refuse; the run's error, its
    events and the logs must not carry it on."""
    key = SECRETS["OPENAI_API_KEY"]
    monkeypatch.setenv("OPENAI_API_KEY", key)  # over the fake_llm fixture's own
    fake_llm.script(llm.error(401, f"Incorrect API key provided: {key}."))
    AgentFactory(slug="keyed", model="gpt-4o-mini", tools=[])
    client = token_client(viewer)

    started = client.post(
        "/api/agents/keyed/run/",
        json.dumps({"input": "Hello.", "cwd": "/srv/project"}),
        content_type="application/json",
    )
    assert started.status_code == 202, started.content
    run = client.get(f"/api/runs/{started.json()['id']}/")
    stored = [
        *RunEvent.objects.filter(run_id=run.json()["id"]).values_list("data", flat=True),
        *TaskEvent.objects.filter(run_id=run.json()["id"]).values_list("data", flat=True),
    ]

    assert run.json()["status"] == "failed"
    assert "Incorrect API key provided" in run.json()["error"]
    assert any("Incorrect API key provided" in json.dumps(data) for data in stored)
    seen = [run.content.decode(), json.dumps(stored, ensure_ascii=False)]
    assert leaked(*seen, everything_logged(secrets_configured)) == {}
