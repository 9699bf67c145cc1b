"""The ``web_fetch`` tool: one HTTP(S) request to a public address.

Every hop (the first request and each redirect) is validated and its host
resolved exactly once; the connection then goes to that address, with the
original Host header and TLS server name, so a DNS answer that changes between
the check and the connect (rebinding) cannot reach an internal address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlsplit

from django.conf import settings

from apps.runtime.tools import BaseTool, ToolCategory, ToolContext, ToolDefinition, ToolResult
from apps.tools import netguard
from apps.tools.netguard import IPAddress

if TYPE_CHECKING:
    import httpx

MAX_BODY_BYTES = 50 * 1024
MAX_REDIRECTS = 5
MAX_TIMEOUT = 30.0
MAX_URL_LENGTH = 8192
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
FORBIDDEN_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer"}
)
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
REPORTED_HEADERS = ("content-type", "content-length")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class WebFetchError(Exception):
    """A refusal or failure reported to the model as the tool's error."""


class BlockedAddress(WebFetchError):
    """The host is a blocked name or reaches a blocked address, and no allow entry matches."""


class FetchResult(TypedDict):
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: str
    truncated: bool
    redirects: list[dict[str, Any]]


@dataclass(frozen=True)
class FetchRequest:
    url: httpx.URL
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    timeout: float = MAX_TIMEOUT


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    literal: IPAddress | None


@dataclass(frozen=True)
class Hop:
    url: httpx.URL
    host: str
    addresses: list[IPAddress]


