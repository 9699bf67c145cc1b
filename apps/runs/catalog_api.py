"""The model catalog over HTTP: GET /api/models/ and GET /api/models/select/."""

from __future__ import annotations

import math
from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.exceptions import ConductorError
from apps.core.openapi import error_responses
from apps.runtime.catalog import TASKS, model_catalog, select_model
from apps.runtime.providers import default_model


class NoModelFits(ConductorError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "no_model_fits"
    default_message = "No model fits these requirements."


class ModelInfoSerializer(serializers.Serializer):
    id = serializers.CharField()
    provider = serializers.CharField()
    # Shadows Field.label for the type checker only; DRF collects it as a field.
    label = serializers.CharField()  # type: ignore[assignment]
    context_window = serializers.IntegerField(allow_null=True)
    max_output_tokens = serializers.IntegerField(allow_null=True)
    supports_tools = serializers.BooleanField()
    supports_vision = serializers.BooleanField()
    input_price_per_million = serializers.FloatField(
        allow_null=True, help_text="USD per million input tokens."
    )
    output_price_per_million = serializers.FloatField(
        allow_null=True, help_text="USD per million output tokens."
    )
    is_demo = serializers.BooleanField(help_text="The offline demo model: no provider, no cost.")
    configured = serializers.BooleanField(help_text="Its provider has a key in the environment.")


class ModelCatalogSerializer(serializers.Serializer):
    results = ModelInfoSerializer(many=True)
    default = serializers.CharField(help_text="The model used when none is named.")


class ModelSelectQuerySerializer(serializers.Serializer):
    task = serializers.ChoiceField(choices=TASKS, default="general")
    budget = serializers.FloatField(
        min_value=0, required=False, help_text="The most to pay, in USD per million output tokens."
    )
    require_vision = serializers.BooleanField(default=False)
    min_context = serializers.IntegerField(
        min_value=0, required=False, help_text="Smallest acceptable context window, in tokens."
    )
    require_tools = serializers.BooleanField(
        default=False, help_text="Only models with native tool calling."
    )
    allow_demo = serializers.BooleanField(
        default=False, help_text="Accept the offline demo model when no configured model fits."
    )

    def validate_budget(self, value: float) -> float:
        if not math.isfinite(value):
            raise serializers.ValidationError("A valid number is required.")
        return value


class ModelCatalogView(APIView):
    @extend_schema(responses=ModelCatalogSerializer)
    def get(self, request: Request) -> Response:
        """Lists the models Conductor knows, with prices and capabilities."""
        body = {"results": [asdict(m) for m in model_catalog()], "default": default_model()}
        return Response(ModelCatalogSerializer(body).data)


class ModelSelectView(APIView):
    @extend_schema(
        parameters=[ModelSelectQuerySerializer],
        responses={200: ModelInfoSerializer, **error_responses(404)},
    )
    def get(self, request: Request) -> Response:
        """Picks the best catalog model for a task; 404 when none fits."""
        params = ModelSelectQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        chosen = select_model(model_catalog(), **params.validated_data)
        if chosen is None:
            raise NoModelFits(details=dict(params.validated_data))
        return Response(ModelInfoSerializer(asdict(chosen)).data)
