"""The one place where errors become HTTP responses.

Domain code raises subclasses of :class:`ConductorError`; DRF views, plain
Django views and the URLconf's error handlers all answer with the envelope
``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework import status

if TYPE_CHECKING:
    from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ConductorError(Exception):
    """Base of every domain error that has an HTTP meaning."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code: str = "error"
    default_message: str = "The request could not be processed."

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


class Conflict(ConductorError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"
    default_message = "The request conflicts with the current state."


class ServiceUnavailable(ConductorError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "service_unavailable"
    default_message = "A backing service is unavailable."


class DatabaseUnavailable(ServiceUnavailable):
    default_message = "The database is unavailable. Try again shortly."


# What Django raises when the database cannot be reached or drops the connection; other
# database errors (integrity, programming) stay bugs and answer 500.
DATABASE_OUTAGE_ERRORS = (OperationalError, InterfaceError)


def database_unavailable(exc: Exception) -> DatabaseUnavailable:
    """The 503 to answer for a database outage, logged here without a traceback."""
    logger.warning("the database is unavailable: %s", exc)
    return DatabaseUnavailable()


class PayloadTooLarge(ConductorError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"
    default_message = "The request body is too large."


class InvalidRuntimeConfig(ConductorError):
    code = "invalid_runtime_config"
    default_message = "The runtime configuration is invalid."


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def payload_too_large_body(exc: RequestDataTooBig) -> dict[str, Any]:
    """The envelope of a body over a limit: the upload cap's, or Django's own
    (``DATA_UPLOAD_MAX_MEMORY_SIZE``), whose RequestDataTooBig says nothing more."""
    max_bytes = getattr(exc, "max_bytes", settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return error_body(
        PayloadTooLarge.code, PayloadTooLarge.default_message, {"max_bytes": max_bytes}
    )


def error_json_response(
    status_code: int, code: str, message: str, details: Any = None
) -> JsonResponse:
    return JsonResponse(error_body(code, message, details), status=status_code)


def _drf_error(exc: drf_exceptions.APIException) -> tuple[str, str, Any]:
    if isinstance(exc, drf_exceptions.ValidationError):
        return "validation_error", "Invalid input.", exc.detail
    if isinstance(exc, drf_exceptions.Throttled):
        return "throttled", str(exc.detail), {"retry_after": getattr(exc, "wait", None)}
    detail = exc.detail
    if isinstance(detail, str):
        return getattr(detail, "code", None) or exc.default_code, str(detail), None
    return exc.default_code, str(exc.default_detail), detail


def _django_validation_details(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {"non_field_errors": exc.messages}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Imported here: the admin loads this module at django.setup(), and DRF's response
    # and views bring its serializers (with psycopg and requests) to every process.
    from rest_framework.response import Response
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoValidationError):
        # Services validate with Django's ValidationError; it is the client's fault.
        body = error_body("validation_error", "Invalid input.", _django_validation_details(exc))
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DATABASE_OUTAGE_ERRORS):
        exc = database_unavailable(exc)
    if isinstance(exc, ConductorError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        # Django would answer this SuspiciousOperation 400 (a debug page under DEBUG).
        return Response(payload_too_large_body(exc), status=PayloadTooLarge.status_code)
    response = drf_exception_handler(exc, context)
    if response is None:
        # Unexpected: let Django's handler500 answer and log the traceback.
        return None
    if isinstance(exc, drf_exceptions.APIException):
        code, message, details = _drf_error(exc)
    else:  # Http404 and PermissionDenied, already translated by DRF
        code, message, details = _code_for_status(response.status_code), str(response.data), None
        message = (
            response.data.get("detail", message) if isinstance(response.data, dict) else message
        )
    response.data = error_body(code, str(message), details)
    return response


_STATUS_CODES = {
    400: ("bad_request", "Bad request."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: (PayloadTooLarge.code, PayloadTooLarge.default_message),
    500: ("server_error", "Internal server error."),
    503: ("service_unavailable", "A backing service is unavailable."),
}


def _code_for_status(status_code: int) -> str:
    return _STATUS_CODES.get(status_code, ("error", ""))[0]


def error_json_for_status(status_code: int, details: Any = None) -> JsonResponse:
    code, message = _STATUS_CODES[status_code]
    return error_json_response(status_code, code, message, details)
