"""Small pieces every domain API uses."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.serializers import ListRows

TRUE_VALUES = {"1", "true", "yes", "on"}


def wants_deleted(request: Request) -> bool:
    """``?include_deleted=true``: staff only; anyone else gets a clear 403."""
    raw = request.query_params.get("include_deleted", "").lower()
    if raw not in TRUE_VALUES:
        return False
    if not request.user.is_staff:
        raise PermissionDenied("Only staff can list deleted rows (include_deleted).")
    return True


def validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The request body through ``serializer_class``: its validated data, or a 400."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def visible(model: Any, request: Request) -> QuerySet:
    """The default (alive) rows, or every row for staff asking for deleted ones too."""
    if wants_deleted(request):
        return model.all_objects.all()
    return model.objects.all()


class ListFromRows(GenericAPIView):
    """``list`` through ``list_rows``, not the serializer: see apps.core.serializers.ListRows.

    The OpenAPI schema still documents the view's serializer, whose output ``list_rows``
    reproduces; a test per endpoint holds the two equal.
    """

    list_rows: ListRows

    # No docstring: the OpenAPI description of the list stays the viewset's.
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = self.list_rows.rows(self.filter_queryset(self.get_queryset()))
        page: list[Any] | None = self.paginate_queryset(rows)  # type: ignore[arg-type]
        if page is None:
            return Response(self.list_rows.represent(rows.values))
        return self.get_paginated_response(self.list_rows.represent(page))
