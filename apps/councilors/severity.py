"""A councilor run's severity, read from its final answer.

The prompt asks the agent to end its answer with one line ``SEVERITY: info``,
``SEVERITY: warning`` or ``SEVERITY: error``. An answer without that line is
judged by its words, error words first.
"""

from __future__ import annotations

import re

from apps.runs.models import RunStatus, Severity

MARKER_RE = re.compile(
    r"^[ \t>*_`]*SEVERITY[ \t*_`]*:[ \t*_`]*(info|warning|error)\b.*$", re.I | re.M
)
_NOT = r"(?<!\bno )(?<!\bnot )(?<!\bzero )(?<!\b0 )(?<!\bwithout )"
ERROR_RE = re.compile(
    _NOT + r"\b(errors?|critical|failed|failures?|failing|outage|down|broken|urgent)\b", re.I
)
WARNING_RE = re.compile(
    _NOT + r"\b(warnings?|warn|degraded|attention|slow|risks?|deprecated|caution)\b", re.I
)
MARKER_INSTRUCTION = (
    "End your answer with one last line, exactly `SEVERITY: info`, `SEVERITY: warning` "
    "or `SEVERITY: error`: info when all is well, warning when something needs attention, "
    "error when something is broken."
)


def severity_marker(answer: str) -> str | None:
    """The last ``SEVERITY: ...`` line's level, lower case; None without one."""
    found = MARKER_RE.findall(answer)
    return found[-1].lower() if found else None


def severity_by_keywords(answer: str) -> str:
    if ERROR_RE.search(answer):
        return Severity.ERROR
    if WARNING_RE.search(answer):
        return Severity.WARNING
    return Severity.INFO


def severity_of(status: str, answer: str) -> str:
    """A run that did not succeed is an error, whatever its answer says."""
    if status != RunStatus.SUCCEEDED:
        return Severity.ERROR
    return severity_marker(answer) or severity_by_keywords(answer)


def without_marker(answer: str) -> str:
    """The answer as a reader wants it: the severity line removed."""
    return MARKER_RE.sub("", answer).strip()
