from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """``{count, next, previous, results}`` with a client-chosen page size."""

    page_size_query_param = "page_size"
    max_page_size = 200


class CountedValues:
    """``.values()`` rows to paginate, counted on the model queryset they were taken from.

    Columns of related rows need joins, and ``COUNT(*)`` over the values queryset keeps
    them; over the model queryset it reads the one table. Forward joins never add or
    drop rows (apps.core.serializers.ListRows follows no others), so the counts agree.
    """

    def __init__(self, queryset: QuerySet, values: QuerySet) -> None:
        self.queryset = queryset
        self.values = values

    @property
    def ordered(self) -> bool:
        return self.values.ordered

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: Any) -> Any:
        return self.values[index]
