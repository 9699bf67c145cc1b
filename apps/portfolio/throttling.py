from __future__ import annotations

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from apps.portfolio.client_ip import client_ip


class PortfolioRateThrottle(SimpleRateThrottle):
    """Per client IP, counted in Django's default cache (Redis: shared by every process)."""

    scope = "portfolio"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request.META)}
