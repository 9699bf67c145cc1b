from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from apps.core.models import SoftDeleteModel, TimeStampedModel
from apps.core.validators import JsonObjectMaxBytes, validate_absolute_path

CONFIG_MAX_BYTES = 20 * 1024


def validate_position(value: object) -> None:
    if (
        not isinstance(value, dict)
        or set(value) != {"x", "y"}
        or not all(
            isinstance(value[axis], int | float) and not isinstance(value[axis], bool)
            for axis in ("x", "y")
        )
    ):
        raise ValidationError('Must be {"x": <number>, "y": <number>}.', code="invalid_position")


def default_position() -> dict[str, float]:
    return {"x": 0, "y": 0}


class InstanceStatus(models.TextChoices):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    ERROR = "error"


class AgentInstance(SoftDeleteModel, TimeStampedModel):
    """An agent placed in a screenplay and bound to one conversation."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="instances")
    screenplay = models.ForeignKey(
        "screenplays.Screenplay", on_delete=models.CASCADE, related_name="instances"
    )
    conversation = models.ForeignKey(
        "conversations.Conversation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="instances",
    )
    position = models.JSONField(default=default_position, validators=[validate_position])
    display_order = models.PositiveIntegerField(default=0, db_index=True)
    cwd = models.CharField(max_length=500, blank=True, validators=[validate_absolute_path])
    status = models.CharField(
        max_length=16, choices=InstanceStatus.choices, default=InstanceStatus.PENDING
    )
    config = models.JSONField(
        default=dict, blank=True, validators=[JsonObjectMaxBytes(CONFIG_MAX_BYTES)]
    )
    mcp_configs = models.JSONField(
        default=dict, blank=True, validators=[JsonObjectMaxBytes(CONFIG_MAX_BYTES)]
    )

    # Statistics: written only by services.instance_record_run, in one UPDATE.
    task_count = models.PositiveIntegerField(default=0, editable=False)
    success_count = models.PositiveIntegerField(default=0, editable=False)
    error_count = models.PositiveIntegerField(default=0, editable=False)
    total_duration_ms = models.PositiveBigIntegerField(default=0, editable=False)
    last_duration_ms = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    last_exit_status = models.CharField(max_length=32, blank=True, editable=False)
    last_completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(SoftDeleteModel.Meta):
        ordering = ["display_order", "id"]

    def __str__(self) -> str:
        return f"{self.agent} in {self.screenplay} (#{self.pk})"

    @property
    def average_duration_ms(self) -> float | None:
        return round(self.total_duration_ms / self.task_count, 1) if self.task_count else None

    @property
    def success_rate(self) -> float | None:
        return round(self.success_count / self.task_count, 4) if self.task_count else None

    def clean(self) -> None:
        conversation = self.conversation
        if conversation is not None and conversation.screenplay_id not in (
            None,
            self.screenplay_id,
        ):
            raise ValidationError(
                {"conversation": "The conversation belongs to another screenplay."},
                code="foreign_conversation",
            )
