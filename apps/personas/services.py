"""Every write to a persona, whichever door it comes through.

Each write records who made it and why in the persona's history. The user is
always passed explicitly: simple-history's middleware does not see token users,
and tasks and commands have no request at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from apps.personas.exceptions import DuplicatePersonaName, PersonaInUse
from apps.personas.models import PERSONA_NAME_MAX_LENGTH, Persona, normalize_line_endings
from apps.personas.selectors import persona_version_get

logger = logging.getLogger(__name__)

Actor = AbstractBaseUser | None
COPY_NAME_ATTEMPTS = 100


def _record_author(persona: Persona, *, actor: Actor, change_reason: str | None) -> None:
    persona._history_user = actor  # type: ignore[attr-defined]
    persona._change_reason = change_reason or None  # type: ignore[attr-defined]


def _lock(persona_ids: Sequence[int]) -> None:
    """Holds the rows until commit, so that concurrent writers draw distinct version numbers."""
    list(Persona.objects.select_for_update().filter(pk__in=persona_ids).values_list("pk"))


def _ensure_name_free(persona: Persona) -> None:
    if Persona.objects.filter(name=persona.name).exclude(pk=persona.pk).exists():
        raise DuplicatePersonaName(
            f"A persona named {persona.name!r} already exists.", details={"name": persona.name}
        )


def _validate(persona: Persona) -> None:
    persona.content = normalize_line_endings(persona.content or "")
    persona.full_clean(validate_unique=False)
    _ensure_name_free(persona)


def _ensure_distinct_names(personas: Sequence[Persona]) -> None:
    names = [persona.name for persona in personas]
    if len(set(names)) != len(names):
        raise DuplicatePersonaName("Two personas in the batch have the same name.")


@contextmanager
def _name_races_are_conflicts(persona: Persona) -> Iterator[None]:
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        if Persona.objects.filter(name=persona.name).exclude(pk=persona.pk).exists():
            raise DuplicatePersonaName(details={"name": persona.name}) from None
        raise


@transaction.atomic
def persona_save(*, persona: Persona, actor: Actor, change_reason: str | None = None) -> Persona:
    """Validates and saves a persona whose fields the caller has already set.

    For doors that build the instance themselves: the admin form and its revert.
    """
    if persona.pk is not None:
        _lock([persona.pk])
    _validate(persona)
    _record_author(persona, actor=actor, change_reason=change_reason)
    with _name_races_are_conflicts(persona):
        persona.save()
    return persona


def persona_create(
    *,
    actor: Actor,
    name: str,
    content: str = "",
    metadata: dict[str, Any] | None = None,
    change_reason: str | None = None,
) -> Persona:
    persona = Persona(name=name, content=content, metadata={} if metadata is None else metadata)
    return persona_save(persona=persona, actor=actor, change_reason=change_reason)


def persona_update(
    *,
    persona: Persona,
    actor: Actor,
    name: str | None = None,
    content: str | None = None,
    metadata: dict[str, Any] | None = None,
    change_reason: str | None = None,
) -> Persona:
    """Changes the given fields; a field left as ``None`` keeps its value."""
    changes = {"name": name, "content": content, "metadata": metadata}
    for field, value in changes.items():
        if value is not None:
            setattr(persona, field, value)
    return persona_save(persona=persona, actor=actor, change_reason=change_reason)


@transaction.atomic
def persona_delete(*, persona: Persona, actor: Actor, change_reason: str | None = None) -> None:
    _lock([persona.pk])
    _record_author(persona, actor=actor, change_reason=change_reason)
    try:
        persona.delete()
    except (ProtectedError, RestrictedError) as exc:
        users = sorted({str(obj) for obj in exc.args[1]})[:20]
        raise PersonaInUse(
            f"The persona {persona.name!r} is still used.", details={"used_by": users}
        ) from None


def persona_restore(
    *, persona: Persona, version: int, actor: Actor, change_reason: str | None = None
) -> Persona:
    """Makes an old version current again, as a new version: history is never rewritten."""
    record = persona_version_get(persona=persona, version=version)
    persona.name, persona.content, persona.metadata = record.name, record.content, record.metadata
    reason = change_reason or f"Restored version {version}"
    return persona_save(persona=persona, actor=actor, change_reason=reason)


def _free_copy_name(name: str) -> str:
    for attempt in range(1, COPY_NAME_ATTEMPTS + 1):
        suffix = " (copy)" if attempt == 1 else f" (copy {attempt})"
        candidate = name[: PERSONA_NAME_MAX_LENGTH - len(suffix)] + suffix
        if not Persona.objects.filter(name=candidate).exists():
            return candidate
    raise DuplicatePersonaName(f"Could not find a free name for a copy of {name!r}.")


def persona_duplicate(
    *, persona: Persona, actor: Actor, change_reason: str | None = None
) -> Persona:
    """A copy with its own history, starting at version 1."""
    return persona_create(
        actor=actor,
        name=_free_copy_name(persona.name),
        content=persona.content,
        metadata=dict(persona.metadata),
        change_reason=change_reason or f"Duplicated from {persona.name!r}",
    )


@transaction.atomic
def persona_versions_cleanup(*, persona: Persona, keep: int, actor: Actor) -> int:
    """Deletes all but the newest ``keep`` versions; returns how many were deleted."""
    if keep < 1:
        raise ValidationError({"keep": ["Keep at least one version."]})
    _lock([persona.pk])
    history = persona.history.all()
    kept = list(history.order_by("-version").values_list("history_id", flat=True)[:keep])
    deleted, _ = history.exclude(history_id__in=kept).delete()
    logger.info(
        "Pruned %s versions of persona %s, keeping %s",
        deleted,
        persona.pk,
        keep,
        extra={"actor": actor.get_username() if actor else None},
    )
    return int(deleted)


@transaction.atomic
def persona_bulk_create(
    *, personas: Sequence[Persona], actor: Actor, change_reason: str | None
) -> list[Persona]:
    personas = list(personas)
    _ensure_distinct_names(personas)
    for persona in personas:
        _validate(persona)
        _record_author(persona, actor=actor, change_reason=change_reason)
    created: list[Persona] = bulk_create_with_history(
        personas, Persona, default_user=actor, default_change_reason=change_reason
    )
    return created


@transaction.atomic
def persona_bulk_update(
    *, personas: Sequence[Persona], fields: Sequence[str], actor: Actor, change_reason: str | None
) -> int:
    """Saves ``fields`` of many personas at once; each gets a new version."""
    personas = list(personas)
    _lock([persona.pk for persona in personas])
    _ensure_distinct_names(personas)
    now = timezone.now()
    for persona in personas:
        _validate(persona)
        _record_author(persona, actor=actor, change_reason=change_reason)
        persona.updated_at = now
    updated: int = bulk_update_with_history(
        personas,
        Persona,
        sorted({*fields, "updated_at"}),
        default_user=actor,
        default_change_reason=change_reason,
    )
    return updated
