import pytest

from apps.portfolio.models import PortfolioSession
from apps.runs.models import Run
from tests.envelope import assert_envelope
from tests.portfolio.conftest import CHAT, chat

pytestmark = pytest.mark.django_db


def assert_rejected(response, field: str | None = None) -> None:
    error = assert_envelope(response, 400)
    assert error["code"] in {"validation_error", "parse_error"}
    if field is not None:
        assert field in error["details"], error
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    "message",
    ["", "   \n\t ", "x" * 2_001, 42, True, None, ["hi"], {"text": "hi"}, "bell \x07 rings"],
    ids=["empty", "whitespace", "too-long", "int", "bool", "null", "list", "object", "control"],
)
def test_a_bad_message_is_rejected(visitor, portfolio_agent, message):
    assert_rejected(chat(visitor, {"message": message}), "message")


def test_a_missing_message_is_rejected(visitor, portfolio_agent):
    assert_rejected(chat(visitor, {}), "message")


def test_a_message_of_exactly_2000_characters_passes_validation(visitor, portfolio_agent):
    # The agent's LLM is unreachable here: what matters is that the input was accepted.
    response = chat(visitor, {"message": "x" * 2_000, "session_id": "a" * 43})

    assert response.status_code == 404


@pytest.mark.parametrize(
    "session_id",
    ["", "short", "a" * 44, "a" * 42 + "!", 12345, ["a" * 43], {"id": "a" * 43}],
    ids=["empty", "short", "too-long", "bad-char", "int", "list", "object"],
)
def test_a_malformed_session_id_is_rejected(visitor, portfolio_agent, session_id):
    assert_rejected(chat(visitor, {"message": "Hi", "session_id": session_id}), "session_id")


def test_an_unknown_session_id_is_not_found_and_starts_nothing(visitor, portfolio_agent):
    response = chat(visitor, {"message": "Hi", "session_id": "A" * 43})

    assert_envelope(response, 404, "portfolio_session_not_found")
    assert not PortfolioSession.objects.exists()
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    "body", [b"{not json", b"", b"[1, 2]", b'"just a string"', b"null", b"\xff\xfe"]
)
def test_a_body_that_is_not_a_json_object_is_rejected(visitor, portfolio_agent, body):
    response = visitor.post(CHAT, body, content_type="application/json")

    assert_rejected(response)


def test_a_form_body_is_refused_as_unsupported(visitor, portfolio_agent):
    response = visitor.post(CHAT, {"message": "Hi"})  # multipart

    assert_envelope(response, 415, "unsupported_media_type")


def test_only_post_is_allowed(visitor, portfolio_agent):
    response = visitor.get(CHAT)

    assert_envelope(response, 405, "method_not_allowed")
