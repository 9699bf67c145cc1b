"""The service token: how another service posts task events without a user account."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

BEARER = b"bearer"


class ServiceCredentials:
    """``request.auth`` of a request that presented the service token; there is no user."""


class ServiceTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <CONDUCTOR_SERVICE_TOKEN>``.

    A Bearer header is a claim to be the service: a wrong token, or any token while the
    setting is unset, is refused (401) rather than passed on to the other authenticators.
    """

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ServiceCredentials] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != BEARER:
            return None
        expected = settings.CONDUCTOR_SERVICE_TOKEN.encode()
        if len(parts) != 2 or not expected or not hmac.compare_digest(parts[1], expected):
            raise AuthenticationFailed("Invalid service token.")
        return AnonymousUser(), ServiceCredentials()

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class IsStaffOrService(BasePermission):
    message = "Only staff or a service presenting the service token can do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, ServiceCredentials):
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)


class ServiceTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "apps.activity.auth.ServiceTokenAuthentication"
    name = "serviceToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "CONDUCTOR_SERVICE_TOKEN"}
