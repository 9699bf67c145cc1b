"""The model catalog and model selection (SPEC §3 "Models").

Facts about a model come from litellm's bundled price map; a model it does not
know still gets an entry, with unknown values as None.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.runtime.providers import DEMO_MODEL, configured_providers

TASKS = ("general", "cheap", "complex", "reasoning")
CHEAP_TASKS = frozenset({"general", "cheap"})
DEMO_LABEL = "Offline demo (no provider)"

PROVIDER_LABELS = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "gemini": "Google Gemini",
    "groq": "Groq",
    "deepseek": "DeepSeek",
    "mistral": "Mistral",
    "fireworks_ai": "Fireworks AI",
    "openrouter": "OpenRouter",
    "ollama": "Ollama",
    "conductor": "Conductor",
}


@dataclass(frozen=True, kw_only=True)
class ModelInfo:
    id: str
    provider: str
    label: str
    context_window: int | None
    max_output_tokens: int | None
    supports_tools: bool
    supports_vision: bool
    input_price_per_million: float | None
    output_price_per_million: float | None
    is_demo: bool = False
    configured: bool


DEMO_MODEL_INFO = ModelInfo(
    id=DEMO_MODEL,
    provider="conductor",
    label=DEMO_LABEL,
    context_window=None,
    max_output_tokens=None,
    supports_tools=False,
    supports_vision=False,
    input_price_per_million=0.0,
    output_price_per_million=0.0,
    is_demo=True,
    configured=True,
)


# --- the catalog ---------------------------------------------------------------


def model_catalog() -> list[ModelInfo]:
    """The preferred models (and the default model, if set), then the offline demo.

    Cached per settings and per configured providers, so tests that change
    either see a fresh catalog.
    """
    ids = [*settings.CONDUCTOR_PREFERRED_MODELS]
    if settings.CONDUCTOR_DEFAULT_MODEL and settings.CONDUCTOR_DEFAULT_MODEL not in ids:
        ids.insert(0, settings.CONDUCTOR_DEFAULT_MODEL)
    return list(_catalog(tuple(ids), frozenset(configured_providers())))


@functools.lru_cache(maxsize=32)
def _catalog(ids: tuple[str, ...], configured: frozenset[str]) -> tuple[ModelInfo, ...]:
    unique = [i for i in dict.fromkeys(ids) if i != DEMO_MODEL]
    real = [describe_model(i, usable_providers=configured) for i in unique]
    return (*real, DEMO_MODEL_INFO)


def describe_model(model_id: str, *, usable_providers: Collection[str]) -> ModelInfo:
    if model_id == DEMO_MODEL:
        return DEMO_MODEL_INFO
    info = _litellm_info(model_id)
    provider = str(info.get("litellm_provider") or provider_of(model_id))
    return ModelInfo(
        id=model_id,
        provider=provider,
        label=_label(model_id, provider),
        context_window=_as_int(info.get("max_input_tokens")),
        max_output_tokens=_as_int(info.get("max_output_tokens")),
        supports_tools=info.get("supports_function_calling") is True,
        supports_vision=info.get("supports_vision") is True,
        input_price_per_million=_per_million(info.get("input_cost_per_token")),
        output_price_per_million=_per_million(info.get("output_cost_per_token")),
        configured=provider in usable_providers,
    )


def provider_of(model_id: str) -> str:
    """litellm's provider for a model id; the id's prefix when litellm cannot tell."""
    import litellm

    try:
        return str(litellm.get_llm_provider(model_id)[1])
    except Exception:  # litellm raises BadRequestError, or worse, for unknown ids
        return model_id.split("/", 1)[0] if "/" in model_id else "unknown"


def _litellm_info(model_id: str) -> dict[str, Any]:
    import litellm

    try:
        return dict(litellm.get_model_info(model_id))
    except Exception:  # unmapped model: litellm raises a bare Exception subclass
        entry = litellm.model_cost.get(model_id)
        return dict(entry) if isinstance(entry, dict) else {}


def _label(model_id: str, provider: str) -> str:
    prefix = f"{provider}/"
    name = model_id[len(prefix) :] if model_id.startswith(prefix) else model_id
    return f"{name} ({PROVIDER_LABELS.get(provider, provider)})"


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _per_million(cost_per_token: Any) -> float | None:
    if isinstance(cost_per_token, bool) or not isinstance(cost_per_token, int | float):
        return None
    return round(float(cost_per_token) * 1_000_000, 6)


# --- selection -----------------------------------------------------------------


def select_model(
    models: Sequence[ModelInfo],
    *,
    task: str = "general",
    budget: float | None = None,
    require_vision: bool = False,
    min_context: int | None = None,
    require_tools: bool = False,
    allow_demo: bool = False,
) -> ModelInfo | None:
    """The best model of ``models`` for a task, or None when none fits.

    ``budget`` is the most you will pay, in USD per million *output* tokens; a
    model whose output price is unknown never fits a budget. A model with an
    unknown context window never fits ``min_context``.

    Tasks: "general" and "cheap" pick the lowest price; "complex" and
    "reasoning" pick the largest context window, then the most expensive model
    (price stands in for capability). Models of configured providers always
    rank first. The offline demo model is picked only when ``allow_demo`` is
    true and no configured real model fits; it then wins over unconfigured ones.
    Ties break on the model id.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    fitting = [
        m
        for m in models
        if _fits(m, budget, require_vision=require_vision, min_context=min_context)
        and (m.supports_tools or not require_tools)
    ]
    real = sorted((m for m in fitting if not m.is_demo), key=_ranking(task))
    demo = [m for m in fitting if m.is_demo] if allow_demo else []
    if real and (real[0].configured or not demo):
        return real[0]
    return demo[0] if demo else None


def _fits(
    model: ModelInfo, budget: float | None, *, require_vision: bool, min_context: int | None
) -> bool:
    if require_vision and not model.supports_vision:
        return False
    context = model.context_window
    if min_context is not None and (context is None or context < min_context):
        return False
    price = model.output_price_per_million
    return budget is None or (price is not None and price <= budget)


def _ranking(task: str) -> Callable[[ModelInfo], tuple[Any, ...]]:
    if task in CHEAP_TASKS:
        return _cheapest_first
    return _most_capable_first


def _cheapest_first(model: ModelInfo) -> tuple[Any, ...]:
    output, input_ = model.output_price_per_million, model.input_price_per_million
    unknown = output is None
    return (not model.configured, unknown, output or 0.0, input_ or 0.0, model.id)


def _most_capable_first(model: ModelInfo) -> tuple[Any, ...]:
    context = model.context_window or 0
    price = model.output_price_per_million or 0.0
    return (not model.configured, -context, -price, model.id)
