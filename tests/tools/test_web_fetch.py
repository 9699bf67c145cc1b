"""web_fetch against a local http.server on loopback, reachable through the allow-list."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from apps.runtime.tools import ToolContext, ToolResult
from apps.tools import web_fetch
from apps.tools.web_fetch import MAX_BODY_BYTES, WebFetchTool

BIG_BODY = b"a" * (MAX_BODY_BYTES * 2 + 17)


class WebHandler(BaseHTTPRequestHandler):
    server: WebServer

    def do_GET(self) -> None:
        self.server.record(self, b"")
        self._route()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.record(self, body)
        self._route(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _route(self, body: bytes = b"") -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/redirect":
            return self._send(int(query.get("status", "302")), b"", location=query["to"])
        if parts.path.startswith("/loop/"):
            step = int(parts.path.rsplit("/", 1)[1])
            return self._send(302, b"", location=f"/loop/{step + 1}")
        if parts.path == "/echo":
            return self._send(200, self._echo(body), "application/json")
        if parts.path == "/big":
            return self._send(200, BIG_BODY)
        if parts.path == "/slow":
            self.server.stopping.wait(10)
        self._send(200, f"hello from {self.server.label}".encode())

    def _echo(self, body: bytes) -> bytes:
        headers = {k.lower(): v for k, v in self.headers.items()}
        seen = {"method": self.command, "headers": headers, "body": body.decode()}
        return json.dumps(seen).encode()

    def _send(
        self, status: int, body: bytes, content_type: str = "text/plain", location: str = ""
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(body)


class WebServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0, label: str = "web") -> None:
        super().__init__((host, port), WebHandler)
        self.label = label
        self.stopping = threading.Event()
        self.seen: list[dict[str, Any]] = []
        self.server_names: list[str | None] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def record(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        self.seen.append({"path": handler.path, "headers": headers, "body": body})

    def url(self, path: str = "/", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


@contextmanager
def serving(server: WebServer) -> Iterator[WebServer]:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()


def fake_resolver(table: dict[str, list[str]], calls: list[tuple[str, int]]) -> Callable:
    def resolve(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return table[host]

    return resolve


async def fetch(**arguments: Any) -> ToolResult:
    return await WebFetchTool().run(arguments, ToolContext(run_id="t", user_id=None, cwd="/"))


def refuse_name_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real DNS: only IP literals reach getaddrinfo; names go through patched resolvers."""
    real = socket.getaddrinfo

    def literal_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        text = host.decode() if isinstance(host, bytes) else str(host)
        try:
            ipaddress.ip_address(text)
        except ValueError:
            raise socket.gaierror(f"tests do not resolve {text!r}") from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", literal_only)


def allow_listed_server(settings: Any) -> Iterator[WebServer]:
    server = WebServer(label="main")
    settings.CONDUCTOR_WEB_FETCH_ALLOW = [f"127.0.0.1:{server.port}"]
    with serving(server):
        yield server


@pytest.fixture(autouse=True)
def web_no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_name_lookups(monkeypatch)


@pytest.fixture
def web_server(settings: Any) -> Iterator[WebServer]:
    yield from allow_listed_server(settings)


@pytest.fixture
def web_other_server(settings: Any, web_server: WebServer) -> Iterator[WebServer]:
    server = WebServer(label="other")
    settings.CONDUCTOR_WEB_FETCH_ALLOW = [
        *settings.CONDUCTOR_WEB_FETCH_ALLOW,
        f"127.0.0.1:{server.port}",
    ]
    with serving(server):
        yield server


async def test_it_fetches_a_page_with_status_headers_and_body(web_server: WebServer) -> None:
    result = await fetch(url=web_server.url("/hello"))

    assert result.success, result.error
    assert result.result["status"] == 200
    assert result.result["body"] == "hello from main"
    assert result.result["headers"] == {"content-type": "text/plain", "content-length": "15"}
    assert result.result["truncated"] is False
    assert result.result["redirects"] == []
    assert result.result["final_url"] == web_server.url("/hello")
    assert result.duration_ms > 0


async def test_it_posts_a_body_with_the_given_headers(web_server: WebServer) -> None:
    result = await fetch(
        url=web_server.url("/echo"),
        method="POST",
        body='{"q": "conductor"}',
        headers={"Content-Type": "application/json", "X-Trace": "abc"},
    )

    seen = json.loads(result.result["body"])
    assert seen["method"] == "POST"
    assert seen["body"] == '{"q": "conductor"}'
    assert seen["headers"]["x-trace"] == "abc"
    assert seen["headers"]["content-type"] == "application/json"
    assert seen["headers"]["host"] == f"127.0.0.1:{web_server.port}"


async def test_it_caps_the_body_at_50_kb_and_marks_it_truncated(web_server: WebServer) -> None:
    result = await fetch(url=web_server.url("/big"))

    assert result.success
    assert len(result.result["body"]) == MAX_BODY_BYTES
    assert result.result["truncated"] is True


async def test_it_reports_a_timeout_quickly(web_server: WebServer) -> None:
    started = time.monotonic()
    result = await fetch(url=web_server.url("/slow"), timeout=0.5)

    assert result.success is False
    assert "timed out after 0.5 s" in (result.error or "")
    assert time.monotonic() - started < 5


async def test_the_timeout_setting_bounds_the_default(web_server: WebServer, settings: Any) -> None:
    settings.CONDUCTOR_WEB_FETCH_TIMEOUT = 0.3
    started = time.monotonic()
    result = await fetch(url=web_server.url("/slow"), timeout=20)

    assert "timed out after 0.3 s" in (result.error or "")
    assert time.monotonic() - started < 5


