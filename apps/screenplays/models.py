from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.db import models

from apps.core.models import SoftDeleteModel, TimeStampedModel
from apps.core.validators import (
    validate_absolute_path,
    validate_no_control_characters,
    validate_string_list,
)
from apps.screenplays.paths import MAX_PATH_LENGTH, validate_location, validate_markdown_file_path

NAME_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 500
CONTENT_MAX_LENGTH = 1_000_000
TAG_MAX_LENGTH = 50
MAX_TAGS = 50


def validate_tags(value: object) -> None:
    validate_string_list(value)
    assert isinstance(value, list)
    if len(value) > MAX_TAGS:
        raise ValidationError(f"At most {MAX_TAGS} tags.", code="too_many_tags")
    if any(not tag.strip() or len(tag) > TAG_MAX_LENGTH for tag in value):
        raise ValidationError(f"Each tag must be 1 to {TAG_MAX_LENGTH} characters.", code="bad_tag")


class Screenplay(SoftDeleteModel, TimeStampedModel):
    """A markdown project document: prompt context and the default working directory.

    Write through ``apps.screenplays.services``: they keep ``version``,
    ``content_hash`` and ``file_key`` in step with the content and paths.
    """

    # The identity that survives a backup and restore into another database: names repeat.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(
        max_length=NAME_MAX_LENGTH,
        validators=[MinLengthValidator(1), validate_no_control_characters],
    )
    description = models.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, blank=True, validators=[validate_no_control_characters]
    )
    tags = models.JSONField(default=list, blank=True, validators=[validate_tags])
    content = models.TextField(
        validators=[MaxLengthValidator(CONTENT_MAX_LENGTH), validate_no_control_characters],
        help_text="Markdown.",
    )
    working_directory = models.CharField(
        max_length=MAX_PATH_LENGTH,
        blank=True,
        validators=[validate_absolute_path, validate_location],
        help_text="Absolute path; runs use it when they name no cwd.",
    )
    file_path = models.CharField(
        max_length=MAX_PATH_LENGTH, blank=True, validators=[validate_markdown_file_path]
    )
    import_path = models.CharField(
        max_length=MAX_PATH_LENGTH, blank=True, validators=[validate_markdown_file_path]
    )
    export_path = models.CharField(
        max_length=MAX_PATH_LENGTH, blank=True, validators=[validate_markdown_file_path]
    )
    file_key = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    content_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(SoftDeleteModel.Meta):
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["file_key"],
                condition=models.Q(is_deleted=False) & ~models.Q(file_key=""),
                name="screenplay_active_file_key_unique",
                violation_error_message="Another active screenplay has the same file.",
            )
        ]

    def __str__(self) -> str:
        return self.name
