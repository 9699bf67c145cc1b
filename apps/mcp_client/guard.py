"""Which addresses an HTTP MCP server may be at: web_fetch's SSRF guard, with its own allow-list.

A URL is judged twice. At registration, without DNS (:func:`url_problem`): scheme,
credentials, blocked names and literal addresses in any encoding. At connect time
(:func:`pinned_client`): the host is resolved once, every address checked, and every
request of the session goes to a checked address with the original Host header and
TLS server name, so a DNS answer that changes later (rebinding) reaches nothing new.
Internal servers are reached by listing them in ``settings.CONDUCTOR_MCP_CLIENT_ALLOW``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.conf import settings

from apps.tools import web_fetch
from apps.tools.web_fetch import BlockedAddress, Hop, WebFetchError

if TYPE_CHECKING:
    from types import TracebackType

    import httpx2

ALLOW_SETTING = "CONDUCTOR_MCP_CLIENT_ALLOW"
# The GET stream of a session stays open while the server has nothing to say.
STREAM_READ_TIMEOUT = 300.0


class GuardRefused(Exception):
    """The URL may not be connected to; the message says why."""


def allow_list() -> list[str]:
    return list(getattr(settings, ALLOW_SETTING))


def url_problem(url: str) -> str | None:
    """Why Conductor refuses ``url``, judged without DNS; None when it may be registered."""
    try:
        web_fetch.check_target(web_fetch.parse_url(url), allow_list())
    except WebFetchError as exc:
        return _explained(exc)
    return None


async def pin(url: str) -> Hop:
    """Checks ``url`` and resolves its host once (with ``web_fetch.resolve``)."""
    try:
        return await web_fetch.pin_hop(web_fetch.parse_url(url), allow=allow_list())
    except WebFetchError as exc:
        raise GuardRefused(_explained(exc)) from None


def _explained(exc: WebFetchError) -> str:
    if isinstance(exc, BlockedAddress):
        return f"{exc}; an internal MCP server must be listed in {ALLOW_SETTING}"
    return str(exc)


async def pinned_client(url: str, headers: dict[str, str], timeout_s: float) -> httpx2.AsyncClient:
    """A client for ``url``'s origin only, connecting to the addresses checked now.

    Raises GuardRefused. ``timeout_s`` bounds connecting and writing; a read waits at
    least STREAM_READ_TIMEOUT, as a session's event stream may stay quiet that long.
    """
    import httpx2

    hop = await pin(url)
    # Not an AsyncBaseTransport subclass: that would import httpx2 along with this
    # module, which registration (models, the API) imports.
    transport = cast("httpx2.AsyncBaseTransport", PinnedTransport(hop))
    return httpx2.AsyncClient(
        transport=transport,
        headers=headers,
        timeout=httpx2.Timeout(timeout_s, read=max(timeout_s, STREAM_READ_TIMEOUT)),
        follow_redirects=False,
        trust_env=False,
    )


def _origin(url: httpx2.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


class PinnedTransport:
    """An httpx2 transport (duck-typed) sending each request to the pinned addresses, in order.

    A request for another origin (scheme, host, port) is refused: its address was
    never checked.
    """

    def __init__(self, hop: Hop) -> None:
        import httpx2

        self.hop = hop
        self.origin = _origin(httpx2.URL(str(hop.url)))
        self.inner = httpx2.AsyncHTTPTransport(trust_env=False)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        import httpx2

        if _origin(request.url) != self.origin:
            raise httpx2.ConnectError(
                f"{request.url.scheme}://{request.url.netloc.decode('ascii')} is not the"
                f" registered server's origin",
                request=request,
            )
        error: httpx2.ConnectError | None = None
        for address in self.hop.addresses:
            try:
                return await self.inner.handle_async_request(self._to(request, str(address)))
            except httpx2.ConnectError as exc:
                error = exc
        assert error is not None  # a Hop has at least one address
        raise error

    def _to(self, request: httpx2.Request, address: str) -> httpx2.Request:
        """The request for ``address``: Host header and TLS server name keep the URL's name."""
        import httpx2

        return httpx2.Request(
            request.method,
            request.url.copy_with(host=address),
            headers=request.headers,
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": self.hop.host},
        )

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def __aenter__(self) -> PinnedTransport:
        await self.inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.inner.__aexit__(exc_type, exc, traceback)
