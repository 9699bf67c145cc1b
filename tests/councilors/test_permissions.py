"""Councilors are shared team objects: any signed-in user reads every councilor;
writing needs the councilors permissions the Editors group holds."""

import pytest
from rest_framework.test import APIClient

from apps.councilors.models import Councilor
from tests.councilors.helpers import promote_body
from tests.envelope import assert_envelope

pytestmark = pytest.mark.django_db

WRITES = [
    ("patch", "/api/councilors/{id}/", {"title": "Mine now"}),
    ("post", "/api/councilors/{id}/pause/", None),
    ("post", "/api/councilors/{id}/resume/", None),
    ("post", "/api/councilors/{id}/execute-now/", None),
    ("post", "/api/councilors/{id}/demote/", None),
]
READS = [
    "/api/councilors/",
    "/api/councilors/{id}/",
    "/api/councilors/{id}/reports/",
    "/api/councilors/scheduler/jobs/",
]


def test_a_viewer_cannot_promote(viewer_client, native_agent):
    response = viewer_client.post("/api/councilors/promote/", promote_body(), format="json")

    assert_envelope(response, 403, "permission_denied")
    assert not Councilor.objects.exists()


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
def test_a_viewer_cannot_change_a_councilor(viewer_client, councilor, method, url, body):
    response = getattr(viewer_client, method)(url.format(id=councilor.pk), body, format="json")

    assert_envelope(response, 403, "permission_denied")
    councilor.refresh_from_db()
    assert (councilor.title, councilor.enabled) == ("Uptime watch", True)
    assert not councilor.ticks.exists()


@pytest.mark.parametrize("url", READS)
def test_anyone_signed_in_reads_every_councilor(other_user, councilor, url):
    client = APIClient()
    client.force_authenticate(other_user)

    response = client.get(url.format(id=councilor.pk))

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("url", [*READS, "/api/councilors/promote/"])
def test_anonymous_requests_are_401(api_client, councilor, url):
    response = api_client.get(url.format(id=councilor.pk))

    assert_envelope(response, 401, "not_authenticated")


def test_a_user_granted_the_change_permission_may_pause_but_not_demote(other_user, councilor):
    from django.contrib.auth.models import Permission

    other_user.user_permissions.add(Permission.objects.get(codename="change_councilor"))
    client = APIClient()
    client.force_authenticate(other_user)

    paused = client.post(f"/api/councilors/{councilor.pk}/pause/")
    demoted = client.post(f"/api/councilors/{councilor.pk}/demote/")

    assert paused.status_code == 200
    assert_envelope(demoted, 403, "permission_denied")
    assert Councilor.objects.filter(pk=councilor.pk).exists()


def test_put_is_not_allowed(editor_client, councilor):
    response = editor_client.put(f"/api/councilors/{councilor.pk}/", {}, format="json")

    assert_envelope(response, 405)
