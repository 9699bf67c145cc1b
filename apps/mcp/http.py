"""The MCP server over streamable HTTP: bearer tokens, allowed hosts and the session manager.

The SDK's session manager must run (an ``async with`` around the app's life) before it
can serve a request. Under an ASGI server that speaks the lifespan protocol (uvicorn, for
``mcp_server --transport http``) the lifespan starts and stops it. daphne, which serves
the project (``manage.py serve``), sends no lifespan events: there the first MCP request
starts it, on a task of its own that drives the SDK app's lifespan and lives as long as
the event loop. A session manager belongs to one event loop, so a request on another loop
(only tests do that) gets a fresh one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from mcp.server.transport_security import TransportSecuritySettings

# The MCP SDK is imported where it is used, not here: conductor_site.asgi imports this
# module, and every server process would otherwise load the SDK before its first MCP
# request (tests/core/test_lazy_imports.py).

logger = logging.getLogger(__name__)

MCP_PATH = "/mcp"


# --- Allowed hosts (DNS-rebinding protection) --------------------------------------


def allowed_hosts() -> list[str]:
    """``CONDUCTOR_MCP_ALLOWED_HOSTS`` (default: ``ALLOWED_HOSTS``), each on any port too.

    A leading dot (Django's "any subdomain") keeps only the domain itself: the SDK
    compares Host headers exactly.
    """
    hosts: list[str] = []
    for entry in settings.CONDUCTOR_MCP_ALLOWED_HOSTS:
        host = entry.lstrip(".")
        hosts += [host, f"{host}:*"]
    return hosts


def transport_security() -> TransportSecuritySettings:
    """Requests whose Host (or Origin, when sent) is not allowed answer 421 (or 403).

    ``*`` among the allowed hosts turns the check off, as it does for Django.
    """
    from mcp.server.transport_security import TransportSecuritySettings

    if "*" in settings.CONDUCTOR_MCP_ALLOWED_HOSTS:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    hosts = allowed_hosts()
    origins = [f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[*origins, *settings.CSRF_TRUSTED_ORIGINS],
    )


# --- Bearer tokens -------------------------------------------------------------------


class RequireBearer:
    """HTTP requests without a valid DRF bearer token answer 401; lifespan passes through."""

    def __init__(self, app: ASGIApp) -> None:
        from mcp.server.auth.middleware.bearer_auth import RequireAuthMiddleware

        self._require = RequireAuthMiddleware(app, required_scopes=[])
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._require(scope, receive, send)
        else:
            await self._app(scope, receive, send)


def build_http_app() -> ASGIApp:
    """The SDK's streamable HTTP app at ``/mcp`` (with its own session manager), behind
    the SDK's bearer middleware fed by DRF tokens."""
    from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend
    from starlette.middleware.authentication import AuthenticationMiddleware

    from apps.mcp.identity import DrfTokenVerifier
    from apps.mcp.server import server

    sdk_app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        transport_security=transport_security(),
        # The SDK answers a larger body 413 before parsing it; the API's limit applies too.
        max_request_body_size=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
    )
    backend = BearerAuthBackend(DrfTokenVerifier())
    return AuthenticationMiddleware(RequireBearer(sdk_app), backend=backend)


# --- The session manager's lifespan ---------------------------------------------------


class _Running:
    """One app (and session manager) started on one event loop by driving its lifespan."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.loop = asyncio.get_running_loop()
        self.ready = asyncio.Event()
        self.failure: str | None = None
        self._stop = asyncio.Event()
        self._task = self.loop.create_task(self._drive(), name="mcp-session-manager")

    async def _drive(self) -> None:
        messages = iter([{"type": "lifespan.startup"}])

        async def receive() -> Message:
            message = next(messages, None)
            if message is not None:
                return message
            await self._stop.wait()
            return {"type": "lifespan.shutdown"}

        async def send(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                self.failure = message.get("message", "startup failed")
            if message["type"].startswith("lifespan.startup."):
                self.ready.set()

        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        try:
            await self.app(scope, receive, send)
        except Exception:
            logger.exception("the MCP session manager failed")
        finally:
            self.failure = self.failure or "the MCP session manager stopped"
            self.ready.set()

    async def stop(self) -> None:
        self._stop.set()
        await self._task


class McpApp:
    """The MCP endpoint as an ASGI app that starts its session manager when needed."""

    def __init__(self, build: Callable[[], ASGIApp] = build_http_app) -> None:
        self._build = build
        self._running: _Running | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        running = await self._started()
        await running.app(scope, receive, send)

    async def _started(self) -> _Running:
        running = self._running
        if running is None or running.loop is not asyncio.get_running_loop():
            running = self._running = _Running(self._build())
        await running.ready.wait()
        if running.failure is not None:
            raise RuntimeError(f"the MCP endpoint could not start: {running.failure}")
        return running

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """The ASGI lifespan protocol, for servers that speak it."""
        message = await receive()
        assert message["type"] == "lifespan.startup"
        try:
            await self._started()
        except RuntimeError as exc:
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        running, self._running = self._running, None
        if running is not None:
            await running.stop()
        await send({"type": "lifespan.shutdown.complete"})


class McpMount:
    """Serves ``/mcp`` and ``/mcp/`` from the MCP app and every other path from ``app``."""

    def __init__(self, app: Any, mcp: ASGIApp) -> None:
        self._app = app
        self._mcp = mcp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/") == MCP_PATH:
            scope = {**scope, "path": MCP_PATH, "raw_path": MCP_PATH.encode()}
            await self._mcp(scope, receive, send)
            return
        await self._app(scope, receive, send)
