"""The validator itself: which issue, on which line."""

from __future__ import annotations

import pytest

from apps.screenplays.markdown_validation import validate_markdown


def codes(issues: list) -> list[tuple[int, str]]:
    return [(entry["line"], entry["code"]) for entry in issues]


def test_it_accepts_clean_markdown():
    report = validate_markdown("# Title\n\n## Part\n\nSee [docs](https://example.com).\n")

    assert report.as_dict() == {"is_valid": True, "errors": [], "warnings": []}


@pytest.mark.parametrize("content", ["", "   ", "\n\n\t\n"])
def test_it_rejects_empty_or_blank_content_on_line_1(content):
    report = validate_markdown(content)

    assert not report.is_valid
    assert codes(report.errors) == [(1, "empty_content")]


def test_it_rejects_a_heading_deeper_than_h6_on_its_line():
    report = validate_markdown("# Title\n\ntext\n####### too deep\n")

    assert codes(report.errors) == [(4, "heading_too_deep")]


def test_it_accepts_a_seven_hash_word_that_is_not_a_heading():
    report = validate_markdown("# Title\n\n#######nospace is just text\n")

    assert report.errors == []


def test_it_rejects_an_unclosed_code_fence_on_its_opening_line():
    report = validate_markdown("# Title\n\ntext\n```python\nprint(1)\n")

    assert codes(report.errors) == [(4, "unclosed_code_fence")]


def test_it_rejects_an_unclosed_tilde_fence_inside_a_blockquote():
    report = validate_markdown("# Title\n\n> ~~~\n> code\n\nafter\n")

    assert codes(report.errors) == [(3, "unclosed_code_fence")]


def test_a_closed_fence_is_fine_even_with_a_longer_closing_marker():
    report = validate_markdown("# Title\n\n```\ncode\n`````\n")

    assert report.errors == []


def test_a_fence_closed_by_the_other_marker_is_still_open():
    report = validate_markdown("# Title\n\n```\ncode\n~~~\n")

    assert codes(report.errors) == [(3, "unclosed_code_fence")]


def test_it_warns_about_a_skipped_heading_level_on_the_deeper_heading():
    report = validate_markdown("# One\n\ntext\n\n### Three\n")

    assert report.is_valid
    assert codes(report.warnings) == [(5, "skipped_heading_level")]


def test_going_back_up_a_level_is_not_a_skip():
    report = validate_markdown("# One\n\n## Two\n\n### Three\n\n# One again\n\n## Two again\n")

    assert report.warnings == []


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("See [text]() here.", "empty_link"),
        ("See [](https://example.com) here.", "empty_link"),
        ("See [text](https://exa mple.com) here.", "malformed_link"),
        ("See [text](javascript:alert(1)) here.", "malformed_link"),
        ("See [text](gopher://example.com) here.", "malformed_link"),
    ],
)
def test_it_warns_about_empty_or_malformed_links_on_their_line(line, code):
    report = validate_markdown(f"# Title\n\nFirst line\n{line}\n")

    assert report.is_valid
    assert codes(report.warnings) == [(4, code)]


def test_relative_and_anchor_links_are_fine():
    report = validate_markdown("# Title\n\n[a](./other.md) [b](#part) [c](mailto:a@example.com)\n")

    assert report.warnings == []


def test_it_warns_about_a_line_over_120_characters():
    report = validate_markdown("# Title\n\n" + "x" * 121 + "\n" + "y" * 120 + "\n")

    assert codes(report.warnings) == [(3, "line_too_long")]


def test_it_warns_about_trailing_whitespace():
    report = validate_markdown("# Title\n\nfine\nspaces  \ntab\t\n")

    assert codes(report.warnings) == [(4, "trailing_whitespace"), (5, "trailing_whitespace")]


def test_lines_inside_code_fences_give_no_heading_or_link_issues():
    content = "# Title\n\n```\n####### not a heading\n### not a heading\n[x]()\n```\n"

    report = validate_markdown(content)

    assert report.as_dict() == {"is_valid": True, "errors": [], "warnings": []}


def test_it_counts_lines_the_same_with_crlf_endings():
    report = validate_markdown("# Title\r\n\r\ntext\r\n### skipped\r\n")

    assert codes(report.warnings) == [(4, "skipped_heading_level")]


def test_it_reports_every_issue_with_a_message():
    report = validate_markdown("# A\n\n### C  \n\n```\n")

    assert codes(report.errors) == [(5, "unclosed_code_fence")]
    assert codes(report.warnings) == [(3, "skipped_heading_level"), (3, "trailing_whitespace")]
    assert all(entry["message"] for entry in report.errors + report.warnings)
