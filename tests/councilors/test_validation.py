import pytest

from apps.councilors.models import Councilor
from tests.councilors.helpers import promote_body
from tests.envelope import assert_envelope

pytestmark = pytest.mark.django_db

INVALID = [
    pytest.param({"schedule_value": "30x"}, "schedule_value", id="unknown-interval-unit"),
    pytest.param({"schedule_value": "0m"}, "schedule_value", id="zero-interval"),
    pytest.param({"schedule_value": "-5m"}, "schedule_value", id="negative-interval"),
    pytest.param({"schedule_value": "1.5h"}, "schedule_value", id="fractional-interval"),
    pytest.param({"schedule_value": "400d"}, "schedule_value", id="interval-too-long"),
    pytest.param({"schedule_value": ""}, "schedule_value", id="empty-schedule"),
    pytest.param(
        {"schedule_type": "cron", "schedule_value": "0 */5 * * * *"},
        "schedule_value",
        id="six-field-cron",
    ),
    pytest.param(
        {"schedule_type": "cron", "schedule_value": "61 * * * *"},
        "schedule_value",
        id="minute-out-of-range",
    ),
    pytest.param(
        {"schedule_type": "cron", "schedule_value": "0 25 * * *"},
        "schedule_value",
        id="hour-out-of-range",
    ),
    pytest.param(
        {"schedule_type": "cron", "schedule_value": "0 0 32 * *"},
        "schedule_value",
        id="day-out-of-range",
    ),
    pytest.param(
        {"schedule_type": "cron", "schedule_value": "0 0 * 13 *"},
        "schedule_value",
        id="month-out-of-range",
    ),
    pytest.param(
        {"schedule_type": "cron", "schedule_value": "0 0 31 2 *"},
        "schedule_value",
        id="never-matches",
    ),
    pytest.param(
        {"schedule_type": "cron", "schedule_value": "*/0 * * * *"},
        "schedule_value",
        id="zero-step",
    ),
    pytest.param({"schedule_type": "weekly"}, "schedule_type", id="unknown-schedule-type"),
    pytest.param({"timezone": "Mars/Olympus"}, "timezone", id="unknown-timezone"),
    pytest.param({"task_prompt": "x" * 10_001}, "task_prompt", id="prompt-too-long"),
    pytest.param({"color": "red"}, "color", id="bad-colour"),
    pytest.param({"notify_channels": ["email"]}, "notify_channels", id="unknown-channel"),
    pytest.param({"output_format": "poem"}, "output_format", id="unknown-output-format"),
]


@pytest.mark.parametrize(("change", "field"), INVALID)
def test_promote_rejects_it_with_a_400(editor_client, native_agent, change, field):
    body = promote_body(**change)

    response = editor_client.post("/api/councilors/promote/", body, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert field in error["details"], error
    assert not Councilor.objects.exists()


@pytest.mark.parametrize(("change", "field"), INVALID)
def test_patch_rejects_it_with_a_400(editor_client, councilor, change, field):
    response = editor_client.patch(f"/api/councilors/{councilor.pk}/", change, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert field in error["details"], error
    councilor.refresh_from_db()
    assert (councilor.schedule_type, councilor.schedule_value) == ("interval", "30m")
    assert (councilor.periodic_task.interval.every, councilor.periodic_task.interval.period) == (
        30,
        "minutes",
    )


def test_a_cron_value_under_an_interval_type_is_refused(editor_client, councilor):
    body = {"schedule_value": "*/15 * * * *"}

    response = editor_client.patch(f"/api/councilors/{councilor.pk}/", body, format="json")

    assert_envelope(response, 400, "validation_error")


def test_a_new_schedule_type_without_its_value_is_refused(editor_client, councilor):
    response = editor_client.patch(
        f"/api/councilors/{councilor.pk}/", {"schedule_type": "cron"}, format="json"
    )

    error = assert_envelope(response, 400, "validation_error")
    assert "schedule_value" in error["details"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"title": 5}, id="number-title"),
        pytest.param({"context_screenplays": [999999]}, id="unknown-screenplay"),
        pytest.param({"context_screenplays": "abc"}, id="not-a-list"),
        pytest.param({"schedule_value": None}, id="null-schedule"),
        pytest.param({"avatar_url": "javascript:alert(1)"}, id="bad-url"),
    ],
)
def test_malformed_patches_are_400s(editor_client, councilor, body):
    response = editor_client.patch(f"/api/councilors/{councilor.pk}/", body, format="json")

    assert_envelope(response, 400)


def test_a_malformed_promote_body_is_a_400(editor_client, native_agent):
    body = ["not", "an", "object"]

    response = editor_client.post("/api/councilors/promote/", body, format="json")

    assert_envelope(response, 400)
