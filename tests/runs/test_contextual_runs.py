import pytest

from apps.conversations.models import Message
from tests.factories import AgentInstanceFactory, ConversationFactory, MessageFactory
from tests.fakes import llm_server as llm
from tests.runs.helpers import finished, start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]


def test_a_contextual_run_sees_the_history_and_appends_its_exchange(
    viewer, viewer_client, native_agent, fake_llm
):
    conversation = ConversationFactory(created_by=viewer)
    MessageFactory(conversation=conversation, content="Earlier question")
    instance = AgentInstanceFactory(agent=native_agent, conversation=conversation, cwd="/srv/app")
    fake_llm.script(llm.text("The answer."))

    run = finished(
        viewer_client,
        start(
            viewer_client,
            "native",
            input="Follow-up question",
            instance_id=instance.pk,
            context_mode="contextual",
            cwd="",
        )["id"],
    )

    sent = [message["content"] for message in fake_llm.requests[0]["messages"]]
    assert sent[1:] == ["Earlier question", "Follow-up question"]
    assert run["cwd"] == "/srv/app"
    posted = Message.objects.filter(conversation=conversation).order_by("created_at", "id")
    assert [(m.type, m.content) for m in posted][1:] == [
        ("user", "Follow-up question"),
        ("bot", "The answer."),
    ]
    assert all(str(m.run_id) == run["id"] for m in list(posted)[1:])
    instance.refresh_from_db()
    assert (instance.task_count, instance.success_count, instance.last_exit_status) == (
        1,
        1,
        "succeeded",
    )


def test_a_stateless_run_sees_no_history_and_posts_nothing(
    viewer, viewer_client, native_agent, fake_llm
):
    conversation = ConversationFactory(created_by=viewer)
    MessageFactory(conversation=conversation, content="Earlier question")
    fake_llm.script(llm.text("Fresh answer."))

    start(viewer_client, "native", input="Question", conversation_id=conversation.pk)

    assert len(fake_llm.requests[0]["messages"]) == 2
    assert Message.objects.filter(conversation=conversation).count() == 1
