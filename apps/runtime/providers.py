"""Which LLM providers this deployment can reach, read from the environment.

Provider keys are read when asked, not at start-up, so a key added to the
environment of a running worker (or by a test) counts at once.
"""

from __future__ import annotations

import os

from django.conf import settings

DEMO_MODEL = "conductor/offline-demo"

# litellm's provider name -> the environment variable holding its API key.
PROVIDER_KEY_ENV: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "groq": "GROQ_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "fireworks_ai": "FIREWORKS_AI_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
}

# Keyless providers: a base URL alone makes them usable (a local server).
PROVIDER_BASE_ENV: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_BASE_URL", "OPENAI_API_BASE"),
    "ollama": ("OLLAMA_API_BASE",),
}

# The model default_model() picks for a provider: cheap, capable, tool calling.
PROVIDER_DEFAULT_MODEL: dict[str, str] = {
    "openai": "gpt-4o-mini",
    "anthropic": "anthropic/claude-haiku-4-5",
    "gemini": "gemini/gemini-2.5-flash",
    "groq": "groq/openai/gpt-oss-120b",
    "deepseek": "deepseek/deepseek-chat",
    "mistral": "mistral/mistral-small-latest",
    "fireworks_ai": "fireworks_ai/accounts/fireworks/models/llama-v3p1-70b-instruct",
    "openrouter": "openrouter/openai/gpt-4o-mini",
    "ollama": "ollama/llama3.1",
}


def _is_set(variable: str) -> bool:
    return bool(os.environ.get(variable, "").strip())


def _usable(provider: str) -> bool:
    key = PROVIDER_KEY_ENV.get(provider)
    variables = (key,) if key else ()
    return any(_is_set(v) for v in variables + PROVIDER_BASE_ENV.get(provider, ()))


def redact_provider_keys(text: str) -> str:
    """``text`` without the configured provider keys: some OpenAI-compatible servers quote
    the key they refuse, and their message becomes a run's error and a log line."""
    for variable in PROVIDER_KEY_ENV.values():
        key = os.environ.get(variable, "").strip()
        if key:
            text = text.replace(key, f"[{variable}]")
    return text


def configured_providers() -> list[str]:
    """Providers with a key (or a base URL) in the environment, in a stable order."""
    known = list(PROVIDER_KEY_ENV) + [p for p in PROVIDER_BASE_ENV if p not in PROVIDER_KEY_ENV]
    return [provider for provider in known if _usable(provider)]


def default_model() -> str:
    """CONDUCTOR_DEFAULT_MODEL, else the first configured provider's model, else the demo."""
    if settings.CONDUCTOR_DEFAULT_MODEL:
        return str(settings.CONDUCTOR_DEFAULT_MODEL)
    configured = configured_providers()
    return PROVIDER_DEFAULT_MODEL[configured[0]] if configured else DEMO_MODEL
