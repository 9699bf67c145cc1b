from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@cache
def _renderer() -> MarkdownIt:
    from markdown_it import MarkdownIt  # at first use: the admin loads this module at setup

    # Raw HTML is escaped, never passed through: content is written by users.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_markdown(text: str) -> SafeString:
    return mark_safe(_renderer().render(text or ""))  # noqa: S308 - html is disabled above
