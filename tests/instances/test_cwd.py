from __future__ import annotations

import pytest

from apps.instances.models import AgentInstance
from tests.factories import AgentInstanceFactory
from tests.instances.helpers import assert_envelope, detail_url

pytestmark = pytest.mark.django_db


def stored_cwd(instance: AgentInstance) -> str:
    return AgentInstance.objects.get(pk=instance.pk).cwd


def test_it_sets_an_absolute_cwd(editor_client):
    instance = AgentInstanceFactory()

    response = editor_client.patch(
        detail_url(instance, "cwd/"), {"cwd": "/srv/repo"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["cwd"] == "/srv/repo"
    assert stored_cwd(instance) == "/srv/repo"


@pytest.mark.parametrize(
    "cwd",
    [
        "relative/dir",
        "./here",
        "",
        "~/x",
        " /leading-space",
        "/srv/\x00x",
        "/" + "a" * 600,
        7,
        None,
    ],
)
def test_anything_but_an_absolute_path_is_refused(editor_client, cwd):
    instance = AgentInstanceFactory(cwd="/kept")

    response = editor_client.patch(detail_url(instance, "cwd/"), {"cwd": cwd}, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert "cwd" in error["details"]
    assert stored_cwd(instance) == "/kept"


def test_a_missing_cwd_is_refused(editor_client):
    instance = AgentInstanceFactory()

    response = editor_client.patch(detail_url(instance, "cwd/"), {}, format="json")

    assert "cwd" in assert_envelope(response, 400, "validation_error")["details"]


def test_a_viewer_cannot_change_the_cwd(viewer_client):
    instance = AgentInstanceFactory(cwd="/kept")

    response = viewer_client.patch(detail_url(instance, "cwd/"), {"cwd": "/x"}, format="json")

    assert_envelope(response, 403)
    assert stored_cwd(instance) == "/kept"


def test_the_cwd_of_a_deleted_or_unknown_instance_is_a_404(editor_client):
    deleted = AgentInstanceFactory(is_deleted=True)

    assert_envelope(
        editor_client.patch(detail_url(deleted, "cwd/"), {"cwd": "/x"}, format="json"), 404
    )
    assert_envelope(
        editor_client.patch(detail_url(987654, "cwd/"), {"cwd": "/x"}, format="json"), 404
    )
