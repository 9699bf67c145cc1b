"""REST API for personas and their versions: serializers validate, services write."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.validators import MaxLengthValidator
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api_utils import validated
from apps.core.openapi import error_responses
from apps.core.permissions import IsStaff, ModelPermissions
from apps.core.validators import validate_no_control_characters
from apps.personas import selectors, services
from apps.personas.exceptions import PersonaVersionNotFound
from apps.personas.models import (
    CHANGE_REASON_MAX_LENGTH,
    PERSONA_CONTENT_MAX_CHARS,
    PERSONA_NAME_MAX_LENGTH,
    Persona,
    normalize_line_endings,
)

# Versions are PositiveIntegerFields: anything larger cannot exist (and would overflow SQL).
MAX_VERSION = 2_147_483_647


class MarkdownField(serializers.CharField):
    """Text kept as typed (no trimming), with CRLF line endings normalised before validation."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        return normalize_line_endings(super().to_internal_value(data))


def change_reason_field() -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=CHANGE_REASON_MAX_LENGTH,
        validators=[validate_no_control_characters],
        write_only=True,
        help_text="Why the change was made; recorded in the persona's history.",
    )


def version_number_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_VERSION, **kwargs)


class PersonaSerializer(serializers.ModelSerializer):
    # No UniqueValidator: a duplicate name is a conflict (409), raised by the service.
    name = serializers.CharField(
        max_length=PERSONA_NAME_MAX_LENGTH, validators=[validate_no_control_characters]
    )
    content = MarkdownField(
        required=False,
        allow_blank=True,
        validators=[MaxLengthValidator(PERSONA_CONTENT_MAX_CHARS), validate_no_control_characters],
    )
    version = serializers.IntegerField(source="current_version", read_only=True, allow_null=True)
    change_reason = change_reason_field()

    class Meta:
        model = Persona
        fields = [
            "id",
            "name",
            "content",
            "metadata",
            "version",
            "created_at",
            "updated_at",
            "change_reason",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class ChangeReasonSerializer(serializers.Serializer):
    change_reason = change_reason_field()


@extend_schema_field(serializers.ChoiceField(choices=["created", "changed", "deleted"]))
class HistoryTypeField(serializers.Field):
    def to_representation(self, value: str) -> str:
        return selectors.HISTORY_TYPE_NAMES[value]


class PersonaVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(read_only=True)
    history_date = serializers.DateTimeField(read_only=True)
    history_user = serializers.CharField(
        source="history_user.username", read_only=True, allow_null=True
    )
    change_reason = serializers.CharField(source="history_change_reason", read_only=True)
    history_type = HistoryTypeField(read_only=True)
    name = serializers.CharField(read_only=True)
    content = serializers.CharField(read_only=True)
    metadata = serializers.JSONField(read_only=True)


class CompareSerializer(serializers.Serializer):
    version1 = version_number_field()
    version2 = version_number_field()


class DiffEntrySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["header", "added", "removed", "unchanged"])
    content = serializers.CharField()


class DiffSummarySerializer(serializers.Serializer):
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    change_percentage = serializers.FloatField()


class VersionDiffSerializer(serializers.Serializer):
    differences = DiffEntrySerializer(many=True)
    summary = DiffSummarySerializer()


class RestoreSerializer(serializers.Serializer):
    version = version_number_field()
    change_reason = change_reason_field()


class CleanupSerializer(serializers.Serializer):
    keep = version_number_field(help_text="How many of the newest versions to keep (>= 1).")


class CleanupResultSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()
    kept = serializers.IntegerField()


class CanChangePersonas(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("personas.change_persona"))


def acting_user(request: Request) -> AbstractBaseUser:
    """The authenticated user, for the services' explicit ``actor``."""
    assert isinstance(request.user, AbstractBaseUser), "views require authentication"
    return request.user


def _change_reason(request: Request) -> str | None:
    raw = request.data.get("change_reason") if hasattr(request.data, "get") else None
    data = {"change_reason": raw or request.query_params.get("change_reason")}
    serializer = ChangeReasonSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    reason: str | None = serializer.validated_data.get("change_reason")
    return reason


