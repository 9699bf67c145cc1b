"""What the admin's bulk actions share: apply one service call to each selected object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.exceptions import ConductorError


def apply_to_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    operation: Callable[[Any], object],
    verb: str,
    *,
    noun: str | None = None,
) -> None:
    """Runs ``operation`` on every object; a refusal is reported for that object alone.

    Ends with "<verb> <n> <noun>." (``noun`` defaults to the model's plural name).
    """
    done = 0
    for obj in queryset:
        try:
            operation(obj)
        except ConductorError as exc:
            model_admin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        else:
            done += 1
    noun = noun or str(model_admin.model._meta.verbose_name_plural)
    model_admin.message_user(request, f"{verb} {done} {noun}.", messages.SUCCESS)
