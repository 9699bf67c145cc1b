from __future__ import annotations

import hashlib

import pytest

from apps.screenplays.models import Screenplay
from tests.envelope import assert_envelope

pytestmark = pytest.mark.django_db

URL = "/api/screenplays/"
CONTENT = "# Plan\n\nShip the thing.\n"


def test_it_creates_a_screenplay_with_version_1_and_a_content_hash(editor_client):
    response = editor_client.post(
        URL,
        {
            "name": "  Launch plan ",
            "description": "What we do next",
            "tags": ["launch", "q3"],
            "content": CONTENT,
            "working_directory": "/srv/app",
            "file_path": "/docs//plans/./launch.md",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Launch plan"
    assert body["version"] == 1
    assert body["content_hash"] == hashlib.sha256(CONTENT.encode()).hexdigest()
    assert body["file_path"] == "/docs/plans/launch.md"
    assert body["file_key"] == hashlib.sha256(b"/docs/plans/launch.md").hexdigest()
    assert body["is_deleted"] is False
    assert Screenplay.objects.get(pk=body["id"]).tags == ["launch", "q3"]


def test_it_stores_crlf_content_with_plain_newlines(editor_client):
    response = editor_client.post(
        URL, {"name": "CRLF", "content": "# Plan\r\n\r\nText.\r\n"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["content"] == "# Plan\n\nText.\n"


def test_it_rejects_content_with_errors_listing_them(editor_client):
    response = editor_client.post(
        URL, {"name": "Broken", "content": "# Plan\n\n```\nnever closed\n"}, format="json"
    )

    error = assert_envelope(response, 400, "invalid_markdown")
    assert error["details"]["errors"] == [
        {"line": 3, "code": "unclosed_code_fence", "message": "This code fence is never closed."}
    ]
    assert not Screenplay.all_objects.exists()


def test_it_rejects_empty_content(editor_client):
    response = editor_client.post(URL, {"name": "Empty", "content": "  \n"}, format="json")

    error = assert_envelope(response, 400, "invalid_markdown")
    assert error["details"]["errors"][0]["code"] == "empty_content"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content": CONTENT}, "name"),
        ({"name": "", "content": CONTENT}, "name"),
        ({"name": "   ", "content": CONTENT}, "name"),
        ({"name": "x" * 201, "content": CONTENT}, "name"),
        ({"name": 42, "content": CONTENT}, "name"),
        ({"name": "ok"}, "content"),
        ({"name": "ok", "content": None}, "content"),
        ({"name": "ok", "content": ["# a"]}, "content"),
        ({"name": "ok", "content": CONTENT, "description": "d" * 501}, "description"),
        ({"name": "ok", "content": CONTENT, "tags": "launch"}, "tags"),
        ({"name": "ok", "content": CONTENT, "tags": ["ok", 3]}, "tags"),
        ({"name": "ok", "content": CONTENT, "tags": [{"a": 1}]}, "tags"),
        ({"name": "ok", "content": CONTENT, "tags": ["t" * 51]}, "tags"),
        (
            {"name": "ok", "content": CONTENT, "working_directory": "relative/dir"},
            "working_directory",
        ),
        (
            {"name": "ok", "content": CONTENT, "working_directory": "/srv/../etc"},
            "working_directory",
        ),
        ({"name": "ok", "content": CONTENT, "file_path": "/docs/plan.txt"}, "file_path"),
        ({"name": "ok", "content": CONTENT, "file_path": "/docs/../plan.md"}, "file_path"),
        ({"name": "ok", "content": CONTENT, "export_path": "/docs/a|b.md"}, "export_path"),
        ({"name": "ok", "content": CONTENT, "import_path": 7}, "import_path"),
        ({"name": "ok", "content": CONTENT, "force": "maybe"}, "force"),
    ],
)
def test_it_rejects_bad_input_with_a_400_naming_the_field(editor_client, body, field):
    response = editor_client.post(URL, body, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert field in error["details"]
    assert not Screenplay.all_objects.exists()


def test_it_rejects_a_body_that_is_not_an_object(editor_client):
    response = editor_client.post(URL, ["not", "an", "object"], format="json")

    assert_envelope(response, 400)


def test_it_rejects_malformed_json(editor_client):
    response = editor_client.post(URL, "{nope", content_type="application/json")

    assert_envelope(response, 400, "parse_error")
