from __future__ import annotations

import pytest

from tests.envelope import assert_envelope

pytestmark = pytest.mark.django_db

URL = "/api/screenplays/validate-markdown/"


def test_any_authenticated_user_gets_the_report(viewer_client):
    response = viewer_client.post(URL, {"content": "# A\n\n### C\n\n```\n"}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "is_valid": False,
        "errors": [
            {
                "line": 5,
                "code": "unclosed_code_fence",
                "message": "This code fence is never closed.",
            }
        ],
        "warnings": [
            {
                "line": 3,
                "code": "skipped_heading_level",
                "message": "Heading level jumps from H1 to H3.",
            }
        ],
    }


def test_valid_content_is_valid(viewer_client):
    response = viewer_client.post(URL, {"content": "# Fine\n\nText.\n"}, format="json")

    assert response.json() == {"is_valid": True, "errors": [], "warnings": []}


def test_empty_content_is_invalid_on_line_1(viewer_client):
    response = viewer_client.post(URL, {"content": ""}, format="json")

    assert response.json()["errors"][0]["line"] == 1
    assert response.json()["errors"][0]["code"] == "empty_content"


def test_it_saves_nothing(viewer_client):
    from apps.screenplays.models import Screenplay

    viewer_client.post(URL, {"content": "# Fine\n"}, format="json")

    assert not Screenplay.all_objects.exists()


@pytest.mark.parametrize("body", [{}, {"content": None}, {"content": 12}, {"content": ["#"]}])
def test_missing_or_non_string_content_is_a_400(viewer_client, body):
    response = viewer_client.post(URL, body, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert "content" in error["details"]


def test_anonymous_users_get_401(api_client):
    response = api_client.post(URL, {"content": "# A\n"}, format="json")

    assert_envelope(response, 401, "not_authenticated")
