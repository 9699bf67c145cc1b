import pytest

from apps.councilors import services
from tests.councilors.helpers import promote
from tests.querycount import assert_constant_queries

pytestmark = pytest.mark.django_db


def test_it_lists_what_beat_will_run(viewer_client, editor, native_agent):
    watch = promote(editor, native_agent)
    nightly = promote(
        editor, native_agent, title="Nightly", schedule_type="cron", schedule_value="0 2 * * *"
    )
    paused = promote(editor, native_agent, title="Paused one")
    services.councilor_pause(councilor=paused, actor=editor)

    response = viewer_client.get("/api/councilors/scheduler/jobs/")

    assert response.status_code == 200
    jobs = {job["councilor_id"]: job for job in response.json()["results"]}
    assert set(jobs) == {watch.pk, nightly.pk}
    assert jobs[watch.pk]["schedule"] == "every 30 minutes"
    assert jobs[watch.pk]["task"] == "councilors.tick"
    assert jobs[watch.pk]["periodic_task"] == f"councilor:{watch.pk}"
    assert jobs[nightly.pk]["schedule"] == "At 02:00"
    assert all(job["next_run_at"] for job in jobs.values())


def test_the_jobs_list_costs_constant_queries(viewer_client, editor, native_agent):
    def make(count: int) -> None:
        for n in range(count):
            promote(editor, native_agent, title=f"Watch {n}")

    assert_constant_queries(
        lambda: viewer_client.get("/api/councilors/scheduler/jobs/?page_size=100"), make, large=10
    )


def test_the_councilor_list_costs_constant_queries(viewer_client, editor, native_agent):
    def make(count: int) -> None:
        for n in range(count):
            promote(editor, native_agent, title=f"Watch {n}")

    assert_constant_queries(lambda: viewer_client.get("/api/councilors/"), make, large=10)


def test_the_list_filters_by_enabled(viewer_client, editor, native_agent):
    promote(editor, native_agent)
    paused = promote(editor, native_agent, title="Paused one")
    services.councilor_pause(councilor=paused, actor=editor)

    response = viewer_client.get("/api/councilors/?enabled=false")

    assert [row["id"] for row in response.json()["results"]] == [paused.pk]
