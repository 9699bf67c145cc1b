"""``${NAME}`` references to environment variables in an MCP server's headers and env.

Secrets are never stored: a header or variable that carries one is written as a
reference (``Bearer ${MCP_GITHUB_TOKEN}``) and resolved from the environment only when
Conductor connects. Only variables whose names start with one of
``CONDUCTOR_MCP_SECRET_ENV_PREFIXES`` may be referenced, so that a registration cannot
send the process's own secrets (``DJANGO_SECRET_KEY``, ``DATABASE_URL``) to a server.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# A name that says it carries a credential: its value must be a reference.
SENSITIVE_NAME = re.compile(
    r"auth|token|secret|passw|pwd|cookie|credential|api[-_]?key|private|(^|[-_])key($|[-_])",
    re.IGNORECASE,
)
# What a sensitive value may be: a reference, optionally after a scheme ("Bearer").
_SECRET_VALUE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9-]* )?\$\{[A-Za-z_][A-Za-z0-9_]*\}$")
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# Resolved values shorter than this are not scrubbed from messages: they would mangle
# them more than they could reveal.
MIN_SECRET_LENGTH = 4
MAX_ENTRIES = 50
MAX_VALUE_LENGTH = 4096
# Never sent as configured: httpx and the MCP transport set these themselves.
RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer"}
    | {"mcp-session-id", "mcp-protocol-version", "accept", "content-type"}
)


class MissingReference(Exception):
    """A referenced environment variable is not set where Conductor connects."""

    def __init__(self, name: str) -> None:
        super().__init__(f"environment variable {name} is not set")
        self.name = name


def referenced_names(value: str) -> list[str]:
    return REFERENCE.findall(value)


def validate_references(value: str) -> None:
    for name in referenced_names(value):
        if not name.startswith(tuple(settings.CONDUCTOR_MCP_SECRET_ENV_PREFIXES)):
            prefixes = ", ".join(settings.CONDUCTOR_MCP_SECRET_ENV_PREFIXES) or "(none)"
            raise ValidationError(
                "${%(name)s} cannot be referenced: only environment variables starting with"
                " %(prefixes)s can.",
                code="reference_not_allowed",
                params={"name": name, "prefixes": prefixes},
            )


def validate_entries(value: Any, *, kind: str) -> None:
    """``headers`` or ``env``: an object of strings, credentials only as references."""
    if not isinstance(value, dict):
        raise ValidationError("Must be an object of strings.", code="not_an_object")
    if len(value) > MAX_ENTRIES:
        raise ValidationError(f"At most {MAX_ENTRIES} entries.", code="too_many")
    pattern = HEADER_NAME if kind == "header" else ENV_NAME
    for name, text in value.items():
        if not pattern.match(name):
            raise ValidationError(
                "%(name)r is not a valid %(kind)s name.",
                code="invalid_name",
                params={"name": name, "kind": kind},
            )
        if kind == "header" and name.lower() in RESERVED_HEADERS:
            raise ValidationError(
                "The %(name)s header is set by the transport.",
                code="reserved_header",
                params={"name": name},
            )
        single_line = isinstance(text, str) and "\n" not in text and "\r" not in text
        if not single_line or len(text) > MAX_VALUE_LENGTH:
            raise ValidationError(
                "%(name)s: must be a single-line string of at most %(max)s characters.",
                code="invalid_value",
                params={"name": name, "max": MAX_VALUE_LENGTH},
            )
        if SENSITIVE_NAME.search(name) and not _SECRET_VALUE.match(text):
            raise ValidationError(
                "%(name)s carries a credential: write it as a reference to an environment"
                ' variable, e.g. "Bearer ${MCP_TOKEN}"; secrets are not stored.',
                code="secret_in_clear",
                params={"name": name},
            )
        validate_references(text)


def resolve(value: str, environ: Mapping[str, str] | None = None) -> str:
    """The value with each reference replaced by its variable (at connect time only)."""
    environ = os.environ if environ is None else environ

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise MissingReference(name)
        return environ[name]

    validate_references(value)
    return REFERENCE.sub(substitute, value)


def resolve_entries(
    entries: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    return {name: resolve(text, environ) for name, text in entries.items()}


def resolved_secrets(*entries: Mapping[str, str]) -> dict[str, str]:
    """The variables ``entries`` reference, by name, with the values they resolve to now:
    what must be kept out of anything shown (messages, logs, stored errors)."""
    names = {name for each in entries for text in each.values() for name in referenced_names(text)}
    values = {name: os.environ.get(name, "") for name in names}
    return {name: value for name, value in values.items() if len(value) >= MIN_SECRET_LENGTH}
