"""What restoring any entry needs: the target, timestamps and model validation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.dateparse import parse_datetime

from apps.archive.entries import TIMESTAMP_FIELDS
from apps.archive.exceptions import InvalidArchive

Outcome = Literal["created", "updated", "skipped"]


@dataclass(frozen=True)
class Target:
    """The database written to, and who the new persona versions are recorded as."""

    using: str
    author: Any
    reason: str
    user_ids: dict[str, int]


def when(value: str | None) -> datetime | None:
    """An archive timestamp (validated as aware ISO 8601 by the schema) as a datetime."""
    return parse_datetime(value) if value else None


def error_text(exc: DjangoValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in exc.message_dict.items())
    return " ".join(exc.messages)


@contextmanager
def reported_as(where: str) -> Iterator[None]:
    try:
        yield
    except DjangoValidationError as exc:
        details = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        raise InvalidArchive(
            f"The archive is invalid: {where}: {error_text(exc)}", details={where: details}
        ) from None


def clean(row: models.Model, where: str) -> None:
    with reported_as(where):
        row.full_clean(validate_unique=False, validate_constraints=False)


def differs(row: models.Model, values: dict[str, Any]) -> bool:
    return any(getattr(row, name) != value for name, value in values.items())


def stamp(row: models.Model, entry: dict[str, Any], using: str) -> None:
    """created_at and updated_at as the archive has them (auto_now would overwrite a save)."""
    stamps = {name: when(entry[name]) for name in TIMESTAMP_FIELDS if entry.get(name)}
    if stamps:
        type(row)._base_manager.using(using).filter(pk=row.pk).update(**stamps)
