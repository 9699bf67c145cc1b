"""DNS-rebinding protection: the Host headers the MCP endpoint answers."""

from __future__ import annotations

from apps.mcp.http import transport_security


def test_the_allowed_hosts_default_to_djangos_each_on_any_port(settings):
    settings.CONDUCTOR_MCP_ALLOWED_HOSTS = ["localhost", "[::1]", ".example.com"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://admin.example.com"]

    security = transport_security()

    assert security.enable_dns_rebinding_protection is True
    assert security.allowed_hosts == [
        "localhost", "localhost:*", "[::1]", "[::1]:*", "example.com", "example.com:*",
    ]  # fmt: skip
    assert "http://localhost:*" in security.allowed_origins
    assert "https://admin.example.com" in security.allowed_origins


def test_a_wildcard_host_turns_the_check_off_as_it_does_for_django(settings):
    settings.CONDUCTOR_MCP_ALLOWED_HOSTS = ["*"]

    assert transport_security().enable_dns_rebinding_protection is False
