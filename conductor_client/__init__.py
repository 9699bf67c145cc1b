"""Python client for the Conductor API, and the `conductor` command."""

from conductor_client.async_client import AsyncConductor
from conductor_client.client import Conductor
from conductor_client.errors import (
    APIError,
    AuthenticationError,
    ConductorError,
    ConflictError,
    ConnectionFailed,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    StreamGap,
    ValidationError,
    WaitTimeout,
)
from conductor_client.events import TERMINAL_EVENTS, TERMINAL_STATUSES, RunEvent

__all__ = [
    "TERMINAL_EVENTS",
    "TERMINAL_STATUSES",
    "APIError",
    "AsyncConductor",
    "AuthenticationError",
    "Conductor",
    "ConductorError",
    "ConflictError",
    "ConnectionFailed",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RunEvent",
    "ServerError",
    "StreamGap",
    "ValidationError",
    "WaitTimeout",
]
