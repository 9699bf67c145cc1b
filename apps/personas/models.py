from __future__ import annotations

from django.core.validators import MaxLengthValidator
from django.db import models
from simple_history.models import HistoricalRecords

from apps.core.models import TimeStampedModel
from apps.core.validators import JsonObjectMaxBytes, validate_no_control_characters

PERSONA_CONTENT_MAX_CHARS = 50_000
PERSONA_METADATA_MAX_BYTES = 5 * 1024


class Persona(TimeStampedModel):
    """The voice and instructions an agent speaks with. Every change is versioned."""

    name = models.CharField(max_length=200, unique=True)
    content = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(PERSONA_CONTENT_MAX_CHARS), validate_no_control_characters],
        help_text="Markdown, up to 50,000 characters.",
    )
    metadata = models.JSONField(
        default=dict, blank=True, validators=[JsonObjectMaxBytes(PERSONA_METADATA_MAX_BYTES)]
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
