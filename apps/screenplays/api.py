"""Serializers and views of /api/screenplays/: shapes in and out, services do the work."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import BaseFilterBackend, OrderingFilter
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api_utils import ListFromRows, visible
from apps.core.filters import FilterBackend, UtcDateTimeFilter
from apps.core.openapi import error_responses
from apps.core.permissions import ModelPermissions
from apps.core.serializers import ListRows, StrictCharField
from apps.screenplays import services
from apps.screenplays.markdown_validation import validate_markdown
from apps.screenplays.models import (
    DESCRIPTION_MAX_LENGTH,
    MAX_TAGS,
    NAME_MAX_LENGTH,
    TAG_MAX_LENGTH,
    Screenplay,
)
from apps.screenplays.paths import validated_file_key
from apps.screenplays.selectors import (
    screenplay_search,
    screenplay_with_file_key,
    screenplays_tagged,
)


class ScreenplaySerializer(serializers.ModelSerializer):
    class Meta:
        model = Screenplay
        fields = [
            "id",
            "name",
            "description",
            "tags",
            "content",
            "working_directory",
            "file_path",
            "import_path",
            "export_path",
            "file_key",
            "content_hash",
            "version",
            "last_used_at",
            "is_deleted",
            "deleted_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# GET /api/screenplays/: ScreenplaySerializer's output without its per-value cost. Held
# equal to it by tests/screenplays/test_list_representation.py.
SCREENPLAY_LIST_ROWS = ListRows(ScreenplaySerializer)


class ScreenplayWriteSerializer(serializers.Serializer):
    """Shape only: the services check the markdown, the paths and duplicates."""

    name = StrictCharField(max_length=NAME_MAX_LENGTH)
    description = StrictCharField(
        max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True
    )
    tags = serializers.ListField(
        child=StrictCharField(max_length=TAG_MAX_LENGTH), required=False, max_length=MAX_TAGS
    )
    content = StrictCharField(allow_blank=True, trim_whitespace=False)
    working_directory = StrictCharField(required=False, allow_blank=True)
    file_path = StrictCharField(required=False, allow_blank=True)
    import_path = StrictCharField(required=False, allow_blank=True)
    export_path = StrictCharField(required=False, allow_blank=True)
    force = serializers.BooleanField(
        required=False,
        write_only=True,
        help_text="Save content that has markdown warnings (never errors). Also ?force=true.",
    )


class RenameSerializer(serializers.Serializer):
    new_name = StrictCharField(max_length=NAME_MAX_LENGTH)
    update_file_paths = serializers.BooleanField(default=False)


class WorkingDirectorySerializer(serializers.Serializer):
    working_directory = StrictCharField(allow_blank=True)


class MarkdownInputSerializer(serializers.Serializer):
    content = StrictCharField(allow_blank=True, trim_whitespace=False)


class MarkdownIssueSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()


MARKDOWN_REPORT_SCHEMA = inline_serializer(
    "MarkdownReport",
    fields={
        "is_valid": serializers.BooleanField(),
        "errors": MarkdownIssueSerializer(many=True),
        "warnings": MarkdownIssueSerializer(many=True),
    },
)


class CheckDuplicateInputSerializer(serializers.Serializer):
    file_path = StrictCharField(allow_blank=True, trim_whitespace=False)
    file_name = StrictCharField(trim_whitespace=False)
    exclude_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1
    )


class ScreenplayRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CheckDuplicateResultSerializer(serializers.Serializer):
    is_duplicate = serializers.BooleanField()
    duplicate_screenplay = ScreenplayRefSerializer(allow_null=True)
    file_key = serializers.CharField()


FORCE_PARAMETER = OpenApiParameter(
    "force",
    OpenApiTypes.BOOL,
    description="Save content that has markdown warnings (never errors). Same as the body field.",
)


class CanChangeScreenplay(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and user.has_perm("screenplays.change_screenplay")
        )


class ScreenplayFilter(filters.FilterSet):
    tags = filters.CharFilter(
        method="filter_tags", help_text="Comma-separated tags; rows carrying every one."
    )
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Screenplay
        fields = ["is_deleted", "working_directory"]

    def filter_tags(self, queryset: QuerySet[Screenplay], name: str, value: str) -> QuerySet:
        tags = [tag.strip() for tag in value.split(",") if tag.strip()]
        return screenplays_tagged(queryset=queryset, tags=tags)


class ScreenplaySearchFilter(BaseFilterBackend):
    """``?search=``: full-text over name, description and content (ranked on PostgreSQL)."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        return screenplay_search(queryset=queryset, query=request.query_params.get("search", ""))

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "search",
                "required": False,
                "in": "query",
                "description": "Full-text search over name, description and content.",
                "schema": {"type": "string"},
            }
        ]


def requested_force(request: Request, body_value: bool | None) -> bool:
    """The body's ``force`` wins; otherwise ``?force=``; otherwise False."""
    if body_value is not None:
        return body_value
    raw = request.query_params.get("force")
    if raw is None:
        return False
    try:
        return bool(serializers.BooleanField().to_internal_value(raw))
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({"force": exc.detail}) from None


