import pytest

from apps.councilors.schedules import describe, parse_schedule


@pytest.mark.parametrize(
    ("schedule_type", "value", "words"),
    [
        ("interval", "1s", "every second"),
        ("interval", "30m", "every 30 minutes"),
        ("interval", "1h", "every hour"),
        ("interval", "2d", "every 2 days"),
        ("cron", "*/15 * * * *", "Every 15 minutes"),
        ("cron", "0 9 * * 1-5", "At 09:00, Monday through Friday"),
    ],
)
def test_a_schedule_reads_as_words(schedule_type, value, words):
    assert describe(parse_schedule(schedule_type, value)) == words