def resolve(host: str, port: int) -> list[str]:
    """The addresses a DNS name resolves to (tests replace this)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def tls_verify() -> ssl.SSLContext | bool:
    """What httpx verifies server certificates with (tests trust their own CA here)."""
    return True


# --- arguments -------------------------------------------------------------------


def max_timeout() -> float:
    return min(float(settings.CONDUCTOR_WEB_FETCH_TIMEOUT), MAX_TIMEOUT)


def parse_arguments(arguments: dict[str, Any]) -> FetchRequest:
    method = arguments.get("method", "GET")
    if method not in ("GET", "POST"):
        raise WebFetchError(f"method must be GET or POST, got {method!r}")
    body = arguments.get("body")
    if body is not None and (method != "POST" or not isinstance(body, str)):
        raise WebFetchError("body must be a string and is only allowed with POST")
    return FetchRequest(
        url=parse_url(arguments.get("url")),
        method=method,
        headers=_parse_headers(arguments.get("headers")),
        body=body,
        timeout=_parse_timeout(arguments.get("timeout")),
    )


def parse_url(value: Any) -> httpx.URL:
    import httpx  # at call time: httpx (and its CLI) would cost every manage.py command

    if not isinstance(value, str) or not value.strip():
        raise WebFetchError("url must be a non-empty string")
    if len(value) > MAX_URL_LENGTH:
        raise WebFetchError(f"url is longer than {MAX_URL_LENGTH} characters")
    try:
        return httpx.URL(value.strip())
    except (httpx.InvalidURL, ValueError) as exc:
        _refuse_encoded_address(value.strip())
        raise WebFetchError(f"invalid url: {exc}") from None


def _refuse_encoded_address(value: str) -> None:
    """httpx rejects dotted quads with leading zeros (0177.0.0.1); name the block anyway."""
    try:
        host = urlsplit(value).hostname or ""
        address = netguard.parse_ipv4_literal(netguard.normalize_host(host))
    except (netguard.InvalidHost, ValueError):
        return
    reason = netguard.blocked_reason(address) if address is not None else None
    if reason:
        raise WebFetchError(f"blocked address {address} ({reason}) for host {host}")


def _parse_headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WebFetchError("headers must be an object of strings")
    for name, text in value.items():
        _check_header(name, text)
    return dict(value)


def _check_header(name: Any, text: Any) -> None:
    if not isinstance(name, str) or not isinstance(text, str) or not _HEADER_NAME.match(name):
        raise WebFetchError(f"invalid header {name!r}")
    if "\r" in text or "\n" in text:
        raise WebFetchError(f"header {name!r} contains a line break")
    if name.lower() in FORBIDDEN_HEADERS:
        raise WebFetchError(f"header {name!r} may not be set")


def _parse_timeout(value: Any) -> float:
    limit = max_timeout()
    if value is None:
        return limit
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WebFetchError("timeout must be a number of seconds")
    if not 0 < value <= MAX_TIMEOUT:
        raise WebFetchError(f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
    return min(float(value), limit)


# --- hop validation ----------------------------------------------------------------


def check_target(url: httpx.URL, allow: Sequence[str]) -> Target:
    """Validates a URL without DNS: scheme, credentials, host syntax, blocked names and
    literal addresses (unless ``allow`` lists them); raises WebFetchError."""
    port = _check_url(url)
    try:
        host = netguard.normalize_host(url.raw_host.decode("ascii"))
        literal = netguard.parse_ip_literal(host)
        if literal is None:
            _check_name(host, port, allow)
    except (netguard.InvalidHost, UnicodeDecodeError) as exc:
        raise WebFetchError(str(exc)) from None
    if literal is not None:
        _check_address(url.host, host, literal, port, allow)
    return Target(host=host, port=port, literal=literal)


async def pin_hop(url: httpx.URL, allow: Sequence[str] | None = None) -> Hop:
    """Validates one hop's URL and resolves its host once; raises WebFetchError.

    ``allow``: the allow-list entries (netguard.is_allowed); CONDUCTOR_WEB_FETCH_ALLOW
    when None.
    """
    allow = settings.CONDUCTOR_WEB_FETCH_ALLOW if allow is None else allow
    target = check_target(url, allow)
    if target.literal is not None:
        return Hop(url=url, host=target.host, addresses=[target.literal])
    addresses = await _resolve(target.host, target.port)
    for address in addresses:
        _check_address(url.host, target.host, address, target.port, allow)
    return Hop(url=url, host=target.host, addresses=addresses)


def _check_url(url: httpx.URL) -> int:
    if url.scheme not in ("http", "https"):
        raise WebFetchError(f"scheme {url.scheme or '(none)'!r} is not allowed; use http or https")
    if url.userinfo:
        raise WebFetchError("credentials in the url (user:pass@) are not allowed")
    if not url.raw_host:
        raise WebFetchError("the url has no host")
    port = url.port or (443 if url.scheme == "https" else 80)
    if not 0 < port < 65536:
        raise WebFetchError(f"invalid port {port}")
    return port


def _check_name(host: str, port: int, allow: Sequence[str]) -> None:
    netguard.check_hostname(host)
    reason = netguard.blocked_name_reason(host)
    if reason and not netguard.is_allowed(allow, host, None, port):
        raise BlockedAddress(f"blocked host {host} ({reason})")


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        found = await asyncio.to_thread(resolve, host, port)
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
    except (OSError, ValueError) as exc:
        raise WebFetchError(f"could not resolve host {host}: {exc}") from None
    if not addresses:
        raise WebFetchError(f"could not resolve host {host}: no addresses")
    return addresses


def _check_address(
    shown: str, host: str, address: IPAddress, port: int, allow: Sequence[str]
) -> None:
    reason = netguard.blocked_reason(address)
    if reason and not netguard.is_allowed(allow, host, address, port):
        raise BlockedAddress(f"blocked address {address} ({reason}) for host {shown}")


# --- the exchange ------------------------------------------------------------------


async def fetch(request: FetchRequest) -> FetchResult:
    current = request
    redirects: list[dict[str, Any]] = []
    for hop_number in range(MAX_REDIRECTS + 1):
        hop = await _pin_numbered(current.url, hop_number)
        async with _exchange(hop, current) as response:
            target = _redirect_target(response, current.url)
            if target is None:
                return await _result(request.url, current.url, response, redirects)
        redirects.append({"status": response.status_code, "url": str(target)})
        current = _redirected(current, response.status_code, target)
    raise WebFetchError(
        f"too many redirects (more than {MAX_REDIRECTS}); the last was to {current.url}"
    )


async def _pin_numbered(url: httpx.URL, hop_number: int) -> Hop:
    try:
        return await pin_hop(url)
    except WebFetchError as exc:
        if hop_number == 0:
            raise
        raise WebFetchError(f"redirect {hop_number} to {url} refused: {exc}") from None


@asynccontextmanager
async def _exchange(hop: Hop, call: FetchRequest) -> AsyncIterator[httpx.Response]:
    import httpx

    client = httpx.AsyncClient(
        trust_env=False, follow_redirects=False, timeout=call.timeout, verify=tls_verify()
    )
    async with client:
        response = await _send_pinned(client, hop, call)
        try:
            yield response
        finally:
            await response.aclose()


async def _send_pinned(client: httpx.AsyncClient, hop: Hop, call: FetchRequest) -> httpx.Response:
    """Connects to the resolved address; Host and SNI keep the name the URL gave."""
    import httpx

    headers = httpx.Headers({"Accept-Encoding": "identity"})
    headers.update(call.headers)  # case-insensitive: the caller's Accept-Encoding wins
    headers["Host"] = hop.url.netloc.decode("ascii")
    content = call.body.encode() if call.body is not None else None
    error: Exception | None = None
    for address in hop.addresses:
        request = client.build_request(
            call.method,
            hop.url.copy_with(host=str(address)),
            headers=headers,
            content=content,
            extensions={"sni_hostname": hop.host},
        )
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectError as exc:
            error = exc
    raise WebFetchError(f"could not connect to {hop.host}: {error}")


def _redirect_target(response: httpx.Response, current: httpx.URL) -> httpx.URL | None:
    import httpx

    location = response.headers.get("location")
    if response.status_code not in REDIRECT_STATUSES or not location:
        return None
    try:
        return current.join(location)
    except (httpx.InvalidURL, ValueError) as exc:
        raise WebFetchError(f"invalid redirect location {location!r}: {exc}") from None


def _redirected(call: FetchRequest, status: int, target: httpx.URL) -> FetchRequest:
    """303 (and 301/302 after POST, as browsers do) turn into a GET without a body."""
    headers = _strip_credentials(call.headers, call.url, target)
    if status == 303 or (status in (301, 302) and call.method == "POST"):
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        return replace(call, url=target, method="GET", body=None, headers=headers)
    return replace(call, url=target, headers=headers)


def _strip_credentials(
    headers: dict[str, str], source: httpx.URL, target: httpx.URL
) -> dict[str, str]:
    """Authorization and cookies go only to the origin they were given for."""
    if (source.scheme, source.raw_host, source.port) == (
        target.scheme,
        target.raw_host,
        target.port,
    ):
        return headers
    return {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}


async def _result(
    requested: httpx.URL, final: httpx.URL, response: httpx.Response, redirects: list[Any]
) -> FetchResult:
    content, truncated = await _read_capped(response)
    return FetchResult(
        url=str(requested),
        final_url=str(final),
        status=response.status_code,
        headers={k: response.headers[k] for k in REPORTED_HEADERS if k in response.headers},
        body=content.decode(_charset(response), errors="replace"),
        truncated=truncated,
        redirects=redirects,
    )


async def _read_capped(response: httpx.Response) -> tuple[bytes, bool]:
    buffer = bytearray()
    async for chunk in response.aiter_bytes():
        buffer += chunk
        if len(buffer) > MAX_BODY_BYTES:
            return bytes(buffer[:MAX_BODY_BYTES]), True
    return bytes(buffer), False


def _charset(response: httpx.Response) -> str:
    charset = response.charset_encoding or "utf-8"
    try:
        "".encode(charset)
    except LookupError:
        return "utf-8"
    return charset


# --- the tool -------------------------------------------------------------------------


class WebFetchTool(BaseTool):
    definition = ToolDefinition(
        name="web_fetch",
        description=(
            "Fetch a public http(s) URL and return its status, a few headers and up to "
            "50 KB of the body as text. Redirects are followed (at most 5). Private, "
            "loopback and cloud-metadata addresses are refused."
        ),
        parameters={
            "type": "object",
            "properties": {
                "url": {"type": "string", "description": "An http or https URL."},
                "method": {"type": "string", "enum": ["GET", "POST"], "default": "GET"},
                "headers": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "Extra request headers.",
                },
                "body": {"type": "string", "description": "Request body (POST only)."},
                "timeout": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "maximum": MAX_TIMEOUT,
                    "description": "Seconds for the whole fetch, at most 30.",
                },
            },
            "required": ["url"],
            "additionalProperties": False,
        },
        category=ToolCategory.WEB,
        requires_approval=False,
    )

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        started = time.monotonic()
        try:
            request = parse_arguments(arguments)
            result = await _fetch_within(request)
        except WebFetchError as exc:
            return ToolResult(success=False, error=str(exc), duration_ms=_since(started))
        return ToolResult(success=True, result=result, duration_ms=_since(started))


async def _fetch_within(request: FetchRequest) -> FetchResult:
    import httpx

    try:
        async with asyncio.timeout(request.timeout):
            return await fetch(request)
    except (TimeoutError, httpx.TimeoutException):
        raise WebFetchError(
            f"timed out after {request.timeout:g} s fetching {request.url}"
        ) from None
    except httpx.HTTPError as exc:
        raise WebFetchError(
            f"request to {request.url} failed: {type(exc).__name__}: {exc}"
        ) from None


def _since(started: float) -> int:
    return max(1, int((time.monotonic() - started) * 1000))
