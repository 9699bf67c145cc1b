import pytest

from tests.envelope import assert_envelope

pytestmark = pytest.mark.django_db


def patch(client, conversation, payload):
    return client.patch(f"/api/conversations/{conversation.pk}/settings/", payload, format="json")


def test_the_owner_changes_both_settings(viewer_client, mine):
    response = patch(viewer_client, mine, {"max_chain_depth": 10, "auto_delegate": True})

    assert response.status_code == 200, response.content
    mine.refresh_from_db()
    assert (mine.max_chain_depth, mine.auto_delegate) == (10, True)


def test_one_setting_leaves_the_other_alone(viewer_client, mine):
    patch(viewer_client, mine, {"auto_delegate": True})
    patch(viewer_client, mine, {"max_chain_depth": 1})

    mine.refresh_from_db()
    assert (mine.max_chain_depth, mine.auto_delegate) == (1, True)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"max_chain_depth": 0}, "max_chain_depth"),
        ({"max_chain_depth": 11}, "max_chain_depth"),
        ({"max_chain_depth": "x"}, "max_chain_depth"),
        ({"max_chain_depth": None}, "max_chain_depth"),
        ({"auto_delegate": "maybe"}, "auto_delegate"),
        ({}, "non_field_errors"),
    ],
)
def test_bad_settings_are_a_400(viewer_client, mine, payload, field):
    error = assert_envelope(patch(viewer_client, mine, payload), 400, "validation_error")

    assert field in error["details"]
    mine.refresh_from_db()
    assert (mine.max_chain_depth, mine.auto_delegate) == (3, False)


def test_another_users_settings_are_not_found(viewer_client, theirs):
    assert_envelope(patch(viewer_client, theirs, {"auto_delegate": True}), 404)
