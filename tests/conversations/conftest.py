from __future__ import annotations

import pytest

from tests.factories import ConversationFactory


@pytest.fixture
def mine(viewer):
    """A conversation the viewer started."""
    return ConversationFactory(created_by=viewer, title="Mine")


@pytest.fixture
def theirs(other_user):
    """A conversation another (non-staff) user started: the viewer must not see it."""
    return ConversationFactory(created_by=other_user, title="Theirs")
