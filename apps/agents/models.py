from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import models

from apps.core.models import TimeStampedModel
from apps.core.validators import JsonObjectMaxBytes, validate_string_list

AGENT_SLUG_RE = r"^[A-Za-z0-9_]+$"
# A litellm model string: "gpt-4o-mini", "anthropic/claude-3-5-sonnet", "ollama/llama3:8b".
MODEL_STRING_RE = r"^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$"
# What function calling accepts (apps.runtime.tools.TOOL_NAME): core tools are
# snake_case, an MCP server's are "<server>__<its own name>", e.g. "github__get-file".
TOOL_NAME_RE = r"^[A-Za-z0-9_-]{1,64}$"
MCP_CONFIGS_MAX_BYTES = 20 * 1024
DEFAULT_MAX_STEPS = 10


def validate_tool_names(value: list[str]) -> None:
    validate_string_list(value)
    invalid = [name for name in value if not re.match(TOOL_NAME_RE, name)]
    if invalid:
        raise ValidationError(
            "Tool names are 1 to 64 letters, digits, underscores or hyphens: %(names)s",
            code="invalid_tool_name",
            params={"names": ", ".join(invalid)},
        )


def validate_model_list(value: list[str]) -> None:
    validate_string_list(value)
    invalid = [name for name in value if not re.match(MODEL_STRING_RE, name)]
    if invalid:
        raise ValidationError(
            "Not litellm model strings: %(names)s",
            code="invalid_model",
            params={"names": ", ".join(invalid)},
        )


class Agent(TimeStampedModel):
    """An agent template: who speaks (persona), with which model, using which tools."""

    slug = models.CharField(
        max_length=64,
        unique=True,
        validators=[
            RegexValidator(
                AGENT_SLUG_RE, "Use letters, digits and underscores only.", "invalid_slug"
            )
        ],
    )
    name = models.CharField(max_length=200)
    emoji = models.CharField(max_length=16, blank=True)
    description = models.CharField(max_length=200, validators=[MinLengthValidator(10)])
    group = models.CharField(max_length=100, blank=True, db_index=True)
    tags = models.JSONField(default=list, blank=True, validators=[validate_string_list])
    persona = models.ForeignKey(
        "personas.Persona",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agents",
    )
    model = models.CharField(
        max_length=200,
        validators=[
            RegexValidator(MODEL_STRING_RE, "Not a litellm model string.", "invalid_model")
        ],
        help_text='A litellm model string, e.g. "gpt-4o-mini" or "anthropic/claude-3-5-haiku".',
    )
    fallback_models = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_model_list],
        help_text="Tried in order when the model's provider keeps failing.",
    )
    tools = models.JSONField(default=list, blank=True, validators=[validate_tool_names])
    pre_approved_tools = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_tool_names],
        help_text="Tools this agent may call without a human approval; each use is recorded.",
    )
    mcp_configs = models.JSONField(
        default=dict, blank=True, validators=[JsonObjectMaxBytes(MCP_CONFIGS_MAX_BYTES)]
    )
    max_steps = models.PositiveSmallIntegerField(
        default=DEFAULT_MAX_STEPS, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    is_active = models.BooleanField(default=True, db_index=True)

    class Meta:
        ordering = ["group", "name"]

    def __str__(self) -> str:
        return f"{self.emoji} {self.name}".strip()
