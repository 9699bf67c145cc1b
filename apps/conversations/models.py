from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from apps.core.models import SoftDeleteModel, TimeStampedModel
from apps.core.validators import validate_no_control_characters

CONTEXT_MAX_CHARS = 50 * 1024
MESSAGE_MAX_CHARS = 100_000
DEFAULT_MAX_CHAIN_DEPTH = 3


class Conversation(SoftDeleteModel, TimeStampedModel):
    """A thread of messages among agent instances; owned by the user who started it."""

    title = models.CharField(max_length=200, validators=[validate_no_control_characters])
    context = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(CONTEXT_MAX_CHARS), validate_no_control_characters],
        help_text="Markdown shared with every agent in the conversation.",
    )
    screenplay = models.ForeignKey(
        "screenplays.Screenplay",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conversations",
    )
    active_agent = models.ForeignKey(
        "instances.AgentInstance",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    max_chain_depth = models.PositiveSmallIntegerField(
        default=DEFAULT_MAX_CHAIN_DEPTH, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    auto_delegate = models.BooleanField(default=False)
    display_order = models.PositiveIntegerField(default=0, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )

    class Meta(SoftDeleteModel.Meta):
        ordering = ["display_order", "-updated_at", "id"]

    def __str__(self) -> str:
        return self.title


class MessageType(models.TextChoices):
    USER = "user"
    BOT = "bot"
    DELEGATION = "delegation"


class MessageStatus(models.TextChoices):
    PENDING = "pending"
    COMPLETED = "completed"
    ERROR = "error"


class Message(SoftDeleteModel):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    type = models.CharField(max_length=16, choices=MessageType.choices)
    content = models.TextField(
        validators=[MaxLengthValidator(MESSAGE_MAX_CHARS), validate_no_control_characters]
    )
    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.COMPLETED
    )
    agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run = models.ForeignKey(
        "runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    # The first message of the thread, kept so a whole thread is one query.
    thread_root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    is_hidden = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta(SoftDeleteModel.Meta):
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.type}: {self.content[:60]}"
