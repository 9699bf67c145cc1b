import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError
from django.urls import reverse
from rest_framework.exceptions import PermissionDenied

from apps.core.exceptions import InvalidRuntimeConfig
from apps.core.models import RuntimeConfig
from apps.core.runtime_config import (
    public_url,
    redact_secret,
    runtime_config_set_environment,
    system_config,
)
from apps.runtime.providers import PROVIDER_BASE_ENV, PROVIDER_KEY_ENV

pytestmark = pytest.mark.django_db

OPENAI_KEY = "sk-proj-SECRETsecretSECRETsecret-9f3a"
ANTHROPIC_KEY = "sk-ant-api03-TOPSECRET-value-77aa"


@pytest.fixture
def no_provider_env(monkeypatch, settings):
    for variable in [*PROVIDER_KEY_ENV.values(), *sum(PROVIDER_BASE_ENV.values(), ())]:
        monkeypatch.delenv(variable, raising=False)
    settings.CONDUCTOR_DEFAULT_MODEL = ""


def test_without_a_row_the_defaults_are_reported(viewer, no_provider_env):
    config = system_config(actor=viewer)

    assert config["environment"] == "development"
    assert config["project"] == ""
    assert config["updated_by"] is None
    assert config["default_model"] == "conductor/offline-demo"
    assert config["offline_demo"] is True
    assert config["providers"] == []
    assert config["provider_keys"] == {}


def test_staff_set_the_environment_and_project(staff, viewer):
    result = runtime_config_set_environment(environment="staging", project="  Atlas  ", actor=staff)

    assert result["environment"] == "staging"
    assert result["project"] == "Atlas"
    assert result["updated_by"] == "staff"
    assert result["updated_at"]
    assert RuntimeConfig.objects.get().environment == "staging"
    assert system_config(actor=viewer)["project"] == "Atlas"


def test_leaving_the_project_out_keeps_it_and_an_empty_one_clears_it(staff):
    runtime_config_set_environment(environment="staging", project="Atlas", actor=staff)

    kept = runtime_config_set_environment(environment="production", project=None, actor=staff)
    cleared = runtime_config_set_environment(environment="production", project="", actor=staff)

    assert kept["project"] == "Atlas"
    assert cleared["project"] == ""
    assert RuntimeConfig.objects.count() == 1


@pytest.mark.parametrize("environment", ["prod", "", "Production", "dev", None])
def test_an_unknown_environment_is_refused_with_the_choices(staff, environment):
    with pytest.raises(InvalidRuntimeConfig) as raised:
        runtime_config_set_environment(environment=environment, project=None, actor=staff)

    assert raised.value.message == (
        f"environment must be one of development, staging, production; got {environment!r}."
    )
    assert not RuntimeConfig.objects.exists()


@pytest.mark.parametrize(
    ("project", "message"),
    [
        ("x" * 101, "project: Ensure this value has at most 100 characters (it has 101)."),
        ("two\nlines", "project must be a single line."),
        ("bell\x07", "project: "),
    ],
)
def test_a_bad_project_is_refused(staff, project, message):
    with pytest.raises(InvalidRuntimeConfig) as raised:
        runtime_config_set_environment(environment="staging", project=project, actor=staff)

    assert raised.value.message.startswith(message)


@pytest.mark.parametrize("who", ["viewer", "other_user", "anonymous", "nobody"])
def test_only_staff_change_the_runtime_configuration(request, who):
    outsiders = {"anonymous": AnonymousUser(), "nobody": None}
    actor = outsiders[who] if who in outsiders else request.getfixturevalue(who)

    with pytest.raises(PermissionDenied, match="Only staff may change the runtime configuration"):
        runtime_config_set_environment(environment="production", project="x", actor=actor)

    assert not RuntimeConfig.objects.exists()


@pytest.mark.parametrize("actor", [None, AnonymousUser()])
def test_reading_the_system_configuration_needs_a_user(actor):
    with pytest.raises(PermissionDenied, match="Sign in"):
        system_config(actor=actor)


def test_it_reports_what_the_deployment_runs_on(viewer, settings):
    config = system_config(actor=viewer)

    assert config["database"] in {"sqlite", "postgresql"}
    assert config["channel_layer"] == settings.CHANNEL_LAYERS["default"]["BACKEND"]
    assert config["broker"] in {"memory", "redis"}
    assert config["version"] == settings.VERSION


def test_provider_keys_are_never_shown_in_clear(staff, viewer, monkeypatch, no_provider_env):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("GROQ_API_KEY", "gsk_short")

    for actor in (staff, viewer):
        config = system_config(actor=actor)
        flat = json.dumps(config)
        for key in (OPENAI_KEY, ANTHROPIC_KEY, "gsk_short"):
            assert key not in flat
            assert key[:-4] not in flat
        assert "SECRET" not in flat
        assert config["providers"] == ["openai", "anthropic", "groq"]
        assert config["default_model"] == "gpt-4o-mini"

    assert system_config(actor=staff)["provider_keys"] == {
        "OPENAI_API_KEY": "…9f3a",
        "ANTHROPIC_API_KEY": "…77aa",
        "GROQ_API_KEY": "set",
    }
    assert set(system_config(actor=viewer)["provider_keys"].values()) == {"set"}


def test_base_urls_lose_their_credentials_and_query(viewer, monkeypatch, no_provider_env):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://user:hunter2@llm.internal:8443/v1?key=abc#x")
    monkeypatch.setenv("OLLAMA_API_BASE", "http://[::1]:11434")

    config = system_config(actor=viewer)

    assert config["provider_base_urls"] == {
        "OPENAI_BASE_URL": "https://llm.internal:8443/v1",
        "OLLAMA_API_BASE": "http://[::1]:11434",
    }
    assert "hunter2" not in json.dumps(config)
    assert "key=abc" not in json.dumps(config)


@pytest.mark.parametrize(
    ("value", "show_tail", "shown"),
    [
        ("sk-0123456789abcdef", True, "…cdef"),
        ("sk-0123456789abcdef", False, "set"),
        ("short-key-12345", True, "set"),
    ],
)
def test_redact_secret_shows_at_most_the_last_four_characters(value, show_tail, shown):
    assert redact_secret(value, show_tail=show_tail) == shown


def test_a_url_without_a_host_is_only_reported_as_set():
    assert public_url("not a url") == "set"


def test_the_database_allows_one_row_only(staff):
    runtime_config_set_environment(environment="staging", project="", actor=staff)

    with pytest.raises(IntegrityError):
        RuntimeConfig.objects.create(pk=2)


def test_staff_edit_it_in_the_admin_and_cannot_delete_it(client, staff):
    client.force_login(staff)

    added = client.post(
        reverse("admin:core_runtimeconfig_add"), {"environment": "production", "project": "Atlas"}
    )

    assert added.status_code == 302
    row = RuntimeConfig.objects.get()
    assert (row.pk, row.environment, row.project) == (1, "production", "Atlas")
    assert row.updated_by == staff
    changelist = client.get(reverse("admin:core_runtimeconfig_changelist"))
    assert changelist.status_code == 200
    assert b"Production (Atlas)" in changelist.content
    assert client.get(reverse("admin:core_runtimeconfig_add")).status_code == 403
    assert client.get(reverse("admin:core_runtimeconfig_delete", args=[1])).status_code == 403
    changed = client.post(
        reverse("admin:core_runtimeconfig_change", args=[1]),
        {"environment": "staging", "project": "Atlas"},
    )
    assert changed.status_code == 302
    assert RuntimeConfig.objects.get().environment == "staging"
