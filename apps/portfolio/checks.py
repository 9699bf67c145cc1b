from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from apps.portfolio.client_ip import trusted_proxy_networks


@checks.register(checks.Tags.security)
def check_trusted_proxies(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        trusted_proxy_networks()
    except ImproperlyConfigured as exc:
        hint = "List IP addresses or CIDR networks, separated by commas."
        return [checks.Error(str(exc), hint=hint, id="portfolio.E001")]
    return []


@checks.register()
def check_portfolio_cwd(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    cwd = settings.CONDUCTOR_PORTFOLIO_CWD
    if cwd and not cwd.startswith("/"):
        message = f"CONDUCTOR_PORTFOLIO_CWD must be an absolute path, got {cwd!r}"
        return [checks.Error(message, id="portfolio.E002")]
    return []
