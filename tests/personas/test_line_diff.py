from __future__ import annotations

from apps.personas.selectors import line_diff


def test_it_counts_a_changed_line_as_removed_and_added():
    entries, summary = line_diff("a\nb\nc", "a\nB\nc")

    assert [(e["type"], e["content"]) for e in entries] == [
        ("unchanged", "a"),
        ("removed", "b"),
        ("added", "B"),
        ("unchanged", "c"),
    ]
    assert summary == {"added": 1, "removed": 1, "unchanged": 2, "change_percentage": 50.0}


def test_it_reports_zero_change_for_two_empty_texts():
    entries, summary = line_diff("", "")

    assert entries == []
    assert summary["change_percentage"] == 0.0


def test_it_reports_a_full_rewrite_as_one_hundred_percent():
    _, summary = line_diff("old", "new\nlines")

    assert summary == {"added": 2, "removed": 1, "unchanged": 0, "change_percentage": 100.0}
