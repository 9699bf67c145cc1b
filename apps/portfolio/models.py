from __future__ import annotations

from django.db import models
from django.utils import timezone


class PortfolioSession(models.Model):
    """One visitor's chat: an unguessable id bound to its own conversation.

    The id is a bearer secret, stored as Django stores session keys; whoever holds
    it continues the conversation.
    """

    id = models.CharField(primary_key=True, max_length=64, editable=False)
    conversation = models.OneToOneField(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="portfolio_session"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-last_used_at"]

    def __str__(self) -> str:
        return f"portfolio session {self.id[:8]}…"
