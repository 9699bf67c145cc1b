from __future__ import annotations

import hashlib

import pytest

from tests.envelope import assert_envelope
from tests.factories import ScreenplayFactory

pytestmark = pytest.mark.django_db

URL = "/api/screenplays/check-duplicate/"


def key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_free_location_is_not_a_duplicate_and_gets_its_key(viewer_client):
    response = viewer_client.post(
        URL, {"file_path": "/docs/plans", "file_name": "launch.md"}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {
        "is_duplicate": False,
        "duplicate_screenplay": None,
        "file_key": key("/docs/plans/launch.md"),
    }


@pytest.mark.parametrize(
    "path",
    [
        "/docs/plans/",
        "/docs//plans",
        "/docs/./plans",
        "\\docs\\plans",
        "/docs/plans///",
        " /docs/plans ",
    ],
)
def test_the_key_ignores_redundant_separators_and_dot_segments(viewer_client, path):
    response = viewer_client.post(URL, {"file_path": path, "file_name": "launch.md"}, format="json")

    assert response.json()["file_key"] == key("/docs/plans/launch.md")


def test_an_empty_path_keys_the_file_name_alone(viewer_client):
    response = viewer_client.post(URL, {"file_path": "", "file_name": "a.markdown"}, format="json")

    assert response.json()["file_key"] == key("a.markdown")


def test_an_active_screenplay_at_that_location_is_named(viewer_client):
    other = ScreenplayFactory(name="Launch", file_path="/docs/plans/launch.md")

    response = viewer_client.post(
        URL, {"file_path": "/docs/plans", "file_name": "launch.md"}, format="json"
    )

    body = response.json()
    assert body["is_duplicate"] is True
    assert body["duplicate_screenplay"] == {"id": other.pk, "name": "Launch"}


def test_exclude_id_leaves_the_screenplay_itself_out(viewer_client):
    other = ScreenplayFactory(file_path="/docs/plans/launch.md")

    response = viewer_client.post(
        URL,
        {"file_path": "/docs/plans", "file_name": "launch.md", "exclude_id": other.pk},
        format="json",
    )

    assert response.json()["is_duplicate"] is False


def test_a_deleted_screenplay_is_not_a_duplicate(viewer_client):
    ScreenplayFactory(deleted=True, file_path="/docs/plans/launch.md")

    response = viewer_client.post(
        URL, {"file_path": "/docs/plans", "file_name": "launch.md"}, format="json"
    )

    assert response.json()["is_duplicate"] is False


@pytest.mark.parametrize("name", ["plan.MD", "plan.Markdown", "PLAN.md"])
def test_markdown_extensions_are_case_insensitive(viewer_client, name):
    response = viewer_client.post(URL, {"file_path": "/docs", "file_name": name}, format="json")

    assert response.status_code == 200


@pytest.mark.parametrize("char", list('<>:"|?*'))
def test_each_reserved_character_in_the_path_is_rejected(viewer_client, char):
    response = viewer_client.post(
        URL, {"file_path": f"/docs/a{char}b", "file_name": "plan.md"}, format="json"
    )

    error = assert_envelope(response, 400, "validation_error")
    assert "file_path" in error["details"]


@pytest.mark.parametrize("char", list('<>:"|?*'))
def test_each_reserved_character_in_the_file_name_is_rejected(viewer_client, char):
    response = viewer_client.post(
        URL, {"file_path": "/docs", "file_name": f"pl{char}an.md"}, format="json"
    )

    error = assert_envelope(response, 400, "validation_error")
    assert "file_name" in error["details"]


@pytest.mark.parametrize("path", ["/docs/../etc", "..", "/docs/..hidden", "a/.."])
def test_a_path_with_dot_dot_is_rejected(viewer_client, path):
    response = viewer_client.post(URL, {"file_path": path, "file_name": "plan.md"}, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert "file_path" in error["details"]


def test_a_path_of_501_characters_is_rejected(viewer_client):
    response = viewer_client.post(
        URL, {"file_path": "/" + "a" * 500, "file_name": "plan.md"}, format="json"
    )

    error = assert_envelope(response, 400, "validation_error")
    assert "500" in error["details"]["file_path"][0]


def test_a_path_and_name_together_over_500_characters_are_rejected(viewer_client):
    response = viewer_client.post(
        URL, {"file_path": "/" + "a" * 495, "file_name": "plan.md"}, format="json"
    )

    assert_envelope(response, 400, "validation_error")


def test_a_path_of_500_characters_is_accepted(viewer_client):
    response = viewer_client.post(
        URL, {"file_path": "/" + "a" * 491, "file_name": "plan.md"}, format="json"
    )

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("name", ["plan.txt", "plan", "plan.md.txt", "plan.mdx", ".md.bak", ""])
def test_a_file_name_without_a_markdown_extension_is_rejected(viewer_client, name):
    response = viewer_client.post(URL, {"file_path": "/docs", "file_name": name}, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert "file_name" in error["details"]


def test_a_file_name_with_a_directory_in_it_is_rejected(viewer_client):
    response = viewer_client.post(URL, {"file_path": "/docs", "file_name": "a/b.md"}, format="json")

    assert_envelope(response, 400, "validation_error")


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1f", "\x7f", "\n"])
def test_nul_and_control_characters_are_rejected(viewer_client, char):
    response = viewer_client.post(
        URL, {"file_path": f"/do{char}cs", "file_name": "plan.md"}, format="json"
    )

    assert_envelope(response, 400, "validation_error")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"file_path": "/docs"},
        {"file_path": 3, "file_name": "a.md"},
        {"file_path": "/docs", "file_name": None},
        {"file_path": "/docs", "file_name": "a.md", "exclude_id": "abc"},
        {"file_path": "/docs", "file_name": "a.md", "exclude_id": 0},
        {"file_path": "/docs", "file_name": "a.md", "exclude_id": 10**30},
    ],
)
def test_malformed_bodies_are_a_400(viewer_client, body):
    response = viewer_client.post(URL, body, format="json")

    assert_envelope(response, 400, "validation_error")


def test_anonymous_users_get_401(api_client):
    response = api_client.post(URL, {"file_path": "/d", "file_name": "a.md"}, format="json")

    assert_envelope(response, 401)
