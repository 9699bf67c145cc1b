"""The runtime configuration row and the system report built around it.

Nothing secret is stored or returned here: provider keys stay in the environment
and are reported only as present (staff see their last four characters).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections, transaction
from rest_framework.exceptions import PermissionDenied

from apps.core.exceptions import InvalidRuntimeConfig
from apps.core.models import RUNTIME_CONFIG_PK, Environment, RuntimeConfig
from apps.core.types import Actor
from apps.runtime.providers import (
    DEMO_MODEL,
    PROVIDER_BASE_ENV,
    PROVIDER_KEY_ENV,
    configured_providers,
    default_model,
)

# Shorter keys are shown only as "set": four characters of a short key say too much.
KEY_TAIL_MIN_LENGTH = 16
KEY_TAIL_LENGTH = 4


def runtime_config_get() -> RuntimeConfig:
    """The row, or an unsaved one with the defaults when nobody has set anything yet."""
    return RuntimeConfig.objects.filter(pk=RUNTIME_CONFIG_PK).first() or RuntimeConfig(
        pk=RUNTIME_CONFIG_PK
    )


def runtime_config_data(config: RuntimeConfig) -> dict[str, Any]:
    """``{environment, project, updated_by (a username or None), updated_at (ISO or None)}``."""
    return {
        "environment": config.environment,
        "project": config.project,
        "updated_by": config.updated_by.get_username() if config.updated_by else None,
        "updated_at": config.updated_at.isoformat() if config.updated_at else None,
    }


def _require_staff(actor: Actor, action: str) -> None:
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied(f"Only staff may {action}.")


def _require_user(actor: Actor) -> None:
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied("Sign in to read the system configuration.")


def _checked_environment(environment: str) -> str:
    if environment not in Environment.values:
        choices = ", ".join(Environment.values)
        raise InvalidRuntimeConfig(
            f"environment must be one of {choices}; got {environment!r}.",
            details={"environment": environment, "choices": Environment.values},
        )
    return environment


def _checked_project(config: RuntimeConfig) -> None:
    if "\n" in config.project or "\t" in config.project:
        raise InvalidRuntimeConfig("project must be a single line.")
    try:
        config.full_clean()
    except DjangoValidationError as exc:
        problems = "; ".join(f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items())
        raise InvalidRuntimeConfig(problems, details=exc.message_dict) from None


@transaction.atomic
def runtime_config_set_environment(
    *, environment: str, project: str | None, actor: Actor
) -> dict[str, Any]:
    """Staff only. ``project=None`` keeps the current project; ``""`` clears it."""
    _require_staff(actor, "change the runtime configuration")
    RuntimeConfig.objects.get_or_create(pk=RUNTIME_CONFIG_PK)
    config = RuntimeConfig.objects.select_for_update().get(pk=RUNTIME_CONFIG_PK)
    config.environment = _checked_environment(environment)
    if project is not None:
        config.project = project.strip()
    _checked_project(config)
    config.updated_by_id = getattr(actor, "pk", None)
    config.save()
    return runtime_config_data(config)


def redact_secret(value: str, *, show_tail: bool) -> str:
    """``"set"``, or "…" and the last four characters of a long enough value."""
    if show_tail and len(value) >= KEY_TAIL_MIN_LENGTH:
        return "…" + value[-KEY_TAIL_LENGTH:]
    return "set"


def public_url(url: str) -> str:
    """Scheme, host, port and path only: no user, password, query or fragment."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return "set"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _environment_values(names: list[str]) -> dict[str, str]:
    present = {name: os.environ.get(name, "").strip() for name in names}
    return {name: value for name, value in present.items() if value}


def provider_keys(*, show_tail: bool) -> dict[str, str]:
    keys = _environment_values(list(PROVIDER_KEY_ENV.values()))
    return {name: redact_secret(value, show_tail=show_tail) for name, value in keys.items()}


def provider_base_urls() -> dict[str, str]:
    names = [name for variables in PROVIDER_BASE_ENV.values() for name in variables]
    return {name: public_url(value) for name, value in _environment_values(names).items()}


def broker_kind() -> str:
    """The broker's transport ("redis", "memory"...), never its address."""
    return urlsplit(str(settings.CELERY_BROKER_URL)).scheme or "unknown"


def system_config(*, actor: Actor) -> dict[str, Any]:
    """What this deployment runs on, for any signed-in user; secrets are redacted."""
    _require_user(actor)
    model = default_model()
    return {
        **runtime_config_data(runtime_config_get()),
        "version": settings.VERSION,
        "debug": settings.DEBUG,
        "default_model": model,
        "offline_demo": model == DEMO_MODEL,
        "providers": configured_providers(),
        "provider_keys": provider_keys(show_tail=bool(getattr(actor, "is_staff", False))),
        "provider_base_urls": provider_base_urls(),
        "database": connections["default"].vendor,
        "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
        "broker": broker_kind(),
    }
