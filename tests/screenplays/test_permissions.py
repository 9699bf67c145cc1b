"""Anonymous → 401; authenticated users read; writes need the model permission."""

from __future__ import annotations

import pytest

from apps.screenplays.models import Screenplay
from tests.envelope import assert_envelope
from tests.factories import ScreenplayFactory

pytestmark = pytest.mark.django_db

URL = "/api/screenplays/"
BODY = {"name": "x", "content": "# X\n"}


def requests_for(pk: int) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", URL, None),
        ("get", f"{URL}{pk}/", None),
        ("post", URL, BODY),
        ("put", f"{URL}{pk}/", BODY),
        ("patch", f"{URL}{pk}/", {"name": "y"}),
        ("delete", f"{URL}{pk}/", None),
        ("post", f"{URL}{pk}/rename/", {"new_name": "z"}),
        ("patch", f"{URL}{pk}/working-directory/", {"working_directory": "/x"}),
        ("post", f"{URL}{pk}/mark-as-used/", None),
        ("post", f"{URL}{pk}/restore/", None),
        ("post", f"{URL}validate-markdown/", {"content": "# X\n"}),
        ("post", f"{URL}check-duplicate/", {"file_path": "/d", "file_name": "a.md"}),
    ]


@pytest.mark.parametrize("index", range(12))
def test_anonymous_users_get_401_everywhere(api_client, index):
    screenplay = ScreenplayFactory()
    method, url, body = requests_for(screenplay.pk)[index]

    response = getattr(api_client, method)(url, body, format="json")

    assert_envelope(response, 401, "not_authenticated")


@pytest.mark.parametrize("index", range(2, 10))
def test_a_viewer_without_model_permissions_cannot_write(viewer_client, index):
    screenplay = ScreenplayFactory(name="Untouched")
    method, url, body = requests_for(screenplay.pk)[index]

    response = getattr(viewer_client, method)(url, body, format="json")

    assert_envelope(response, 403, "permission_denied")
    screenplay.refresh_from_db()
    assert (screenplay.name, screenplay.is_deleted, screenplay.last_used_at) == (
        "Untouched",
        False,
        None,
    )
    assert Screenplay.all_objects.count() == 1


@pytest.mark.parametrize("index", [0, 1, 10, 11])
def test_a_viewer_can_read_and_compute(viewer_client, index):
    screenplay = ScreenplayFactory()
    method, url, body = requests_for(screenplay.pk)[index]

    response = getattr(viewer_client, method)(url, body, format="json")

    assert response.status_code == 200, response.content


def test_a_user_with_only_the_change_permission_can_edit_but_not_create(other_user):
    from django.contrib.auth.models import Permission
    from rest_framework.test import APIClient

    other_user.user_permissions.add(Permission.objects.get(codename="change_screenplay"))
    client = APIClient()
    client.force_authenticate(other_user)
    screenplay = ScreenplayFactory()

    assert client.patch(f"{URL}{screenplay.pk}/", {"name": "ok"}, format="json").status_code == 200
    assert client.post(f"{URL}{screenplay.pk}/mark-as-used/").status_code == 200
    assert_envelope(client.post(URL, BODY, format="json"), 403)
    assert_envelope(client.delete(f"{URL}{screenplay.pk}/"), 403)
