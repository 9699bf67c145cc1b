import time

import pytest

from apps.conversations.models import Message
from apps.portfolio.models import PortfolioSession
from apps.runs.models import Run, RunStatus
from apps.runtime.llm import litellm_module
from tests.envelope import assert_envelope
from tests.fakes import llm_server as llm
from tests.portfolio.conftest import chat

pytestmark = pytest.mark.django_db(transaction=True)


def test_without_the_agent_the_chat_is_not_configured(visitor, db, settings):
    settings.CONDUCTOR_PORTFOLIO_AGENT = "nobody"

    error = assert_envelope(chat(visitor, {"message": "Hi"}), 503, "portfolio_not_configured")

    assert error["message"] == "portfolio chat is not configured"
    assert not PortfolioSession.objects.exists()


def test_an_inactive_agent_leaves_the_chat_not_configured(visitor, portfolio_agent):
    portfolio_agent.is_active = False
    portfolio_agent.save()

    assert_envelope(chat(visitor, {"message": "Hi"}), 503, "portfolio_not_configured")
    assert not Run.objects.exists()


def test_a_failing_llm_answers_502_without_internals(visitor, portfolio_agent, fake_llm):
    fake_llm.script(llm.error(500, "db password is hunter2 at 10.0.0.5"))

    response = chat(visitor, {"message": "Hi"})

    error = assert_envelope(response, 502, "portfolio_answer_failed")
    text = response.content.decode()
    for internal in ("hunter2", "10.0.0.5", "127.0.0.1", "litellm", "Error", "Traceback"):
        assert internal not in text
    assert Run.objects.get().status == RunStatus.FAILED
    assert PortfolioSession.objects.filter(pk=error["details"]["session_id"]).exists()


def test_a_failed_exchange_is_kept_from_the_next_turn(visitor, portfolio_agent, fake_llm):
    fake_llm.script(llm.error(500, "secret internals"), llm.text("Sorry, here I am."))
    failed = chat(visitor, {"message": "First try"}).json()["error"]

    retry = chat(visitor, {"message": "Second try", "session_id": failed["details"]["session_id"]})

    assert retry.status_code == 200, retry.content
    assert [m["content"] for m in fake_llm.requests[1]["messages"][1:]] == ["Second try"]
    assert Message.objects.filter(is_hidden=True).count() == 2


def test_a_slow_llm_times_out_with_504(visitor, portfolio_agent, fake_llm, settings):
    litellm_module()  # a cold import takes seconds; the test times the run, not that
    settings.CONDUCTOR_PORTFOLIO_TIMEOUT_SECONDS = 1
    fake_llm.script(llm.slow(10, llm.text("too late")))

    started = time.monotonic()
    response = chat(visitor, {"message": "Hi"})

    assert_envelope(response, 504, "portfolio_answer_timed_out")
    assert time.monotonic() - started < 5
    assert "too late" not in response.content.decode()
    assert Run.objects.get().status == RunStatus.TIMED_OUT
