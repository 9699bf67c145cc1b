"""The django-filter backend of every API view (REST_FRAMEWORK's DEFAULT_FILTER_BACKENDS).

Not in api_utils: DRF imports the default backends while rest_framework.generics is
still loading, so this module must not import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django_filters import FilterSet, IsoDateTimeFilter
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.request import Request


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC.

    Python accepts offsets up to ±23:59 but PostgreSQL only up to ±15:59: a larger one
    reached the query as a DataError (a 500). In UTC any offset is fine; one that moves
    the moment out of years 1 to 9999 is invalid input.
    """

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcDateTimeFilter(IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, without building a FilterSet that has nothing to filter.

    Building one costs about 1 ms of CPU per request (a copy of every filter, a form class
    and its fields, a validation) even when the query names none of its filters, and then
    returns the queryset untouched: absent values never filter.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or _filters_nothing(filterset_class, request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


def _filters_nothing(filterset_class: type[FilterSet], params: Mapping[str, Any]) -> bool:
    """True when the FilterSet would only hand the queryset back.

    That is: no parameter starts with a filter's name (range filters add suffixes), no
    filter is required (its absence is a 400), and no code of the FilterSet's own could
    filter anyway.
    """
    filters = filterset_class.base_filters
    return (
        filterset_class.qs is FilterSet.qs
        and filterset_class.filter_queryset is FilterSet.filter_queryset
        and filterset_class._meta.form is forms.Form
        and not any(filter_.extra.get("required") for filter_ in filters.values())
        and not any(param.startswith(name) for param in params for name in filters)
    )
