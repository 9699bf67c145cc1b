import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from rest_framework.exceptions import PermissionDenied

from apps.agents.exceptions import UnknownTemplateSet
from apps.agents.models import Agent
from apps.agents.template_sets import (
    agent_template_archive,
    agent_templates_available,
    agent_templates_install,
)
from apps.archive.services import archive_build, archive_restore
from apps.personas.models import Persona
from apps.runtime.providers import DEMO_MODEL, PROVIDER_BASE_ENV, PROVIDER_KEY_ENV
from apps.runtime.tools import registry
from apps.screenplays.markdown_validation import validate_markdown
from apps.screenplays.models import Screenplay
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SET_NAMES = ["code-review", "research"]


def test_it_lists_the_bundled_sets_with_what_each_installs():
    available = agent_templates_available()

    assert [entry["name"] for entry in available] == SET_NAMES
    for entry in available:
        assert set(entry) == {
            "name",
            "title",
            "description",
            "agents",
            "personas",
            "screenplays",
        }
        assert entry["title"]
        assert len(entry["description"]) > 20
        assert (entry["agents"], entry["personas"], entry["screenplays"]) == (2, 2, 1)


@pytest.mark.parametrize("name", SET_NAMES)
def test_installing_a_set_creates_its_agents_personas_and_screenplays(editor, name):
    report = agent_templates_install(name=name, actor=editor)

    assert report.created == {"agents": 2, "personas": 2, "screenplays": 1}
    archive = agent_template_archive(name)
    for entry in archive["agents"]:
        agent = Agent.objects.get(slug=entry["slug"])
        assert agent.persona.name == entry["persona"]
        agent.full_clean()
    for entry in archive["personas"]:
        version = Persona.objects.get(name=entry["name"]).history.get()
        assert version.history_user == editor
        assert version.history_change_reason == f"Installed from the template set {name!r}"
    assert Screenplay.objects.filter(uid=archive["screenplays"][0]["uid"]).exists()


@pytest.mark.parametrize("name", SET_NAMES)
def test_installing_a_set_twice_changes_nothing(editor, name):
    agent_templates_install(name=name, actor=editor)
    before = archive_build()

    again = agent_templates_install(name=name, actor=editor)

    assert again.skipped == {"agents": 2, "personas": 2, "screenplays": 1}
    assert archive_build()["personas"] == before["personas"]


def test_reinstalling_puts_back_a_template_agent_edited_locally(editor):
    agent_templates_install(name="research", actor=editor)
    Agent.objects.filter(slug="web_researcher").update(tools=[])

    report = agent_templates_install(name="research", actor=editor)

    assert report.updated["agents"] == 1
    assert "web_fetch" in Agent.objects.get(slug="web_researcher").tools


def test_template_agents_get_the_model_the_demo_team_gets(editor, settings, monkeypatch):
    for variable in [*PROVIDER_KEY_ENV.values(), *sum(PROVIDER_BASE_ENV.values(), ())]:
        monkeypatch.delenv(variable, raising=False)
    settings.CONDUCTOR_DEFAULT_MODEL = ""
    settings.CONDUCTOR_DEMO_MODEL = ""
    agent_templates_install(name="code-review", actor=editor)
    assert set(Agent.objects.values_list("model", flat=True)) == {DEMO_MODEL}

    settings.CONDUCTOR_DEMO_MODEL = "anthropic/claude-haiku-4-5"
    report = agent_templates_install(name="code-review", actor=editor)

    assert report.updated["agents"] == 2
    assert set(Agent.objects.values_list("model", flat=True)) == {"anthropic/claude-haiku-4-5"}


@pytest.mark.parametrize("name", SET_NAMES)
def test_every_tool_a_template_agent_names_is_registered(name):
    registered = set(registry.names())

    for entry in agent_template_archive(name)["agents"]:
        assert set(entry["tools"]) <= registered, entry["slug"]


@pytest.mark.parametrize("name", SET_NAMES)
def test_template_screenplays_are_markdown_without_errors_or_warnings(name):
    for entry in agent_template_archive(name)["screenplays"]:
        report = validate_markdown(entry["content"])
        assert (report.errors, report.warnings) == ([], [])


def test_a_set_can_be_restored_as_an_archive_by_staff(staff):
    report = archive_restore(archive=agent_template_archive("research"), actor=staff)

    assert report.created["agents"] == 2


@pytest.mark.parametrize("name", ["nope", "../../etc/passwd", "code-review.json", "", "RESEARCH"])
def test_an_unknown_set_is_refused_with_the_list_of_sets(editor, name):
    with pytest.raises(UnknownTemplateSet) as raised:
        agent_templates_install(name=name, actor=editor)

    assert raised.value.message == (
        f"There is no template set {name!r}. Available: code-review, research."
    )
    assert not Agent.objects.exists()


@pytest.fixture(params=["viewer", "anonymous", "nobody", "staff_without_permissions"])
def not_an_editor(request):
    if request.param == "anonymous":
        return AnonymousUser()
    if request.param == "nobody":
        return None
    if request.param == "staff_without_permissions":
        return UserFactory(username="bare-staff", is_staff=True)
    return request.getfixturevalue(request.param)


def test_installing_needs_permission_to_add_agents(not_an_editor):
    with pytest.raises(PermissionDenied):
        agent_templates_install(name="code-review", actor=not_an_editor)

    assert not Agent.objects.exists()
    assert not Persona.objects.exists()


def test_permission_to_add_agents_alone_is_not_enough(viewer):
    viewer.user_permissions.add(Permission.objects.get(codename="add_agent"))

    with pytest.raises(PermissionDenied, match="add and change agents, personas and screenplays"):
        agent_templates_install(name="code-review", actor=viewer)


def test_a_superuser_may_install(staff):
    assert agent_templates_install(name="code-review", actor=staff).created["agents"] == 2


def test_an_unknown_set_name_is_checked_after_permission(viewer):
    with pytest.raises(PermissionDenied):
        agent_templates_install(name="nope", actor=viewer)
