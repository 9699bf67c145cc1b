from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from tests.factories import UserFactory

INSTANCE_PERMISSIONS = ["add_agentinstance", "change_agentinstance", "delete_agentinstance"]


@pytest.fixture
def author(db):
    """Not staff, but allowed to write instances: sees only the conversations it started."""
    user = UserFactory(username="author")
    permissions = Permission.objects.filter(
        content_type__app_label="instances", codename__in=INSTANCE_PERMISSIONS
    )
    user.user_permissions.add(*permissions)
    return user


@pytest.fixture
def author_client(author) -> APIClient:
    client = APIClient()
    client.force_authenticate(author)
    return client
