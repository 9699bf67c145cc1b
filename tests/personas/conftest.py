from __future__ import annotations

from typing import Any

import pytest

from apps.personas.models import Persona
from tests.factories import PersonaFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # Every test creates several users; the default hasher is slow by design.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def persona(db, editor) -> Persona:
    return PersonaFactory(name="Reviewer", content="line one\nline two\n", author=editor)


def versions_url(persona: Persona, suffix: str = "") -> str:
    return f"/api/personas/{persona.pk}/versions/{suffix}"


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    if code is not None:
        assert error["code"] == code
    return error
