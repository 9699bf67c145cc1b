"""Markdown checks for screenplay content, read from markdown-it-py's token stream.

Errors block a save; warnings need ``force``. Every issue names a 1-based line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, TypedDict
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

MAX_LINE_LENGTH = 120
ALLOWED_LINK_SCHEMES = frozenset({"http", "https", "mailto", "ftp", "ftps", "tel"})

# CommonMark reads "####### x" as a paragraph; only the source line shows the intent.
_TOO_DEEP_HEADING = re.compile(r"^ {0,3}#{7,}(?:[ \t]|$)")
# Link syntax the parser refused (bad destination or scheme) survives as plain text.
_UNPARSED_LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\([^)\n]*\)")
_CONTAINER_PREFIX = re.compile(r"^(?:[ \t]*>)*[ \t]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class MarkdownIssue(TypedDict):
    line: int
    code: str
    message: str


@dataclass
class MarkdownReport:
    errors: list[MarkdownIssue] = field(default_factory=list)
    warnings: list[MarkdownIssue] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, object]:
        return {"is_valid": self.is_valid, "errors": self.errors, "warnings": self.warnings}


@cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt  # at first use: the admin loads this module at setup

    return MarkdownIt("commonmark").enable("table")


def normalize_newlines(content: str) -> str:
    return content.replace("\r\n", "\n").replace("\r", "\n")


def issue(line: int, code: str, message: str) -> MarkdownIssue:
    return {"line": line, "code": code, "message": message}


def validate_markdown(content: str) -> MarkdownReport:
    content = normalize_newlines(content)
    report = MarkdownReport()
    if not content.strip():
        report.errors.append(issue(1, "empty_content", "Content must not be empty."))
        return report
    lines = content.split("\n")
    tokens = _parser().parse(content)
    report.errors.extend(_control_character_errors(lines))
    report.errors.extend(_too_deep_heading_errors(tokens, lines))
    report.errors.extend(_unclosed_fence_errors(tokens, lines))
    report.warnings.extend(_skipped_heading_warnings(tokens))
    report.warnings.extend(_link_warnings(tokens))
    report.warnings.extend(_line_warnings(lines))
    report.errors.sort(key=lambda entry: entry["line"])
    report.warnings.sort(key=lambda entry: entry["line"])
    return report


def _control_character_errors(lines: Sequence[str]) -> Iterator[MarkdownIssue]:
    for number, line in enumerate(lines, start=1):
        if _CONTROL.search(line):
            yield issue(number, "control_characters", "Control characters are not allowed.")


def _too_deep_heading_errors(
    tokens: Sequence[Token], lines: Sequence[str]
) -> Iterator[MarkdownIssue]:
    for token in tokens:
        if token.type != "paragraph_open" or token.map is None:
            continue
        for index in range(*token.map):
            if _TOO_DEEP_HEADING.match(_strip_containers(lines[index])):
                yield issue(
                    index + 1, "heading_too_deep", "Headings go no deeper than H6 (######)."
                )


def _unclosed_fence_errors(
    tokens: Sequence[Token], lines: Sequence[str]
) -> Iterator[MarkdownIssue]:
    for token in tokens:
        if token.type == "fence" and token.map and not _fence_is_closed(token, lines):
            yield issue(token.map[0] + 1, "unclosed_code_fence", "This code fence is never closed.")


def _fence_is_closed(token: Token, lines: Sequence[str]) -> bool:
    start, end = token.map or (0, 0)
    if end - start < 2:
        return False
    last = _strip_containers(lines[end - 1]).rstrip()
    marker = token.markup[0]
    return len(last) >= len(token.markup) and set(last) == {marker}


def _strip_containers(line: str) -> str:
    return _CONTAINER_PREFIX.sub("", line, count=1)


def _skipped_heading_warnings(tokens: Sequence[Token]) -> Iterator[MarkdownIssue]:
    previous = 0
    for token in tokens:
        if token.type != "heading_open":
            continue
        level = int(token.tag[1])
        if previous and level > previous + 1:
            message = f"Heading level jumps from H{previous} to H{level}."
            yield issue(_line_of(token), "skipped_heading_level", message)
        previous = level


def _line_of(token: Token) -> int:
    return token.map[0] + 1 if token.map else 1


def _link_warnings(tokens: Sequence[Token]) -> Iterator[MarkdownIssue]:
    for token in tokens:
        if token.type == "inline" and token.children is not None:
            yield from _inline_link_warnings(token.children, _line_of(token))


def _inline_link_warnings(children: Sequence[Token], first_line: int) -> Iterator[MarkdownIssue]:
    line = first_line
    for index, child in enumerate(children):
        if child.type in {"softbreak", "hardbreak"}:
            line += 1
        elif child.type == "link_open":
            yield from _parsed_link_warnings(child, children[index + 1], line)
        elif child.type == "text" and _UNPARSED_LINK.search(child.content):
            yield issue(line, "malformed_link", "This link is malformed and renders as text.")


def _parsed_link_warnings(link: Token, following: Token, line: int) -> Iterator[MarkdownIssue]:
    href = str(link.attrs.get("href", "")).strip()
    if not href:
        yield issue(line, "empty_link", "This link has no URL.")
    elif _has_unsupported_scheme(href):
        yield issue(line, "malformed_link", f"This link uses an unsupported scheme: {href}")
    if following.type == "link_close":
        yield issue(line, "empty_link", "This link has no text.")


def _has_unsupported_scheme(href: str) -> bool:
    try:
        scheme = urlsplit(href).scheme.lower()
    except ValueError:
        return True
    return bool(scheme) and scheme not in ALLOWED_LINK_SCHEMES


def _line_warnings(lines: Sequence[str]) -> Iterator[MarkdownIssue]:
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_LENGTH:
            message = f"Line is {len(line)} characters long (over {MAX_LINE_LENGTH})."
            yield issue(number, "line_too_long", message)
        if line != line.rstrip(" \t"):
            yield issue(number, "trailing_whitespace", "Line ends with whitespace.")
