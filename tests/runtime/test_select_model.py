"""select_model is pure: these tests build catalogs by hand and need no litellm."""

from __future__ import annotations

from dataclasses import replace

import pytest

from apps.runtime.catalog import DEMO_MODEL_INFO, ModelInfo, select_model


def model(model_id: str, **overrides: object) -> ModelInfo:
    fields: dict[str, object] = {
        "id": model_id,
        "provider": model_id.split("/")[0],
        "label": model_id,
        "context_window": 128_000,
        "max_output_tokens": 16_000,
        "supports_tools": True,
        "supports_vision": False,
        "input_price_per_million": 1.0,
        "output_price_per_million": 4.0,
        "configured": True,
    }
    fields.update(overrides)
    return ModelInfo(**fields)  # type: ignore[arg-type]


CHEAP = model("a/cheap", output_price_per_million=0.6, input_price_per_million=0.15)
MID = model("b/mid", output_price_per_million=4.0, supports_vision=True)
BIG = model("c/big", output_price_per_million=15.0, context_window=1_000_000, supports_vision=True)
CATALOG = [MID, BIG, CHEAP, DEMO_MODEL_INFO]


@pytest.mark.parametrize("task", ["general", "cheap"])
def test_it_picks_the_cheapest_model_for_general_and_cheap_tasks(task):
    assert select_model(CATALOG, task=task) == CHEAP


@pytest.mark.parametrize("task", ["complex", "reasoning"])
def test_it_picks_the_largest_context_for_complex_and_reasoning_tasks(task):
    assert select_model(CATALOG, task=task) == BIG


def test_among_equal_contexts_a_complex_task_gets_the_most_expensive_model():
    models = [CHEAP, MID]

    assert select_model(models, task="complex") == MID


def test_vision_leaves_only_models_that_see():
    assert select_model(CATALOG, require_vision=True) == MID


def test_tools_leave_only_models_with_native_tool_calling():
    no_tools = replace(CHEAP, supports_tools=False)

    assert select_model([no_tools, MID], require_tools=True) == MID


def test_min_context_leaves_only_models_with_a_large_enough_window():
    assert select_model(CATALOG, min_context=200_000) == BIG


def test_a_model_with_an_unknown_context_window_never_meets_min_context():
    unknown = replace(CHEAP, context_window=None)

    assert select_model([unknown], min_context=1) is None


def test_budget_is_the_most_paid_per_million_output_tokens():
    assert select_model(CATALOG, task="complex", budget=4.0) == MID
    assert select_model(CATALOG, task="complex", budget=3.99) == CHEAP


def test_a_model_with_an_unknown_price_never_fits_a_budget():
    unpriced = replace(CHEAP, output_price_per_million=None)

    assert select_model([unpriced], budget=100.0) is None
    assert select_model([unpriced]) == unpriced


def test_unknown_prices_rank_after_known_ones():
    unpriced = model("z/unpriced", output_price_per_million=None, input_price_per_million=None)

    assert select_model([unpriced, MID]) == MID


def test_configured_providers_rank_before_cheaper_unconfigured_ones():
    unconfigured = replace(CHEAP, configured=False)

    assert select_model([unconfigured, MID]) == MID
    assert select_model([unconfigured, BIG], task="complex") == BIG


def test_an_unconfigured_model_is_still_chosen_when_nothing_else_fits():
    unconfigured = replace(CHEAP, configured=False)

    assert select_model([unconfigured, DEMO_MODEL_INFO]) == unconfigured


def test_ties_break_on_the_model_id():
    twin_b = replace(CHEAP, id="b/twin")
    twin_a = replace(CHEAP, id="a/twin")

    assert select_model([twin_b, twin_a]) == twin_a
    assert select_model([twin_b, twin_a], task="complex") == twin_a


def test_it_never_picks_the_demo_model_unless_allowed():
    assert select_model([DEMO_MODEL_INFO]) is None
    assert select_model(CATALOG, budget=0.0) is None


def test_the_demo_model_is_the_last_resort_when_allowed():
    assert select_model(CATALOG, budget=0.0, allow_demo=True) == DEMO_MODEL_INFO
    assert select_model(CATALOG, allow_demo=True) == CHEAP


def test_an_allowed_demo_wins_over_models_whose_provider_has_no_key():
    unconfigured = replace(CHEAP, configured=False)

    assert select_model([unconfigured, DEMO_MODEL_INFO], allow_demo=True) == DEMO_MODEL_INFO


def test_the_demo_model_must_meet_the_requirements_too():
    assert select_model([DEMO_MODEL_INFO], require_tools=True, allow_demo=True) is None
    assert select_model([DEMO_MODEL_INFO], require_vision=True, allow_demo=True) is None


def test_it_answers_none_for_an_empty_catalog():
    assert select_model([], allow_demo=True) is None


def test_an_unknown_task_is_an_error():
    with pytest.raises(ValueError, match="unknown task 'poetry'"):
        select_model(CATALOG, task="poetry")
