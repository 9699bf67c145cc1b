"""WebSocket handshake security: origin validation and token authentication."""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.authtoken.models import Token

TOKEN_KEYWORDS = {"token", "bearer"}


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _token_key(authorization: str | None) -> str | None:
    if not authorization:
        return None
    keyword, _, key = authorization.strip().partition(" ")
    if keyword.lower() not in TOKEN_KEYWORDS or not key.strip():
        return None
    return key.strip()


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


class TokenAuthMiddleware(BaseMiddleware):
    """Authenticates ``Authorization: Token <key>`` handshakes from non-browser clients.

    It runs inside ``AuthMiddlewareStack`` so that a token, when present,
    takes precedence over the session cookie.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        key = _token_key(_header(scope, b"authorization"))
        if key is not None:
            scope = dict(scope, user=await _user_for_token(key), auth_method="token")
        return await super().__call__(scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    """Rejects handshakes whose Origin is not one of ``ALLOWED_HOSTS``.

    Browsers always send an Origin on WebSocket handshakes, so a missing Origin
    means a non-browser client; those are let through only when they present a
    token, which cross-site pages cannot attach.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        has_origin = _header(scope, b"origin") is not None
        if not has_origin and _token_key(_header(scope, b"authorization")) is not None:
            return await self.application(scope, receive, send)
        return await super().__call__(scope, receive, send)


def websocket_stack(inner: Any) -> Any:
    allowed_hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(inner)), allowed_hosts)
