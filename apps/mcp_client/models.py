"""The registry of external MCP servers whose tools agents may use."""

from __future__ import annotations

import re
import shutil
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from apps.core.validators import validate_string_list
from apps.mcp_client import references

# A server's tools are offered to the model as "<server>__<tool>": the name may not
# contain "__", and leaves room for the tool's own name within the 64 characters
# function calling accepts.
SERVER_NAME_MAX_LENGTH = 32
TOOL_SEPARATOR = "__"
SERVER_NAME = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
MAX_ARGS = 64
MAX_ARG_LENGTH = 1024
DEFAULT_TIMEOUT_S = 30
MAX_TIMEOUT_S = 300
# Taken by the API's routes (/api/mcp-servers/stats/...): a server so named could not be
# reached by name.
RESERVED_SERVER_NAMES = frozenset({"heartbeat", "stats", "cleanup"})

validate_server_name = RegexValidator(
    SERVER_NAME,
    "Lowercase letters and digits, separated by single hyphens or underscores.",
    code="invalid_name",
)


def validate_args(value: Any) -> None:
    validate_string_list(value)
    if len(value) > MAX_ARGS or any(len(arg) > MAX_ARG_LENGTH or "\x00" in arg for arg in value):
        raise ValidationError(
            f"At most {MAX_ARGS} arguments of at most {MAX_ARG_LENGTH} characters, no NUL.",
            code="invalid_args",
        )


def validate_headers(value: Any) -> None:
    references.validate_entries(value, kind="header")


def validate_env(value: Any) -> None:
    references.validate_entries(value, kind="env")


def allowed_command(command: str) -> str | None:
    """The allow-list entry ``command`` matches (settings.CONDUCTOR_MCP_STDIO_COMMANDS), or None.

    An entry is an absolute path, matched exactly, or a bare executable name, matched by
    name and found on PATH when Conductor starts the server.
    """
    for entry in settings.CONDUCTOR_MCP_STDIO_COMMANDS:
        if command == entry:
            return entry
    return None


def executable_for(command: str) -> str | None:
    """Where the allowed ``command`` is; None when it is not allowed or not installed."""
    if allowed_command(command) is None:
        return None
    if PurePosixPath(command).is_absolute():
        return command if shutil.which(command) else None
    return shutil.which(command)


def _url_problem(url: str) -> str | None:
    from apps.mcp_client import guard  # the SSRF guard brings the tools' modules

    return guard.url_problem(url)


class McpTransport(models.TextChoices):
    STDIO = "stdio", "stdio"
    HTTP = "http", "Streamable HTTP"


class McpServerStatus(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    HEALTHY = "healthy", "Healthy"
    UNHEALTHY = "unhealthy", "Unhealthy"


class McpServer(models.Model):
    """An MCP server Conductor connects to, with the official ``mcp`` client.

    Headers and env values that carry credentials are stored as ``${MCP_...}``
    references and resolved from the environment at connect time only.
    """

    name = models.CharField(
        max_length=SERVER_NAME_MAX_LENGTH, unique=True, validators=[validate_server_name]
    )
    description = models.TextField(blank=True, max_length=2000)
    transport = models.CharField(max_length=8, choices=McpTransport.choices)
    command = models.CharField(
        max_length=255, blank=True, help_text="stdio: an executable from the allow-list."
    )
    args = models.JSONField(default=list, blank=True, validators=[validate_args])
    env = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_env],
        help_text="stdio: extra environment; credentials as ${MCP_...} references.",
    )
    # Not a URLField: its validator refuses single-label hosts ("http://mcp:8080/mcp", a
    # compose service), which the allow-list is for. clean() runs web_fetch's URL checks.
    url = models.CharField(
        max_length=2048, blank=True, help_text="Streamable HTTP endpoint (http or https)."
    )
    headers = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_headers],
        help_text="HTTP headers; credentials as ${MCP_...} references.",
    )
    enabled = models.BooleanField(default=True, db_index=True)
    requires_approval = models.BooleanField(
        default=True, help_text="Every call to one of its tools waits for a human's approval."
    )
    timeout_s = models.PositiveSmallIntegerField(
        default=DEFAULT_TIMEOUT_S,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TIMEOUT_S)],
        help_text="Seconds to connect and list the tools, and for each tool call.",
    )
    status = models.CharField(
        max_length=16, choices=McpServerStatus.choices, default=McpServerStatus.UNKNOWN
    )
    last_seen_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    tools = models.JSONField(
        default=list, blank=True, help_text="The tools it listed at its last health check."
    )
    disabled_by_cleanup = models.BooleanField(
        default=False, help_text="Disabled as stale; its next heartbeat enables it again."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "MCP server"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.name in RESERVED_SERVER_NAMES:
            errors["name"] = f"{self.name!r} is reserved; choose another name."
        if self.transport == McpTransport.STDIO:
            if not self.command:
                errors["command"] = "A stdio server needs a command."
            elif allowed_command(self.command) is None:
                errors["command"] = (
                    f"{self.command!r} is not in CONDUCTOR_MCP_STDIO_COMMANDS, the executables"
                    " a stdio server may run."
                )
            for name in ("url", "headers"):
                if getattr(self, name):
                    errors[name] = "A stdio server has no URL or headers."
        elif self.transport == McpTransport.HTTP:
            if not self.url:
                errors["url"] = "A streamable HTTP server needs a URL."
            elif problem := _url_problem(self.url):
                errors["url"] = problem
            for name in ("command", "args", "env"):
                if getattr(self, name):
                    errors[name] = "An HTTP server has no command, args or env."
        if errors:
            raise ValidationError(errors)
