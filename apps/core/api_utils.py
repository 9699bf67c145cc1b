"""Small pieces every domain API uses."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

TRUE_VALUES = {"1", "true", "yes", "on"}


def wants_deleted(request: Request) -> bool:
    """``?include_deleted=true``: staff only; anyone else gets a clear 403."""
    raw = request.query_params.get("include_deleted", "").lower()
    if raw not in TRUE_VALUES:
        return False
    if not request.user.is_staff:
        raise PermissionDenied("Only staff can list deleted rows (include_deleted).")
    return True


def visible(model: Any, request: Request) -> QuerySet:
    """The default (alive) rows, or every row for staff asking for deleted ones too."""
    if wants_deleted(request):
        return model.all_objects.all()
    return model.objects.all()
