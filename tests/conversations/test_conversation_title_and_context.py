import pytest

from tests.envelope import assert_envelope

pytestmark = pytest.mark.django_db


def test_the_owner_renames_a_conversation(viewer_client, mine):
    response = viewer_client.patch(
        f"/api/conversations/{mine.pk}/title/", {"title": "New title"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["title"] == "New title"
    mine.refresh_from_db()
    assert mine.title == "New title"


@pytest.mark.parametrize("payload", [{}, {"title": ""}, {"title": "x" * 201}, {"title": None}])
def test_a_bad_title_is_a_400(viewer_client, mine, payload):
    response = viewer_client.patch(f"/api/conversations/{mine.pk}/title/", payload, format="json")

    assert_envelope(response, 400, "validation_error")
    mine.refresh_from_db()
    assert mine.title == "Mine"


def test_the_owner_replaces_the_context(viewer_client, mine):
    text = "# Context\n\n  indented stays\n"

    response = viewer_client.patch(
        f"/api/conversations/{mine.pk}/context/", {"context": text}, format="json"
    )

    assert response.status_code == 200, response.content
    mine.refresh_from_db()
    assert mine.context == text


def test_the_context_can_be_cleared(viewer_client, mine):
    response = viewer_client.patch(
        f"/api/conversations/{mine.pk}/context/", {"context": ""}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["context"] == ""


@pytest.mark.parametrize(
    "payload", [{}, {"context": "x" * (50 * 1024 + 1)}, {"context": "\x1b[31m"}, {"context": 3}]
)
def test_a_bad_context_is_a_400(viewer_client, mine, payload):
    response = viewer_client.patch(f"/api/conversations/{mine.pk}/context/", payload, format="json")

    assert_envelope(response, 400, "validation_error")


def test_another_users_title_and_context_are_not_found(viewer_client, theirs):
    base = f"/api/conversations/{theirs.pk}"

    assert_envelope(viewer_client.patch(f"{base}/title/", {"title": "x"}, format="json"), 404)
    assert_envelope(viewer_client.patch(f"{base}/context/", {"context": "x"}, format="json"), 404)
