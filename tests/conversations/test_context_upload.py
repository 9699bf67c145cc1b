import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.envelope import assert_envelope

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"


def upload(client, conversation, content: bytes, name: str = "context.md"):
    return client.post(
        f"/api/conversations/{conversation.pk}/context/upload/",
        {"file": SimpleUploadedFile(name, content, content_type="text/markdown")},
        format="multipart",
    )


def test_a_markdown_file_becomes_the_context(viewer_client, mine):
    response = upload(viewer_client, mine, "# Brief\r\n\r\nCafé ☕\r\n".encode())

    assert response.status_code == 200, response.content
    assert response.json()["context"] == "# Brief\n\nCafé ☕\n"
    mine.refresh_from_db()
    assert mine.context == "# Brief\n\nCafé ☕\n"


def test_a_markdown_extension_is_accepted_too(viewer_client, mine):
    assert upload(viewer_client, mine, b"hello", name="NOTES.Markdown").status_code == 200


def test_a_file_of_exactly_50_kb_is_accepted(viewer_client, mine):
    assert upload(viewer_client, mine, b"a" * 50 * 1024).status_code == 200


def test_a_file_over_50_kb_is_refused(viewer_client, mine):
    response = upload(viewer_client, mine, b"a" * (50 * 1024 + 1))

    error = assert_envelope(response, 400, "invalid_upload")
    assert error["details"]["max_bytes"] == 50 * 1024
    mine.refresh_from_db()
    assert mine.context == ""


@pytest.mark.parametrize(
    "content",
    [PNG, b"caf\xe9 latin-1", b"text with a NUL \x00 byte"],
    ids=["png", "invalid-utf8", "nul-byte"],
)
def test_binary_content_is_refused(viewer_client, mine, content):
    response = upload(viewer_client, mine, content)

    assert_envelope(response, 400, "invalid_upload")
    mine.refresh_from_db()
    assert mine.context == ""


@pytest.mark.parametrize("name", ["context.txt", "image.png", "context.md.exe", "noextension"])
def test_a_wrong_extension_is_refused(viewer_client, mine, name):
    assert_envelope(upload(viewer_client, mine, b"# fine", name=name), 400, "invalid_upload")


def test_a_missing_file_is_a_400(viewer_client, mine):
    response = viewer_client.post(
        f"/api/conversations/{mine.pk}/context/upload/", {}, format="multipart"
    )

    error = assert_envelope(response, 400, "validation_error")
    assert "file" in error["details"]


def test_a_file_field_holding_text_is_a_400(viewer_client, mine):
    response = viewer_client.post(
        f"/api/conversations/{mine.pk}/context/upload/", {"file": "# text"}, format="multipart"
    )

    assert_envelope(response, 400, "validation_error")


def test_a_json_body_is_unsupported(viewer_client, mine):
    response = viewer_client.post(
        f"/api/conversations/{mine.pk}/context/upload/", {"file": "x"}, format="json"
    )

    assert_envelope(response, 415)


def test_another_users_conversation_is_not_found(viewer_client, theirs):
    assert_envelope(upload(viewer_client, theirs, b"# mine"), 404)
