"""The editor role: a group holding every permission on Conductor's content."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS

EDITORS_GROUP = "Editors"


def conductor_app_labels() -> list[str]:
    return [config.label for config in apps.get_app_configs() if config.name.startswith("apps.")]


def editors_group_ensure(using: str = DEFAULT_DB_ALIAS, **_kwargs: Any) -> Group:
    """Idempotent: run after every migrate (of any database alias), so new models'
    permissions join the group."""
    group, _ = Group.objects.using(using).get_or_create(name=EDITORS_GROUP)
    permissions = Permission.objects.using(using).filter(
        content_type__app_label__in=conductor_app_labels()
    )
    group.permissions.add(*permissions)
    return group


def connect(config: AppConfig) -> None:
    from django.db.models.signals import post_migrate

    post_migrate.connect(editors_group_ensure, dispatch_uid="conductor-editors-group")
