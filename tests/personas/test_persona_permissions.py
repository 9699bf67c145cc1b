from __future__ import annotations

import pytest

from apps.personas.models import Persona
from tests.personas.conftest import assert_error, versions_url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/personas/", None),
        ("post", "/api/personas/", {"name": "X"}),
        ("get", "/api/personas/{pk}/", None),
        ("patch", "/api/personas/{pk}/", {"content": "x"}),
        ("delete", "/api/personas/{pk}/", None),
        ("get", "/api/personas/{pk}/versions/", None),
        ("get", "/api/personas/{pk}/versions/1/", None),
        ("post", "/api/personas/{pk}/versions/compare/", {"version1": 1, "version2": 1}),
        ("post", "/api/personas/{pk}/versions/restore/", {"version": 1}),
        ("post", "/api/personas/{pk}/versions/cleanup/", {"keep": 1}),
    ],
)
def test_it_answers_anonymous_requests_with_401(api_client, persona, method, path, body):
    response = getattr(api_client, method)(path.format(pk=persona.pk), body, format="json")

    assert_error(response, 401, "not_authenticated")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/personas/", {"name": "X"}),
        ("patch", "/api/personas/{pk}/", {"content": "x"}),
        ("put", "/api/personas/{pk}/", {"name": "X"}),
        ("delete", "/api/personas/{pk}/", None),
        ("post", "/api/personas/{pk}/versions/restore/", {"version": 1}),
    ],
)
def test_it_forbids_writes_to_users_without_model_permissions(
    viewer_client, persona, method, path, body
):
    response = getattr(viewer_client, method)(path.format(pk=persona.pk), body, format="json")

    assert_error(response, 403, "permission_denied")
    persona.refresh_from_db()
    assert persona.name == "Reviewer"
    assert persona.history.count() == 1
    assert Persona.objects.count() == 1


def test_it_lets_any_authenticated_user_compare_versions(viewer_client, persona):
    response = viewer_client.post(
        versions_url(persona, "compare/"), {"version1": 1, "version2": 1}, format="json"
    )

    assert response.status_code == 200


@pytest.mark.parametrize("client_name", ["viewer_client", "editor_client"])
def test_it_forbids_cleanup_to_non_staff_and_non_superusers(request, persona, client_name, editor):
    editor.is_staff = False
    editor.save()
    client = request.getfixturevalue(client_name)

    response = client.post(versions_url(persona, "cleanup/"), {"keep": 1}, format="json")

    assert_error(response, 403, "permission_denied")
