from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.openapi import error_responses
from apps.core.parsers import BoundedJSONParser
from apps.core.serializers import StrictCharField
from apps.core.validators import validate_no_control_characters
from apps.portfolio import services
from apps.portfolio.throttling import PortfolioRateThrottle

MESSAGE_MAX_CHARS = 2_000


class PortfolioChatSerializer(serializers.Serializer):
    message = StrictCharField(
        max_length=MESSAGE_MAX_CHARS, validators=[validate_no_control_characters]
    )
    session_id = serializers.RegexField(
        services.SESSION_ID_RE,
        required=False,
        allow_null=True,
        error_messages={"invalid": "This is not a chat session id."},
        help_text="Leave out to start a session; then send back the session_id you got.",
    )


class PortfolioReplySerializer(serializers.Serializer):
    response = serializers.CharField()
    session_id = serializers.CharField()


class PortfolioChatView(APIView):
    """The public chat with the portfolio agent: no account, rate limited per client IP."""

    # No session authentication, hence no CSRF check: a visitor's cookie cannot get in the way.
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [PortfolioRateThrottle]
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        request=PortfolioChatSerializer,
        # 404: an unknown session; 502, 504: the model failed or timed out; 503: no agent.
        responses={200: PortfolioReplySerializer, **error_responses(404, 429, 502, 503, 504)},
        auth=[],
        tags=["portfolio"],
    )
    def post(self, request: Request) -> Response:
        serializer = PortfolioChatSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reply = services.portfolio_chat(**serializer.validated_data)
        return Response(asdict(reply))
