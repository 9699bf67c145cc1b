"""Demo content for a newcomer's first start.

Apps add their own demo content by appending a callable to ``DEMO_SEEDERS``;
each seeder must be idempotent.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token


@dataclass(frozen=True)
class DemoCredentials:
    username: str
    password: str
    token: str


DEMO_SEEDERS: list[Callable[[], None]] = []


def credentials_path() -> Path:
    return Path(settings.DATA_DIR) / "demo-credentials.json"


def _write_credentials(credentials: DemoCredentials) -> None:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 from the start: the file holds a superuser's password.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(credentials.__dict__, handle)


def read_credentials() -> DemoCredentials | None:
    try:
        data = json.loads(credentials_path().read_text())
        return DemoCredentials(**data)
    except (OSError, ValueError, TypeError):
        return None


@transaction.atomic
def demo_user_ensure(*, password: str | None = None) -> tuple[DemoCredentials | None, bool]:
    """Creates the demo superuser once; returns its credentials and whether it was created.

    The password is only known when the user is created here (or was recorded
    in the data directory at that time): it is never reset behind an editor's back.
    """
    User = get_user_model()
    username = settings.CONDUCTOR_DEMO_USERNAME
    user = User.objects.filter(username=username).first()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        known = read_credentials()
        if known is not None and known.username == username:
            return DemoCredentials(username, known.password, token.key), False
        return None, False
    password = password or os.environ.get("CONDUCTOR_DEMO_PASSWORD") or secrets.token_urlsafe(12)
    user = User.objects.create_superuser(username=username, email="", password=password)
    token = Token.objects.create(user=user)
    credentials = DemoCredentials(username, password, token.key)
    _write_credentials(credentials)
    return credentials, True


def seed_demo(*, password: str | None = None) -> tuple[DemoCredentials | None, bool]:
    result = demo_user_ensure(password=password)
    for seeder in DEMO_SEEDERS:
        seeder()
    return result
