import pytest

from tests.envelope import assert_envelope
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def routes(conversation_id: int, message_id: int) -> list[tuple[str, str]]:
    base = f"/api/conversations/{conversation_id}"
    message = f"{base}/messages/{message_id}"
    return [
        ("get", "/api/conversations/"),
        ("post", "/api/conversations/"),
        ("patch", "/api/conversations/reorder/"),
        ("get", f"{base}/"),
        ("put", f"{base}/"),
        ("patch", f"{base}/"),
        ("delete", f"{base}/"),
        ("post", f"{base}/restore/"),
        ("patch", f"{base}/title/"),
        ("patch", f"{base}/context/"),
        ("post", f"{base}/context/upload/"),
        ("patch", f"{base}/settings/"),
        ("put", f"{base}/active-agent/"),
        ("post", f"{base}/clone/"),
        ("get", f"{base}/messages/"),
        ("post", f"{base}/messages/"),
        ("get", f"{message}/"),
        ("delete", f"{message}/"),
        ("post", f"{message}/hide/"),
        ("post", f"{message}/unhide/"),
        ("post", f"{message}/toggle/"),
    ]


def test_every_route_answers_401_to_anonymous_requests(api_client, mine):
    message = MessageFactory(conversation=mine)

    for method, path in routes(mine.pk, message.pk):
        response = getattr(api_client, method)(path, {}, format="json")
        assert response.status_code == 401, (method, path)
        assert_envelope(response, 401, "not_authenticated")

    assert not mine.messages.filter(is_hidden=True).exists()


def test_every_route_answers_404_for_another_users_conversation(viewer_client, theirs):
    message = MessageFactory(conversation=theirs)

    for method, path in routes(theirs.pk, message.pk)[3:]:
        response = getattr(viewer_client, method)(path, {}, format="json")
        assert response.status_code == 404, (method, path, response.content)
        assert response.json()["error"]["code"] == "not_found"
