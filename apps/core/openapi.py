"""The error envelope in the OpenAPI schema.

Every error answers ``{"error": {"code", "message", "details"}}`` (apps.core.exceptions).
:func:`document_error_responses` adds the statuses any operation can answer to each one,
so that clients and schemathesis know them without every view repeating them; a view
documents the statuses only it answers (409, 429, 503...) with :func:`error_responses`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse

ERROR_COMPONENT = "Error"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error: a stable code, a message for people, and optional details.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                # Field errors, limits, retry hints...: their shape depends on the code.
                "details": {"nullable": True},
            },
            "required": ["code", "message", "details"],
        }
    },
    "required": ["error"],
}

DESCRIPTIONS = {
    400: "Invalid input.",
    401: "No valid credentials.",
    403: "Not allowed (or a session write without its CSRF token).",
    404: "No such object, or not one the user may see.",
    409: "Conflicts with the object's current state.",
    413: "The request is too large.",
    415: "The body's content type is not one the operation reads.",
    429: "Too many requests; retry after `details.retry_after` seconds.",
    502: "The upstream provider failed.",
    503: "A backing service is unavailable.",
    504: "The upstream provider did not answer in time.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """``extend_schema(responses=...)`` entries for statuses a view answers with the envelope."""
    return {
        status: OpenApiResponse(response=ERROR_REF, description=DESCRIPTIONS[status])
        for status in statuses
    }


def _common_statuses(path: str, operation: dict[str, Any]) -> list[int]:
    statuses = []
    if "requestBody" in operation or operation.get("parameters"):
        statuses.append(400)
    if "requestBody" in operation:
        statuses += [413, 415]  # DATA_UPLOAD_MAX_MEMORY_SIZE; a content type no parser reads
    if {} not in operation.get("security", [{}]):
        statuses += [401, 403]
    # A path naming an object, or a page past the last one (DRF's pagination answers 404).
    if "{" in path or any(param["name"] == "page" for param in operation.get("parameters", [])):
        statuses.append(404)
    return statuses


def document_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the envelope on every operation that can fail.

    400 where there is input to reject, 413 and 415 where there is a body, 401 and 403 where
    credentials are required, 404 where the path names an object or a page. Statuses
    a view documents itself are left as they are.
    """
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in _common_statuses(path, operation):
                responses.setdefault(
                    str(status),
                    {
                        "content": {"application/json": {"schema": ERROR_REF}},
                        "description": DESCRIPTIONS[status],
                    },
                )
    return result
