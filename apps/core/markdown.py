from __future__ import annotations

from functools import cache

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt


@cache
def _renderer() -> MarkdownIt:
    # Raw HTML is escaped, never passed through: content is written by users.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_markdown(text: str) -> SafeString:
    return mark_safe(_renderer().render(text or ""))  # noqa: S308 - html is disabled above
