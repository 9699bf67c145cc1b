import pytest
from django.core.management import call_command

from apps.conversations.models import Message
from apps.portfolio.models import PortfolioSession
from apps.runs.models import ContextMode, Run, RunSource, RunStatus
from apps.runtime.providers import DEMO_MODEL
from tests.fakes import llm_server as llm
from tests.portfolio.conftest import chat

pytestmark = pytest.mark.django_db(transaction=True)


def sent_contents(request: dict) -> list[str]:
    """What the model was shown, after the system prompt."""
    return [message["content"] for message in request["messages"][1:]]


def test_the_first_message_is_answered_in_a_new_session(visitor, portfolio_agent, fake_llm):
    fake_llm.script(llm.text("We build agent tooling."))

    response = chat(visitor, {"message": "What does the team do?"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["response"] == "We build agent tooling."
    assert len(body["session_id"]) >= 32
    session = PortfolioSession.objects.get(pk=body["session_id"])
    run = Run.objects.get()
    assert (run.status, run.source, run.created_by) == (RunStatus.SUCCEEDED, "portfolio", None)
    assert run.context_mode == ContextMode.CONTEXTUAL
    assert run.conversation == session.conversation
    assert run.timeout_seconds == 60


def test_a_second_message_in_the_session_is_answered_with_the_history(
    visitor, portfolio_agent, fake_llm
):
    fake_llm.script(llm.text("We build agent tooling."), llm.text("Mostly Python."))
    first = chat(visitor, {"message": "What does the team do?"}).json()

    second = chat(visitor, {"message": "In which language?", "session_id": first["session_id"]})

    assert second.status_code == 200, second.content
    assert second.json() == {"response": "Mostly Python.", "session_id": first["session_id"]}
    assert sent_contents(fake_llm.requests[1]) == [
        "What does the team do?",
        "We build agent tooling.",
        "In which language?",
    ]
    assert PortfolioSession.objects.count() == 1


def test_sessions_never_see_each_others_history(visitor, portfolio_agent, fake_llm):
    fake_llm.script(llm.text("Alice's answer."), llm.text("Bob's answer."), llm.text("Again."))
    alice = chat(visitor, {"message": "Alice asks"}).json()
    bob = chat(visitor, {"message": "Bob asks"}).json()

    chat(visitor, {"message": "Alice again", "session_id": alice["session_id"]})

    assert alice["session_id"] != bob["session_id"]
    assert sent_contents(fake_llm.requests[1]) == ["Bob asks"]
    assert sent_contents(fake_llm.requests[2]) == ["Alice asks", "Alice's answer.", "Alice again"]


def test_runs_work_in_an_empty_directory_of_their_own_under_the_data_dir(
    visitor, portfolio_agent, fake_llm, settings
):
    fake_llm.script(llm.text("Hello."))

    chat(visitor, {"message": "Hi"})

    cwd = Run.objects.get().cwd
    assert cwd == str((settings.DATA_DIR / "portfolio").resolve())
    assert (settings.DATA_DIR / "portfolio").is_dir()


def test_the_working_directory_can_be_configured(visitor, portfolio_agent, fake_llm, settings):
    settings.CONDUCTOR_PORTFOLIO_CWD = "/srv/portfolio"
    fake_llm.script(llm.text("Hello."))

    chat(visitor, {"message": "Hi"})

    assert Run.objects.get().cwd == "/srv/portfolio"


def test_the_agent_is_chosen_by_setting(visitor, fake_llm, settings):
    from tests.factories import AgentFactory
    from tests.runs.conftest import NATIVE_MODEL

    settings.CONDUCTOR_PORTFOLIO_AGENT = "showcase"
    AgentFactory(slug="showcase", model=NATIVE_MODEL)
    fake_llm.script(llm.text("Showcase speaking."))

    response = chat(visitor, {"message": "Who are you?"})

    assert response.json()["response"] == "Showcase speaking."
    assert Run.objects.get().agent.slug == "showcase"


def test_the_demo_content_answers_with_the_offline_demo_model(visitor, settings, monkeypatch):
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    settings.CONDUCTOR_DEMO_MODEL = ""
    settings.CONDUCTOR_DEFAULT_MODEL = ""
    call_command("seed_demo")

    response = chat(visitor, {"message": "What has the team built?"})

    assert response.status_code == 200, response.content
    assert response.json()["response"].startswith("[offline demo]")
    run = Run.objects.get(source=RunSource.PORTFOLIO)
    assert (run.agent.slug, run.agent.model, run.agent.tools) == ("portfolio", DEMO_MODEL, [])


def test_the_exchange_is_kept_in_the_sessions_conversation(visitor, portfolio_agent, fake_llm):
    fake_llm.script(llm.text("Hello there."))

    body = chat(visitor, {"message": "Hi"}).json()

    conversation = PortfolioSession.objects.get(pk=body["session_id"]).conversation
    messages = Message.objects.filter(conversation=conversation).order_by("created_at", "id")
    assert [(m.type, m.content) for m in messages] == [("user", "Hi"), ("bot", "Hello there.")]
    assert conversation.created_by is None