def _write_data(request: Request, *, partial: bool) -> tuple[dict[str, Any], bool]:
    serializer = ScreenplayWriteSerializer(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    return data, requested_force(request, data.pop("force", None))


@extend_schema_view(
    create=extend_schema(
        request=ScreenplayWriteSerializer,
        responses={201: ScreenplaySerializer, **error_responses(409)},
        parameters=[FORCE_PARAMETER],
    ),
    update=extend_schema(
        request=ScreenplayWriteSerializer,
        responses={200: ScreenplaySerializer, **error_responses(409)},
        parameters=[FORCE_PARAMETER],
    ),
    partial_update=extend_schema(
        request=ScreenplayWriteSerializer,
        responses={200: ScreenplaySerializer, **error_responses(409)},
        parameters=[FORCE_PARAMETER],
    ),
    destroy=extend_schema(description="Soft delete: the row is hidden, and can be restored."),
)
class ScreenplayViewSet(ListFromRows, viewsets.ModelViewSet):
    """Markdown project documents. DELETE is a soft delete; see ``restore``."""

    queryset = Screenplay.objects.all()
    serializer_class = ScreenplaySerializer
    list_rows = SCREENPLAY_LIST_ROWS
    permission_classes = [ModelPermissions]
    filter_backends = [FilterBackend, ScreenplaySearchFilter, OrderingFilter]
    filterset_class = ScreenplayFilter
    ordering_fields = ["name", "created_at", "updated_at", "last_used_at", "version"]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Screenplay]:
        if getattr(self, "swagger_fake_view", False):
            return Screenplay.objects.none()
        if self.action == "restore":
            return Screenplay.all_objects.all()
        if self.action in {"list", "retrieve"}:
            return visible(Screenplay, self.request)
        return Screenplay.objects.all()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data, force = _write_data(request, partial=False)
        screenplay = services.screenplay_create(**data, force=force)
        return Response(ScreenplaySerializer(screenplay).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        screenplay = self.get_object()
        data, force = _write_data(request, partial=kwargs.get("partial", False))
        screenplay = services.screenplay_update(screenplay=screenplay, data=data, force=force)
        return Response(ScreenplaySerializer(screenplay).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.screenplay_soft_delete(screenplay=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=MarkdownInputSerializer, responses=MARKDOWN_REPORT_SCHEMA)
    @action(
        detail=False,
        methods=["post"],
        url_path="validate-markdown",
        permission_classes=[IsAuthenticated],
    )
    def validate_markdown(self, request: Request) -> Response:
        serializer = MarkdownInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(validate_markdown(serializer.validated_data["content"]).as_dict())

    @extend_schema(request=CheckDuplicateInputSerializer, responses=CheckDuplicateResultSerializer)
    @action(
        detail=False,
        methods=["post"],
        url_path="check-duplicate",
        permission_classes=[IsAuthenticated],
    )
    def check_duplicate(self, request: Request) -> Response:
        serializer = CheckDuplicateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = validated_file_key(directory=data["file_path"], file_name=data["file_name"])
        other = screenplay_with_file_key(file_key=key, exclude_id=data.get("exclude_id"))
        duplicate = None if other is None else {"id": other.pk, "name": other.name}
        return Response(
            {"is_duplicate": other is not None, "duplicate_screenplay": duplicate, "file_key": key}
        )

    @extend_schema(
        request=RenameSerializer, responses={200: ScreenplaySerializer, **error_responses(409)}
    )
    @action(detail=True, methods=["post"], permission_classes=[CanChangeScreenplay])
    def rename(self, request: Request, pk: str | None = None) -> Response:
        serializer = RenameSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        screenplay = services.screenplay_rename(
            screenplay=self.get_object(), **serializer.validated_data
        )
        return Response(ScreenplaySerializer(screenplay).data)

    @extend_schema(
        request=WorkingDirectorySerializer,
        responses={200: ScreenplaySerializer, **error_responses(409)},
    )
    @action(
        detail=True,
        methods=["patch"],
        url_path="working-directory",
        permission_classes=[CanChangeScreenplay],
    )
    def working_directory(self, request: Request, pk: str | None = None) -> Response:
        serializer = WorkingDirectorySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        screenplay = services.screenplay_change_working_directory(
            screenplay=self.get_object(), **serializer.validated_data
        )
        return Response(ScreenplaySerializer(screenplay).data)

    @extend_schema(request=None, responses=ScreenplaySerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="mark-as-used",
        permission_classes=[CanChangeScreenplay],
    )
    def mark_as_used(self, request: Request, pk: str | None = None) -> Response:
        screenplay = services.screenplay_mark_used(screenplay=self.get_object())
        return Response(ScreenplaySerializer(screenplay).data)

    @extend_schema(
        request=None,
        responses={200: ScreenplaySerializer, **error_responses(409)},
        description="Reverses a soft delete. 409 (screenplay_not_deleted) if it is not deleted.",
    )
    @action(detail=True, methods=["post"], permission_classes=[CanChangeScreenplay])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        screenplay = services.screenplay_restore(screenplay=self.get_object())
        return Response(ScreenplaySerializer(screenplay).data)
