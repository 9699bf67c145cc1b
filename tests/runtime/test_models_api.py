from __future__ import annotations

import pytest

from apps.runtime import providers
from apps.runtime.providers import DEMO_MODEL
from tests.envelope import assert_envelope

pytestmark = pytest.mark.django_db

CATALOG_URL = "/api/models/"
SELECT_URL = "/api/models/select/"
FIELDS = {
    "id", "provider", "label", "context_window", "max_output_tokens", "supports_tools",
    "supports_vision", "input_price_per_million", "output_price_per_million", "is_demo",
    "configured",
}  # fmt: skip


@pytest.fixture(autouse=True)
def small_catalog(monkeypatch, settings):
    for variable in providers.PROVIDER_KEY_ENV.values():
        monkeypatch.delenv(variable, raising=False)
    for names in providers.PROVIDER_BASE_ENV.values():
        for variable in names:
            monkeypatch.delenv(variable, raising=False)
    settings.CONDUCTOR_DEFAULT_MODEL = ""
    settings.CONDUCTOR_PREFERRED_MODELS = ["gpt-4o-mini", "gpt-4.1", "anthropic/claude-haiku-4-5"]


def test_the_catalog_lists_every_model_with_its_facts(viewer_client):
    response = viewer_client.get(CATALOG_URL)

    assert response.status_code == 200
    body = response.json()
    ids = [m["id"] for m in body["results"]]
    assert ids == ["gpt-4o-mini", "gpt-4.1", "anthropic/claude-haiku-4-5", DEMO_MODEL]
    assert all(set(m) == FIELDS for m in body["results"])
    mini = body["results"][0]
    assert mini["output_price_per_million"] == pytest.approx(0.6)
    assert mini["context_window"] == 128_000
    assert mini["configured"] is False


def test_without_keys_the_default_is_the_labelled_demo_model(viewer_client):
    body = viewer_client.get(CATALOG_URL).json()

    assert body["default"] == DEMO_MODEL
    demo = body["results"][-1]
    assert demo["is_demo"] is True
    assert demo["label"] == "Offline demo (no provider)"


def test_a_provider_key_marks_its_models_configured_and_sets_the_default(
    viewer_client, monkeypatch
):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")

    body = viewer_client.get(CATALOG_URL).json()

    configured = {m["id"]: m["configured"] for m in body["results"]}
    assert configured["anthropic/claude-haiku-4-5"] is True
    assert configured["gpt-4o-mini"] is False
    assert body["default"] == "anthropic/claude-haiku-4-5"


@pytest.mark.parametrize("url", [CATALOG_URL, SELECT_URL])
def test_anonymous_requests_are_refused(api_client, url):
    response = api_client.get(url)

    assert_envelope(response, 401, "not_authenticated")


def test_select_picks_the_cheapest_model_by_default(viewer_client):
    response = viewer_client.get(SELECT_URL)

    assert response.status_code == 200
    assert response.json()["id"] == "gpt-4o-mini"
    assert set(response.json()) == FIELDS


def test_select_prefers_a_configured_provider(viewer_client, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")

    response = viewer_client.get(SELECT_URL)

    assert response.json()["id"] == "anthropic/claude-haiku-4-5"


def test_select_for_a_complex_task_picks_the_largest_context(viewer_client):
    response = viewer_client.get(SELECT_URL, {"task": "complex"})

    assert response.json()["id"] == "gpt-4.1"


def test_select_honours_the_budget_and_the_requirements(viewer_client):
    params = {
        "task": "reasoning",
        "budget": "5",
        "require_vision": "true",
        "require_tools": "1",
        "min_context": "150000",
    }

    response = viewer_client.get(SELECT_URL, params)

    assert response.json()["id"] == "anthropic/claude-haiku-4-5"


def test_select_answers_404_when_no_model_fits(viewer_client):
    response = viewer_client.get(SELECT_URL, {"budget": "0.01"})

    error = assert_envelope(response, 404, "no_model_fits")
    assert error["message"] == "No model fits these requirements."
    assert error["details"]["budget"] == 0.01


def test_select_offers_the_demo_model_only_when_asked(viewer_client):
    response = viewer_client.get(SELECT_URL, {"budget": "0", "allow_demo": "true"})

    assert response.status_code == 200
    assert response.json()["id"] == DEMO_MODEL


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"budget": "abc"}, "budget"),
        ({"budget": "-1"}, "budget"),
        ({"budget": "nan"}, "budget"),
        ({"budget": "inf"}, "budget"),
        ({"min_context": "-5"}, "min_context"),
        ({"min_context": "lots"}, "min_context"),
        ({"require_vision": "maybe"}, "require_vision"),
        ({"require_tools": "perhaps"}, "require_tools"),
        ({"allow_demo": "sure"}, "allow_demo"),
        ({"task": "poetry"}, "task"),
    ],
)
def test_select_rejects_bad_parameters(viewer_client, params, field):
    response = viewer_client.get(SELECT_URL, params)

    error = assert_envelope(response, 400, "validation_error")
    assert set(error["details"]) == {field}


def test_the_schema_documents_both_endpoints_without_warnings(capsys):
    from django.urls import path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    from apps.runs.catalog_api import ModelCatalogView, ModelSelectView

    patterns = [
        path("api/models/", ModelCatalogView.as_view()),
        path("api/models/select/", ModelSelectView.as_view()),
    ]
    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)

    validate_schema(schema)
    assert not GENERATOR_STATS, capsys.readouterr().err
    select_parameters = {p["name"] for p in schema["paths"][SELECT_URL]["get"]["parameters"]}
    assert CATALOG_URL in schema["paths"]
    assert {"task", "budget", "require_vision", "min_context", "require_tools"} <= select_parameters
