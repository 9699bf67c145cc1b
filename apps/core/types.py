from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

# Who performs a write: a user, or None for the system (tasks, commands without --user).
Actor: TypeAlias = AbstractBaseUser | AnonymousUser | None
