"""A newcomer's first run: the offline demo model through the real loop, no provider."""

import pytest
from django.core.management import call_command

from apps.agents.models import Agent
from apps.runtime.providers import DEMO_MODEL
from tests.fakes import llm_server as llm
from tests.runs.helpers import assert_gapless, event_names, finished, start, without_deltas

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]


@pytest.fixture
def no_provider_keys(monkeypatch):
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        monkeypatch.delenv(name, raising=False)


def test_the_demo_team_runs_a_tool_call_and_a_final_answer_offline(
    staff_client, no_provider_keys, settings
):
    settings.CONDUCTOR_DEMO_MODEL = ""
    call_command("seed_demo")
    agent = Agent.objects.get(slug="assistant")

    run = finished(
        staff_client, start(staff_client, "assistant", input="Who is on the team?")["id"]
    )

    assert agent.model == DEMO_MODEL
    assert run["status"] == "succeeded", run
    assert run["offline_demo"] is True
    assert staff_client.get("/api/agents/assistant/").json()["offline_demo"] is True
    assert run["result"].startswith("[offline demo]")
    kinds = [step["kind"] for step in run["steps"]]
    assert kinds == ["llm_call", "tool_call", "tool_result", "llm_call", "final_answer"]
    listed = {agent["slug"] for agent in run["steps"][2]["payload"]["result"]}
    assert {"assistant", "code_reviewer"} <= listed
    assert without_deltas(event_names(run["id"]))[-1] == "run.succeeded"
    assert_gapless(run["id"])


def test_an_unreachable_real_model_never_falls_back_to_the_demo_model(
    viewer_client, native_agent, fake_llm
):
    fake_llm.script(llm.error(503, "provider unreachable"))

    run = finished(viewer_client, start(viewer_client, "native")["id"])

    assert run["status"] == "failed"
    assert "provider unreachable" in run["error"]
    assert run["offline_demo"] is False
    assert [step["payload"].get("model") for step in run["steps"]] == []
