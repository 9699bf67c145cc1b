"""The client's exceptions, built from the API's ``{"error": {code, message, details}}``."""

from __future__ import annotations

from typing import Any

import httpx


class ConductorError(Exception):
    """Base of every error this client raises."""


class ConnectionFailed(ConductorError):
    """The server could not be reached, or a stream kept dropping."""


class WaitTimeout(ConductorError):
    """``runs.wait`` passed its deadline before the run finished."""


class StreamGap(ConductorError):
    """The server skipped event seqs, even when replaying from its log: a server bug."""


class APIError(ConductorError):
    """The API answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str,
        details: Any = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        self.response = response

    def __str__(self) -> str:
        text = f"{self.status_code} {self.code}: {self.message}"
        return f"{text} {self.details}" if self.details else text


class AuthenticationError(APIError):
    pass


class PermissionDeniedError(APIError):
    pass


class NotFoundError(APIError):
    pass


class ValidationError(APIError):
    pass


class ConflictError(APIError):
    pass


class ServerError(APIError):
    pass


class RateLimitedError(APIError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


ERRORS_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitedError,
}

AUTH_HINT = "check the token (Authorization: Token <key>)"


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds; an HTTP-date or garbage counts as absent."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


def error_from_response(response: httpx.Response) -> APIError:
    status = response.status_code
    code, message, details = _envelope(response)
    if status == 401:
        message = f"{message} ({AUTH_HINT})"
    kwargs: dict[str, Any] = {
        "status_code": status,
        "code": code,
        "details": details,
        "response": response,
    }
    if status == 429:
        return RateLimitedError(message, retry_after=retry_after_seconds(response), **kwargs)
    cls = ServerError if status >= 500 else ERRORS_BY_STATUS.get(status, APIError)
    return cls(message, **kwargs)


def _envelope(response: httpx.Response) -> tuple[str, str, Any]:
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"]), error.get("details")
    except (ValueError, KeyError, TypeError):
        return _plain_error(response)


def _plain_error(response: httpx.Response) -> tuple[str, str, Any]:
    """A proxy's HTML page or a bare text body: name the status and quote the start."""
    reason = response.reason_phrase or "error"
    body = " ".join(response.text.split())[:200]
    where = f"{response.request.method} {response.request.url}"
    message = f"HTTP {response.status_code} {reason} from {where}"
    return f"http_{response.status_code}", f"{message}: {body}" if body else message, None
