from __future__ import annotations

import pytest

from apps.runtime import providers
from apps.runtime.catalog import describe_model, model_catalog
from apps.runtime.providers import DEMO_MODEL, configured_providers, default_model

PROVIDER_VARIABLES = [
    *providers.PROVIDER_KEY_ENV.values(),
    *(v for names in providers.PROVIDER_BASE_ENV.values() for v in names),
]


@pytest.fixture(autouse=True)
def no_provider_keys(monkeypatch, settings):
    for variable in PROVIDER_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    settings.CONDUCTOR_DEFAULT_MODEL = ""


def test_without_any_key_nothing_is_configured_and_the_default_is_the_demo():
    assert configured_providers() == []
    assert default_model() == DEMO_MODEL


def test_a_key_configures_its_provider_and_picks_its_default_model(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")

    assert configured_providers() == ["anthropic"]
    assert default_model() == "anthropic/claude-haiku-4-5"


def test_a_blank_key_does_not_count(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "  ")

    assert configured_providers() == []


@pytest.mark.parametrize(
    ("variable", "provider"),
    [("OPENAI_BASE_URL", "openai"), ("OPENAI_API_BASE", "openai"), ("OLLAMA_API_BASE", "ollama")],
)
def test_a_base_url_alone_makes_a_provider_usable(monkeypatch, variable, provider):
    monkeypatch.setenv(variable, "http://127.0.0.1:11434")

    assert configured_providers() == [provider]


def test_the_first_configured_provider_gives_the_default(monkeypatch):
    monkeypatch.setenv("GROQ_API_KEY", "gsk-test")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")

    assert default_model() == "gpt-4o-mini"


def test_the_default_model_setting_wins(monkeypatch, settings):
    settings.CONDUCTOR_DEFAULT_MODEL = "gemini/gemini-2.5-pro"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")

    assert default_model() == "gemini/gemini-2.5-pro"


def test_every_preferred_model_by_default_is_known_to_litellm():
    for info in model_catalog():
        if info.is_demo:
            continue
        assert info.context_window, info.id
        assert info.output_price_per_million is not None, info.id


def test_the_catalog_lists_the_preferred_models_then_the_demo(settings):
    settings.CONDUCTOR_PREFERRED_MODELS = ["gpt-4o-mini", "anthropic/claude-haiku-4-5"]

    ids = [m.id for m in model_catalog()]

    assert ids == ["gpt-4o-mini", "anthropic/claude-haiku-4-5", DEMO_MODEL]


def test_a_catalog_entry_carries_prices_per_million_and_capabilities(settings):
    settings.CONDUCTOR_PREFERRED_MODELS = ["gpt-4o-mini"]

    info = model_catalog()[0]

    assert info.provider == "openai"
    assert info.label == "gpt-4o-mini (OpenAI)"
    assert info.context_window == 128_000
    assert info.max_output_tokens == 16_384
    assert info.supports_tools is True
    assert info.supports_vision is True
    assert info.input_price_per_million == pytest.approx(0.15)
    assert info.output_price_per_million == pytest.approx(0.6)
    assert info.is_demo is False


def test_the_demo_model_is_labelled_free_and_speaks_the_json_protocol():
    demo = model_catalog()[-1]

    assert demo.id == DEMO_MODEL
    assert demo.label == "Offline demo (no provider)"
    assert demo.is_demo is True
    assert demo.configured is True
    assert demo.supports_tools is False
    assert (demo.input_price_per_million, demo.output_price_per_million) == (0.0, 0.0)


def test_a_model_unknown_to_litellm_gets_an_entry_with_unknown_values(settings):
    settings.CONDUCTOR_PREFERRED_MODELS = ["acme/never-heard-of-it", "plainly-unknown"]

    acme, plain, _demo = model_catalog()

    assert acme.provider == "acme"
    assert plain.provider == "unknown"
    assert acme.context_window is None
    assert acme.output_price_per_million is None
    assert acme.supports_tools is False
    assert acme.configured is False


def test_models_are_configured_when_their_provider_has_a_key(monkeypatch, settings):
    settings.CONDUCTOR_PREFERRED_MODELS = ["gpt-4o-mini", "anthropic/claude-haiku-4-5"]
    assert not any(m.configured for m in model_catalog() if not m.is_demo)

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")

    configured = {m.id: m.configured for m in model_catalog()}
    assert configured["anthropic/claude-haiku-4-5"] is True
    assert configured["gpt-4o-mini"] is False


def test_the_catalog_follows_a_settings_change(settings):
    settings.CONDUCTOR_PREFERRED_MODELS = ["gpt-4o"]
    assert [m.id for m in model_catalog()] == ["gpt-4o", DEMO_MODEL]

    settings.CONDUCTOR_PREFERRED_MODELS = ["gpt-4o-mini"]
    assert [m.id for m in model_catalog()] == ["gpt-4o-mini", DEMO_MODEL]


def test_a_default_model_outside_the_preferred_list_is_listed_first(settings):
    settings.CONDUCTOR_PREFERRED_MODELS = ["gpt-4o"]
    settings.CONDUCTOR_DEFAULT_MODEL = "deepseek/deepseek-chat"

    assert [m.id for m in model_catalog()] == ["deepseek/deepseek-chat", "gpt-4o", DEMO_MODEL]


def test_duplicates_and_the_demo_id_in_the_settings_are_listed_once(settings):
    settings.CONDUCTOR_PREFERRED_MODELS = ["gpt-4o", "gpt-4o", DEMO_MODEL]

    assert [m.id for m in model_catalog()] == ["gpt-4o", DEMO_MODEL]


def test_describe_model_survives_malformed_litellm_data(monkeypatch):
    import litellm

    broken = {"litellm_provider": "acme", "max_input_tokens": "lots", "input_cost_per_token": "x"}
    monkeypatch.setitem(litellm.model_cost, "acme/broken", broken)
    monkeypatch.setattr(litellm, "get_model_info", _raise)

    info = describe_model("acme/broken", usable_providers={"acme"})

    assert info.context_window is None
    assert info.input_price_per_million is None
    assert info.configured is True


def _raise(*args: object, **kwargs: object) -> None:
    raise Exception("This model isn't mapped yet.")  # litellm's own bare Exception


@pytest.mark.django_db
def test_seed_demo_gives_the_demo_team_the_default_model(settings):
    from django.core.management import call_command

    from apps.agents.models import Agent

    settings.CONDUCTOR_DEMO_MODEL = ""
    call_command("seed_demo")

    assert set(Agent.objects.values_list("model", flat=True)) == {DEMO_MODEL}


@pytest.mark.django_db
def test_the_demo_model_setting_overrides_the_default_for_the_demo_team(settings):
    from django.core.management import call_command

    from apps.agents.models import Agent

    settings.CONDUCTOR_DEMO_MODEL = "gpt-4o"
    call_command("seed_demo")

    assert set(Agent.objects.values_list("model", flat=True)) == {"gpt-4o"}
