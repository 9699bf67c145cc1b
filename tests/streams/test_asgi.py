"""Which requests the project's ASGI handler serves without a thread of their own."""

import uuid

import pytest

from apps.streams.asgi import _path_info, is_long_lived


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/api/runs/{uuid.uuid4()}/events/", True),
        ("/api/runs/", False),
        (f"/api/runs/{uuid.uuid4()}/", False),
        ("/admin/", False),
        ("/no/such/page/", False),
    ],
)
def test_only_event_streams_are_long_lived(path, expected):
    assert is_long_lived(path) is expected


def test_the_path_is_resolved_without_the_root_it_is_mounted_under():
    scope = {"path": "/conductor/api/runs/", "root_path": "/conductor"}

    assert _path_info(scope) == "/api/runs/"
    assert _path_info({"path": "/api/runs/"}) == "/api/runs/"
