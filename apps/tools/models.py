from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ToolExecution(models.Model):
    """The audit trail: one row per tool execution, arguments with secrets redacted."""

    tool = models.CharField(max_length=100, db_index=True)
    arguments = models.JSONField(default=dict)
    output_summary = models.TextField(blank=True)
    success = models.BooleanField(db_index=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    run = models.ForeignKey(
        "runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="tool_executions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.tool} ({'ok' if self.success else 'failed'})"