async def test_it_follows_a_redirect_within_the_allowed_server(web_server: WebServer) -> None:
    result = await fetch(url=web_server.url("/redirect?to=/hello"))

    assert result.success, result.error
    assert result.result["body"] == "hello from main"
    assert result.result["final_url"] == web_server.url("/hello")
    assert result.result["redirects"] == [{"status": 302, "url": web_server.url("/hello")}]


async def test_a_307_keeps_the_method_and_body(web_server: WebServer) -> None:
    result = await fetch(
        url=web_server.url("/redirect?to=/echo&status=307"), method="POST", body="payload"
    )

    seen = json.loads(result.result["body"])
    assert (seen["method"], seen["body"]) == ("POST", "payload")


async def test_a_303_turns_a_post_into_a_get(web_server: WebServer) -> None:
    result = await fetch(
        url=web_server.url("/redirect?to=/echo&status=303"), method="POST", body="payload"
    )

    seen = json.loads(result.result["body"])
    assert (seen["method"], seen["body"]) == ("GET", "")


async def test_credentials_are_not_forwarded_to_another_origin(
    web_server: WebServer, web_other_server: WebServer
) -> None:
    target = web_other_server.url("/echo")
    result = await fetch(
        url=web_server.url(f"/redirect?to={target}"),
        headers={"Authorization": "Bearer secret", "X-Trace": "abc"},
    )

    seen = json.loads(result.result["body"])
    assert "authorization" not in seen["headers"]
    assert seen["headers"]["x-trace"] == "abc"
    assert web_server.seen[0]["headers"]["authorization"] == "Bearer secret"


async def test_a_resolved_name_keeps_its_host_header(
    web_server: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(web_fetch, "resolve", fake_resolver({"docs.test": ["127.0.0.1"]}, calls))

    result = await fetch(url=web_server.url("/echo", host="Docs.Test"))

    seen = json.loads(result.result["body"])
    assert seen["headers"]["host"] == f"docs.test:{web_server.port}"
    assert calls == [("docs.test", web_server.port)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"method": "DELETE"}, "method must be GET or POST"),
        ({"body": "x"}, "only allowed with POST"),
        ({"timeout": 31}, "at most 30 seconds"),
        ({"timeout": 0}, "more than 0"),
        ({"timeout": "5"}, "timeout must be a number"),
        ({"headers": ["X-A"]}, "headers must be an object"),
        ({"headers": {"X-A": 1}}, "invalid header"),
        ({"headers": {"Host": "evil.test"}}, "may not be set"),
        ({"headers": {"X-A": "a\r\nX-B: b"}}, "line break"),
        ({"url": ""}, "url must be a non-empty string"),
        ({"url": None}, "url must be a non-empty string"),
        ({"url": "http://exa mple.com/"}, "invalid host name"),
        ({"url": "/relative/path"}, "not allowed; use http or https"),
    ],
)
async def test_it_returns_an_error_result_for_invalid_arguments(
    web_server: WebServer, arguments: dict[str, Any], message: str
) -> None:
    result = await fetch(**{"url": web_server.url("/hello"), **arguments})

    assert result.success is False
    assert message in (result.error or "")
    assert web_server.seen == []


async def test_it_reports_an_unresolvable_name() -> None:
    result = await fetch(url="http://nowhere.test/")

    assert result.success is False
    assert "could not resolve host nowhere.test" in (result.error or "")


# --- https: the pinned address still gets the name's SNI and certificate check -------


def _certificate_pair() -> tuple[bytes, bytes, bytes]:
    """A CA certificate, and a key and certificate it issued for web.test."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "web_fetch test CA")])
    now = dt.datetime.now(dt.UTC)

    def build(subject: x509.Name, public: Any, ca: bool) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )

    ca = build(ca_name, ca_key.public_key(), True).sign(ca_key, hashes.SHA256())
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "web.test")])
    leaf = (
        build(leaf_name, key.public_key(), False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("web.test")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca.public_bytes(pem), key_pem, leaf.public_bytes(pem)


@pytest.fixture
def web_tls_server(
    settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WebServer]:
    ca_pem, key_pem, cert_pem = _certificate_pair()
    (tmp_path / "key.pem").write_bytes(key_pem)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = WebServer(label="tls")
    context.sni_callback = lambda sock, name, ctx: server.server_names.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    settings.CONDUCTOR_WEB_FETCH_ALLOW = [f"127.0.0.1:{server.port}"]
    trusted = ssl.create_default_context(cadata=ca_pem.decode())
    monkeypatch.setattr(web_fetch, "tls_verify", lambda: trusted)
    table = {"web.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}
    monkeypatch.setattr(web_fetch, "resolve", fake_resolver(table, []))
    with serving(server):
        yield server


async def test_https_to_a_pinned_address_sends_sni_and_verifies_the_name(
    web_tls_server: WebServer,
) -> None:
    result = await fetch(url=web_tls_server.url("/echo", host="web.test", scheme="https"))

    assert result.success, result.error
    assert json.loads(result.result["body"])["headers"]["host"] == f"web.test:{web_tls_server.port}"
    assert web_tls_server.server_names == ["web.test"]


async def test_https_refuses_a_certificate_for_another_name(web_tls_server: WebServer) -> None:
    result = await fetch(url=web_tls_server.url("/hello", host="other.test", scheme="https"))

    assert result.success is False
    assert "CERTIFICATE_VERIFY_FAILED" in (result.error or "")
    assert web_tls_server.seen == []
