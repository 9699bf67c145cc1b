"""Restoring an archive: create what is missing, update what differs, skip what is equal.

Entries are matched by natural key: personas by name, agents by slug, screenplays
by uid. A field an entry leaves out is neither compared nor changed, so hand-written
archives (the bundled template sets) may omit timestamps and defaults. ``created_at``
and ``updated_at`` are applied to the rows a restore creates; an existing row keeps
its own.

Persona history is never rewritten: versions missing locally are added with their
original number, date, author and reason; a version number already present is kept
as it is. When the persona's current text differs from the archive's, it changes
like any edit, as a new version by the restoring user, unless the newest version
(perhaps one just added) already holds that text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DataError, IntegrityError, transaction

from apps.archive.exceptions import ArchiveConflict, InvalidArchive
from apps.archive.restore.agents import restore_agent
from apps.archive.restore.personas import restore_persona
from apps.archive.restore.rows import Outcome, Target
from apps.archive.restore.screenplays import restore_screenplay
from apps.archive.schema import KINDS, archive_validate
from apps.core.types import Actor

__all__ = ["RestoreReport", "restore_archive"]


@dataclass(frozen=True)
class RestoreReport:
    """How many entries of each kind ("agents", "personas", "screenplays") had each outcome."""

    created: dict[str, int]
    updated: dict[str, int]
    skipped: dict[str, int]

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            "created": dict(self.created),
            "updated": dict(self.updated),
            "skipped": dict(self.skipped),
        }


@dataclass
class _Tally:
    counts: dict[Outcome, Counter[str]] = field(
        default_factory=lambda: {"created": Counter(), "updated": Counter(), "skipped": Counter()}
    )

    def add(self, kind: str, outcome: Outcome) -> None:
        self.counts[outcome][kind] += 1

    def report(self) -> RestoreReport:
        def per_kind(outcome: Outcome) -> dict[str, int]:
            return {kind: self.counts[outcome][kind] for kind in KINDS}

        return RestoreReport(per_kind("created"), per_kind("updated"), per_kind("skipped"))


def _user_ids(using: str, usernames: set[str]) -> dict[str, int]:
    user_model = get_user_model()
    field_name = user_model.USERNAME_FIELD
    users = user_model._default_manager.using(using).filter(**{f"{field_name}__in": usernames})
    return {str(name): pk for name, pk in users.values_list(field_name, "pk")}


def _target(archive: dict[str, Any], actor: Actor, using: str, reason: str) -> Target:
    """Users are matched by username: an author unknown to ``using`` is recorded as nobody."""
    usernames = {
        version["user"]
        for persona in archive["personas"]
        for version in persona.get("history") or []
        if version.get("user")
    }
    actor_name = actor.get_username() if actor is not None and actor.is_authenticated else None
    user_ids = _user_ids(using, usernames | ({actor_name} if actor_name else set()))
    author_id = user_ids.get(actor_name) if actor_name else None
    users = get_user_model()._default_manager.using(using)
    author = users.filter(pk=author_id).first() if author_id is not None else None
    return Target(using=using, author=author, reason=reason, user_ids=user_ids)


# In this order: agents refer to personas by name.
RESTORERS = {
    "personas": (restore_persona, "name"),
    "agents": (restore_agent, "slug"),
    "screenplays": (restore_screenplay, "uid"),
}


def _restore_all(archive: dict[str, Any], target: Target) -> RestoreReport:
    tally = _Tally()
    for kind, (restore, key) in RESTORERS.items():
        for index, entry in enumerate(archive[kind]):
            tally.add(kind, restore(entry, target, f"{kind}[{index}] ({entry[key]!r})"))
    return tally.report()


def restore_archive(archive: object, *, actor: Actor, using: str, reason: str) -> RestoreReport:
    """Validates, then restores in one transaction on ``using``; no permission check here.

    ``reason`` is the change reason of the persona versions the restore itself records.
    """
    valid = archive_validate(archive)
    try:
        with transaction.atomic(using=using):
            return _restore_all(valid, _target(valid, actor, using, reason))
    except IntegrityError as exc:
        raise ArchiveConflict(
            f"The archive clashes with a change made at the same time: {exc}"
        ) from None
    except DataError as exc:
        raise InvalidArchive(
            f"The archive holds a value the database cannot store: {exc}"
        ) from None
