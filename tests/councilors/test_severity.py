import pytest

from apps.councilors.severity import severity_marker, severity_of, without_marker


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("All good.\nSEVERITY: info", "info"),
        ("Disk nearly full.\nseverity: Warning", "warning"),
        ("Down!\n**SEVERITY:** error", "error"),
        ("SEVERITY: warning\nThen fixed.\nSEVERITY: info", "info"),
        ("The word severity: info inside a sentence", None),
        ("No marker at all", None),
    ],
)
def test_the_marker_is_the_last_severity_line(answer, expected):
    assert severity_marker(answer) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("The deploy failed.", "error"),
        ("A critical certificate expires today.", "error"),
        ("2 warnings in the log.", "warning"),
        ("Needs attention: slow queries.", "warning"),
        ("No errors, no warnings.", "info"),
        ("Everything is fine.", "info"),
    ],
)
def test_without_a_marker_the_words_decide(answer, expected):
    assert severity_of("succeeded", answer) == expected


def test_a_run_that_did_not_succeed_is_an_error_whatever_it_says():
    assert severity_of("timed_out", "SEVERITY: info") == "error"


def test_the_marker_line_is_not_shown_to_readers():
    assert without_marker("Report.\n\nSEVERITY: warning\n") == "Report."