CHANGE_REASON_QUERY = OpenApiParameter(
    "change_reason", OpenApiTypes.STR, description="Why the persona is deleted (or in the body)."
)


@extend_schema_view(
    create=extend_schema(responses={201: PersonaSerializer, **error_responses(409)}),
    update=extend_schema(responses={200: PersonaSerializer, **error_responses(409)}),
    partial_update=extend_schema(responses={200: PersonaSerializer, **error_responses(409)}),
)
class PersonaViewSet(viewsets.ModelViewSet):
    """Personas: any authenticated user reads; writes need the model's permissions."""

    serializer_class = PersonaSerializer
    permission_classes = [ModelPermissions]
    search_fields = ["name", "content"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]
    filterset_fields = ["name"]

    def get_queryset(self) -> QuerySet[Persona]:
        return selectors.personas_with_version_info().order_by("name")

    def _respond_with(self, serializer: serializers.BaseSerializer, persona: Persona) -> None:
        serializer.instance = selectors.personas_with_version_info().get(pk=persona.pk)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        persona = services.persona_create(
            actor=acting_user(self.request), **serializer.validated_data
        )
        self._respond_with(serializer, persona)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        persona = services.persona_update(
            persona=cast(Persona, serializer.instance),
            actor=acting_user(self.request),
            **serializer.validated_data,
        )
        self._respond_with(serializer, persona)

    @extend_schema(
        parameters=[CHANGE_REASON_QUERY],
        request=ChangeReasonSerializer,
        responses={204: None, **error_responses(409)},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        persona = self.get_object()
        reason = _change_reason(request)
        services.persona_delete(persona=persona, actor=acting_user(request), change_reason=reason)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _version_in_url(raw: str) -> int:
    version = int(raw)
    if version > MAX_VERSION:
        raise PersonaVersionNotFound(details={"version": raw})
    return version


class PersonaVersionViewSet(viewsets.GenericViewSet):
    """The versions of one persona: read, compare, restore and prune."""

    serializer_class = PersonaVersionSerializer
    lookup_field = "version"
    lookup_value_regex = r"[0-9]+"
    filter_backends: list[Any] = []
    action_permissions: dict[str, list[type[BasePermission]]] = {
        "restore": [CanChangePersonas],
        "cleanup": [IsStaff],
    }

    def get_permissions(self) -> list[BasePermission]:
        classes = self.action_permissions.get(self.action or "", [IsAuthenticated])
        return [permission() for permission in classes]

    def get_persona(self) -> Persona:
        if not hasattr(self, "_persona"):
            self._persona = get_object_or_404(Persona, pk=self.kwargs["persona_pk"])
        return self._persona

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return selectors.persona_history_model().objects.none()
        return selectors.persona_versions(persona=self.get_persona())

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        version = _version_in_url(kwargs["version"])
        record = selectors.persona_version_get(persona=self.get_persona(), version=version)
        return Response(self.get_serializer(record).data)

    @extend_schema(request=CompareSerializer, responses=VersionDiffSerializer)
    @action(detail=False, methods=["post"])
    def compare(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = validated(CompareSerializer, request)
        diff = selectors.persona_versions_diff(persona=self.get_persona(), **data)
        return Response(VersionDiffSerializer(diff).data)

    @extend_schema(
        request=RestoreSerializer, responses={200: PersonaSerializer, **error_responses(409)}
    )
    @action(detail=False, methods=["post"])
    def restore(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = validated(RestoreSerializer, request)
        persona = services.persona_restore(
            persona=self.get_persona(), actor=acting_user(request), **data
        )
        fresh = selectors.personas_with_version_info().get(pk=persona.pk)
        return Response(PersonaSerializer(fresh).data)

    @extend_schema(request=CleanupSerializer, responses=CleanupResultSerializer)
    @action(detail=False, methods=["post"])
    def cleanup(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        keep = validated(CleanupSerializer, request)["keep"]
        deleted = services.persona_versions_cleanup(
            persona=self.get_persona(), keep=keep, actor=acting_user(request)
        )
        return Response({"deleted": deleted, "kept": self.get_queryset().count()})
