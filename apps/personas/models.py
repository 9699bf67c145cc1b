from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.validators import MaxLengthValidator
from django.db import models
from simple_history.models import HistoricalRecords

from apps.core.models import TimeStampedModel
from apps.core.validators import JsonObjectMaxBytes, validate_no_control_characters

PERSONA_NAME_MAX_LENGTH = 200
PERSONA_CONTENT_MAX_CHARS = 50_000
PERSONA_METADATA_MAX_BYTES = 5 * 1024
CHANGE_REASON_MAX_LENGTH = 255


def normalize_line_endings(text: str) -> str:
    """CRLF becomes LF, so that Windows text passes validation; a lone CR stays invalid."""
    return text.replace("\r\n", "\n")


def _next_versions(
    history_model: Any, persona_ids: Iterable[int], using: str | None = None
) -> dict[int, int]:
    latest = (
        history_model._default_manager.db_manager(using)
        .filter(id__in=set(persona_ids))
        .values("id")
        .annotate(latest=models.Max("version"))
        .values_list("id", "latest")
    )
    return {persona_id: (number or 0) + 1 for persona_id, number in latest}


class VersionNumberingManager(models.Manager):
    """Numbers the rows of simple-history's bulk helpers as a single save would."""

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        pending = [obj for obj in objs if obj.version is None]
        counters: dict[int, int] = defaultdict(lambda: 1)
        counters.update(_next_versions(self.model, (obj.id for obj in pending), self.db))
        for obj in pending:
            obj.version = counters[obj.id]
            counters[obj.id] += 1
        return super().bulk_create(objs, *args, **kwargs)


class PersonaVersionBase(models.Model):
    """The base of ``HistoricalPersona``: every history row gets a per-persona version number.

    Numbers are the persona's highest number plus one, so they are never reused:
    pruning keeps the newest rows, and a deleted persona's id is never reused.
    Writers hold the persona's row lock (see services) so that two writers
    cannot draw the same number.
    """

    version = models.PositiveIntegerField(editable=False, db_index=True)

    objects = VersionNumberingManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.version is None:
            using = kwargs.get("using") or self._state.db
            self.version = _next_versions(type(self), [self.id], using).get(self.id, 1)
        super().save(*args, **kwargs)


class VersionedHistoricalRecords(HistoricalRecords):
    """simple-history's records, with a database guarantee that a version is never drawn twice."""

    def get_meta_options(self, model: type[models.Model]) -> dict[str, Any]:
        options: dict[str, Any] = super().get_meta_options(model)
        options["constraints"] = [
            models.UniqueConstraint(
                fields=["id", "version"], name=f"{model._meta.db_table}_history_unique_version"
            )
        ]
        return options


class Persona(TimeStampedModel):
    """The voice and instructions an agent speaks with. Every change is versioned."""

    name = models.CharField(max_length=PERSONA_NAME_MAX_LENGTH, unique=True)
    content = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(PERSONA_CONTENT_MAX_CHARS), validate_no_control_characters],
        help_text="Markdown, up to 50,000 characters.",
    )
    metadata = models.JSONField(
        default=dict, blank=True, validators=[JsonObjectMaxBytes(PERSONA_METADATA_MAX_BYTES)]
    )

    history = VersionedHistoricalRecords(
        bases=[PersonaVersionBase],
        history_change_reason_field=models.CharField(
            max_length=CHANGE_REASON_MAX_LENGTH, null=True, blank=True
        ),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
