"""A councilor's schedule: parsing, validation, words for humans and the next run time.

Pure functions: no database. ``services`` turns a parsed schedule into django-celery-beat
rows; ``selectors`` asks here when beat will next send the task.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from celery.schedules import ParseException, crontab
from django.core.exceptions import ValidationError
from django_celery_beat.validators import (
    day_of_month_validator,
    day_of_week_validator,
    hour_validator,
    minute_validator,
    month_of_year_validator,
)

INTERVAL = "interval"
CRON = "cron"
INTERVAL_RE = re.compile(r"^(?P<every>[0-9]{1,6})(?P<unit>[smhd])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PERIOD_SECONDS = {UNITS[unit]: seconds for unit, seconds in UNIT_SECONDS.items()}
MAX_INTERVAL = timedelta(days=366)
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
CRON_VALIDATORS = (
    minute_validator,
    hour_validator,
    day_of_month_validator,
    month_of_year_validator,
    day_of_week_validator,
)
CRON_FIELD_RE = re.compile(r"^[0-9A-Za-z*,/\-]{1,64}$")
# Long enough for a leap day that must also be a given weekday (28 years).
CRON_SEARCH_DAYS = 366 * 29


@dataclass(frozen=True)
class Interval:
    every: int
    period: Literal["seconds", "minutes", "hours", "days"]

    @property
    def delta(self) -> timedelta:
        return timedelta(seconds=self.every * PERIOD_SECONDS[self.period])


@dataclass(frozen=True)
class Cron:
    minute: str
    hour: str
    day_of_month: str
    month_of_year: str
    day_of_week: str

    @property
    def expression(self) -> str:
        return " ".join(getattr(self, name) for name in CRON_FIELDS)


Schedule = Interval | Cron


def _invalid(message: str, code: str, **params: object) -> ValidationError:
    return ValidationError({"schedule_value": ValidationError(message, code=code, params=params)})


def parse_interval(value: str) -> Interval:
    """``30s``, ``30m``, ``1h`` or ``2d``: a positive whole number and one unit."""
    match = INTERVAL_RE.match(value.strip())
    if match is None:
        raise _invalid(
            "An interval is a whole number and a unit: s, m, h or d (e.g. 30m, 1h, 2d).",
            "invalid_interval",
        )
    every, unit = int(match["every"]), match["unit"]
    if every == 0:
        raise _invalid("An interval must be at least 1.", "zero_interval")
    if every * UNIT_SECONDS[unit] > MAX_INTERVAL.total_seconds():
        raise _invalid("An interval must be at most 366 days.", "interval_too_long")
    return Interval(every=every, period=UNITS[unit])  # type: ignore[arg-type]


def parse_cron(value: str) -> Cron:
    """Five fields (minute hour day-of-month month day-of-week), each in its range."""
    fields = value.split()
    if len(fields) != len(CRON_FIELDS):
        raise _invalid(
            "A cron expression has exactly 5 fields: minute hour day-of-month month "
            "day-of-week (got %(count)s).",
            "invalid_cron_fields",
            count=len(fields),
        )
    for name, field, validate in zip(CRON_FIELDS, fields, CRON_VALIDATORS, strict=True):
        _check_cron_field(name, field, validate)
    cron = Cron(*fields)
    try:
        next_cron_time(cron, "UTC", datetime(2000, 1, 1, tzinfo=UTC))
    except (ParseException, ValueError, IndexError) as exc:
        reason = str(exc).rstrip(".")
        message = "Invalid cron expression: %(reason)s."
        raise _invalid(message, "invalid_cron", reason=reason) from None
    return cron


def _check_cron_field(name: str, field: str, validate: Callable[[str], None]) -> None:
    if CRON_FIELD_RE.match(field) is None:
        message = "Invalid cron %(field)s: %(value)r."
        raise _invalid(message, "invalid_cron", field=name, value=field)
    try:
        validate(field)
    except (ValidationError, ValueError) as exc:
        reason = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        raise _invalid(
            "Invalid cron %(field)s %(value)r: %(reason)s.",
            "invalid_cron",
            field=name,
            value=field,
            reason=reason,
        ) from None


def parse_schedule(schedule_type: str, value: str) -> Schedule:
    if schedule_type == INTERVAL:
        return parse_interval(value)
    if schedule_type == CRON:
        return parse_cron(value)
    raise ValidationError(
        {"schedule_type": ValidationError("Must be interval or cron.", code="invalid_choice")}
    )


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            "Unknown time zone %(value)r: use an IANA name such as Europe/Paris.",
            code="unknown_timezone",
            params={"value": value},
        ) from None


# --- Words ---------------------------------------------------------------------


def describe(schedule: Schedule) -> str:
    """``every 30 minutes``, ``every hour``, or the cron expression in words."""
    if isinstance(schedule, Interval):
        unit = schedule.period[:-1] if schedule.every == 1 else schedule.period
        return f"every {unit}" if schedule.every == 1 else f"every {schedule.every} {unit}"
    return describe_cron(schedule.expression)


def describe_cron(expression: str) -> str:
    from cron_descriptor import Options, get_description

    options = Options()
    options.use_24hour_time_format = True
    try:
        return str(get_description(expression, options))
    except Exception:  # a describer's gap must not hide the schedule itself
        return f"cron {expression}"


# --- When beat sends it next ------------------------------------------------------


def celery_crontab(cron: Cron) -> Any:
    """Celery's parse of the expression: each field as the set of values it matches."""
    return crontab(
        minute=cron.minute,
        hour=cron.hour,
        day_of_month=cron.day_of_month,
        month_of_year=cron.month_of_year,
        day_of_week=cron.day_of_week,
    )


def _matching_days(schedule: Any, start: date) -> Iterator[date]:
    for offset in range(CRON_SEARCH_DAYS):
        day = start + timedelta(days=offset)
        if (
            day.month in schedule.month_of_year
            and day.day in schedule.day_of_month
            and (day.weekday() + 1) % 7 in schedule.day_of_week
        ):
            yield day


def next_cron_time(cron: Cron, tz_name: str, after: datetime) -> datetime:
    """The first time the cron matches strictly after ``after``, on the zone's wall clock.

    Like celery's crontab (and unlike Vixie cron), a day must match both the day of
    the month and the day of the week.
    """
    tz = zoneinfo.ZoneInfo(tz_name)
    schedule = celery_crontab(cron)
    times = [(hour, minute) for hour in sorted(schedule.hour) for minute in sorted(schedule.minute)]
    for day in _matching_days(schedule, after.astimezone(tz).date()):
        for hour, minute in times:
            candidate = datetime.combine(day, time(hour, minute), tzinfo=tz)
            if candidate > after:
                return candidate
    raise ValueError(f"the cron {cron.expression!r} never matches")


def next_run_time(
    schedule: Schedule, tz_name: str, *, last_run_at: datetime, now: datetime
) -> datetime:
    """When beat will send the task next: never before ``now``.

    ``last_run_at`` is what beat measures from: the task's last run, else the time the
    task row last changed (which is what django-celery-beat uses for a new task).
    """
    if isinstance(schedule, Interval):
        due = last_run_at + schedule.delta
    else:
        due = next_cron_time(schedule, tz_name, last_run_at)
    return max(due, now)
