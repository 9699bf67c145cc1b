from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, tzinfo
from functools import cached_property
from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from apps.core.pagination import CountedValues


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of stringifying them."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class SlugLookupField(serializers.SlugRelatedField):
    """A SlugRelatedField that refuses NUL before its query: PostgreSQL rejects a NUL in a
    parameter with a DataError (a 500), where SQLite would just find nothing."""

    default_error_messages = {"null_character": "Null characters are not allowed."}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and "\x00" in data:
            self.fail("null_character")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"not_an_integer": "Must be an integer."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_an_integer")
        return int(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"not_a_boolean": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("not_a_boolean")
        return data


def string_list_field(*, max_length: int = 100, **kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=StrictCharField(max_length=max_length), **kwargs)


RowFunction = Callable[[dict[str, Any]], Any]
# (field name, its column, its formatter); no column: the formatter computes from the row.
PlanStep = tuple[str, str | None, Callable[[Any], Any] | None]


class ListRows:
    """A read-only ModelSerializer's output for a list page, built from ``.values()`` rows.

    Through the serializer, a page of 50 rows of 30 fields costs more than the rest of the
    request: DRF rebuilds every field for each request, instantiates each row's models,
    then resolves and formats 1,500 values one generic call at a time. Here the fields are
    built once, the rows are plain dicts, and each value goes to its field's own
    ``to_representation`` (datetimes read the time zone once per page, not per value).

    Method fields cannot read a row: give them as ``computed``, functions of the row (its
    keys are the ``columns``). Sources may follow forward relations only (``agent.slug``):
    those never change the number of rows, so pages are counted without their joins.
    """

    def __init__(
        self,
        serializer_class: type[serializers.ModelSerializer],
        *,
        computed: Mapping[str, RowFunction] | None = None,
    ) -> None:
        self.serializer_class = serializer_class
        self.computed = dict(computed or {})

    @cached_property
    def fields(self) -> dict[str, serializers.Field]:
        fields = self.serializer_class().fields
        return {name: field for name, field in fields.items() if not field.write_only}

    @cached_property
    def columns(self) -> dict[str, str]:
        """Each field's ``.values()`` column (computed fields have none)."""
        model = self.serializer_class.Meta.model
        return {
            name: _column(model, name, field)
            for name, field in self.fields.items()
            if name not in self.computed
        }

    def rows(self, queryset: QuerySet) -> CountedValues:
        return CountedValues(queryset, queryset.values(*self.columns.values()))

    def represent(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        plan = self._plan()
        return [_represent(row, plan) for row in rows]

    def _plan(self) -> list[PlanStep]:
        plan: list[PlanStep] = []
        for name, field in self.fields.items():
            if name in self.computed:
                plan.append((name, None, self.computed[name]))
            else:
                plan.append((name, self.columns[name], _formatter(field)))
        return plan


def _represent(row: dict[str, Any], plan: list[PlanStep]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name, column, format_value in plan:
        if column is None:
            item[name] = format_value(row)  # type: ignore[misc]
        elif format_value is None:
            item[name] = row[column]
        else:
            value = row[column]
            # DRF skips to_representation for None too.
            item[name] = None if value is None else format_value(value)
    return item


def _column(model: type[Model], name: str, field: serializers.Field) -> str:
    if isinstance(field, serializers.BaseSerializer | serializers.ManyRelatedField) or (
        field.source == "*"
    ):
        raise ImproperlyConfigured(f"ListRows cannot read {name!r} from a row: compute it.")
    *relations, last = field.source_attrs
    for part in relations:
        relation = model._meta.get_field(part)
        if not (relation.many_to_one or relation.one_to_one) or not relation.concrete:
            raise ImproperlyConfigured(f"ListRows follows forward relations only: {name!r}.")
        model = relation.related_model  # type: ignore[assignment]
    column = model._meta.get_field(last)
    if not column.concrete or (
        column.is_relation and not isinstance(field, serializers.PrimaryKeyRelatedField)
    ):
        raise ImproperlyConfigured(f"ListRows reads plain columns and related ids: {name!r}.")
    return "__".join([*relations, last])


def _formatter(field: serializers.Field) -> Callable[[Any], Any] | None:
    """What DRF would do to a non-None value of ``field``; None: output it as it is."""
    if isinstance(field, serializers.PrimaryKeyRelatedField):
        # The row holds the related id itself, not PKOnlyObject(pk=id).
        pk_field: serializers.Field | None = getattr(field, "pk_field", None)
        return None if pk_field is None else pk_field.to_representation
    if isinstance(field, serializers.DateTimeField):
        return _datetime_formatter(field)
    return field.to_representation


def _datetime_formatter(field: serializers.DateTimeField) -> Callable[[Any], Any]:
    """DateTimeField.to_representation in ISO 8601, with the time zone read once."""
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    zone = cast(
        tzinfo | None,
        field.timezone if hasattr(field, "timezone") else field.default_timezone(),
    )
    if zone is None or not isinstance(output_format, str) or output_format.lower() != ISO_8601:
        return field.to_representation

    def iso(value: Any) -> Any:
        if not isinstance(value, datetime) or value.tzinfo is None:
            return field.to_representation(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return iso
