from __future__ import annotations

from typing import Any, TypeAlias

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

# Who performs a write: a user, or None for the system (tasks, commands without --user).
Actor: TypeAlias = AbstractBaseUser | AnonymousUser | None


def user_or_none(actor: Actor) -> Any:
    """The user to record as the author of a write: None for the system or an anonymous actor.

    Typed Any: the foreign keys it fills expect the concrete user model.
    """
    return actor if actor is not None and actor.is_authenticated else None
