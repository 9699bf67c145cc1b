from __future__ import annotations

from typing import Any

URL = "/api/instances/"


def detail_url(instance: Any, suffix: str = "") -> str:
    pk = instance if isinstance(instance, int) else instance.pk
    return f"{URL}{pk}/{suffix}"


def assert_envelope(response: Any, status_code: int, code: str | None = None) -> dict[str, Any]:
    """The response is the error envelope with this status (and code, when given)."""
    assert response.status_code == status_code, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]
