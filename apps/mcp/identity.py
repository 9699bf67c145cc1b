"""Who an MCP request acts as.

- Over HTTP: the user of the request's bearer token (a DRF token). The SDK's bearer
  middleware asks :class:`DrfTokenVerifier` on every request and stores the result in
  the ASGI scope, which reaches each tool call as ``ctx.request_context.request``.
- Over stdio: the one user the process was started for (``--user`` or
  ``CONDUCTOR_MCP_USER``), looked up again on every call so that a user deactivated
  meanwhile stops acting at once.

An HTTP request never falls back to the stdio user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from rest_framework.authtoken.models import Token

from apps.mcp.errors import domain_errors

T = TypeVar("T")

CLIENT_ID_PREFIX = "conductor-user-"


@dataclass(frozen=True)
class Identity:
    """How to find the acting user: by primary key (a token's user) or by username (stdio)."""

    pk: int | None = None
    username: str | None = None


_stdio_identity: Identity | None = None


def act_as_for_stdio(username: str) -> None:
    """Makes every call of this process's stdio server act as ``username``."""
    global _stdio_identity
    _stdio_identity = Identity(username=username)


def active_user(identity: Identity) -> AbstractBaseUser:
    """The identity's user; ToolError when it no longer exists or is inactive."""
    users = get_user_model()._default_manager.filter(is_active=True)
    lookup: dict[str, object] = (
        {"pk": identity.pk} if identity.pk is not None else {"username": identity.username}
    )
    user = users.filter(**lookup).first()
    if user is None:
        raise ToolError("The acting user no longer exists or is inactive.")
    return user


def identity_of(ctx: Context[Any, Any]) -> Identity:
    """The request's identity, from its bearer token (HTTP) or the process (stdio)."""
    request = ctx.request_context.request
    if request is not None:
        user = request.scope.get("user")
        if not isinstance(user, AuthenticatedUser) or user.access_token.subject is None:
            raise ToolError("Not authenticated: send Authorization: Bearer <API token>.")
        return Identity(pk=int(user.access_token.subject))
    if _stdio_identity is None:
        raise ToolError("This MCP server has no acting user: start it with --user.")
    return _stdio_identity


async def as_user(ctx: Context[Any, Any], action: Callable[..., T], /, **arguments: Any) -> T:
    """Runs the synchronous ``action(user=..., **arguments)`` on a database thread.

    The thread hands its connection back afterwards; domain errors come back as tool errors.
    """
    identity = identity_of(ctx)

    def call() -> T:
        with domain_errors():
            return action(user=active_user(identity), **arguments)

    return await database_sync_to_async(call)()


# --- HTTP: DRF tokens as MCP bearer tokens -----------------------------------------


def _token_user_id(key: str) -> int | None:
    tokens = Token.objects.filter(key=key, user__is_active=True)
    user_id: int | None = tokens.values_list("user_id", flat=True).first()
    return user_id


class DrfTokenVerifier:
    """The SDK's ``TokenVerifier`` over ``rest_framework.authtoken``: a token is its user."""

    async def verify_token(self, token: str) -> AccessToken | None:
        user_id = await database_sync_to_async(_token_user_id)(token)
        if user_id is None:
            return None
        # The SDK binds each MCP session to (client_id, subject): another user's token
        # cannot continue it.
        return AccessToken(
            token=token, client_id=f"{CLIENT_ID_PREFIX}{user_id}", scopes=[], subject=str(user_id)
        )
