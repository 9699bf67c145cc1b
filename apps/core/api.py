from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.core.openapi import error_responses


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "is_staff"]
        read_only_fields = fields


class MeView(APIView):
    """The authenticated user: the simplest way for a client to check its token."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class ApiRootView(APIView):
    @extend_schema(
        responses=inline_serializer("ApiRoot", fields={"links": serializers.DictField()})
    )
    def get(self, request: Request) -> Response:
        links = {
            "me": request.build_absolute_uri("/api/me/"),
            "token": request.build_absolute_uri("/api/auth/token/"),
            "docs": request.build_absolute_uri("/api/docs/"),
        }
        return Response({"links": links})


@extend_schema_view(
    post=extend_schema(responses={200: AuthTokenSerializer, **error_responses(429)})
)
class ObtainTokenView(ObtainAuthToken):
    """Exchanges a username and password for the user's API token."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"
