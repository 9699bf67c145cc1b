import pytest
from django.core.management import call_command

from apps.agents.models import Agent
from apps.personas.models import Persona
from apps.screenplays.models import Screenplay

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_a_small_team_once():
    call_command("seed_demo")
    call_command("seed_demo")

    assert sorted(Agent.objects.values_list("slug", flat=True)) == [
        "assistant",
        "code_reviewer",
        "portfolio",
    ]
    assert Persona.objects.count() == 3
    assert Screenplay.objects.filter(name="Welcome to Conductor").count() == 1
    assert all(agent.persona is not None for agent in Agent.objects.all())


def test_demo_personas_are_versioned_with_a_reason():
    call_command("seed_demo")

    persona = Persona.objects.get(name="Careful reviewer")
    (version,) = persona.history.all()
    assert version.history_change_reason == "demo content"


def test_the_demo_screenplay_has_a_usable_absolute_working_directory(settings):
    call_command("seed_demo")

    screenplay = Screenplay.objects.get(name="Welcome to Conductor")
    assert screenplay.working_directory.startswith(str(settings.DATA_DIR))
