import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from apps.portfolio.client_ip import client_ip, trusted_proxy_networks

TRUSTED = ["10.0.0.0/8", "192.168.1.1", "2001:db8::/32"]


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.1", "", "203.0.113.1"),
        ("203.0.113.1", "198.51.100.1", "203.0.113.1"),  # untrusted peer: header ignored
        ("10.0.0.1", "", "10.0.0.1"),
        ("10.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("192.168.1.1", "198.51.100.1", "198.51.100.1"),
        ("192.168.1.2", "198.51.100.1", "192.168.1.2"),  # a neighbour, not the proxy
        ("10.0.0.1", "198.51.100.9, 198.51.100.1", "198.51.100.1"),  # right-most wins
        ("10.0.0.1", "198.51.100.1, 10.2.2.2, 192.168.1.1", "198.51.100.1"),
        ("10.0.0.1", "10.3.3.3, 10.2.2.2", "10.3.3.3"),  # all ours: the left-most
        ("10.0.0.1", "garbage, 198.51.100.1", "198.51.100.1"),  # never read that far
        ("10.0.0.1", "198.51.100.1, garbage", "10.0.0.1"),
        ("10.0.0.1", "198.51.100.1:8080", "10.0.0.1"),
        ("10.0.0.1", " ", "10.0.0.1"),
        ("10.0.0.1", "2001:db8:ffff::1, 2001:0DB9::1", "2001:db9::1"),
        ("2001:db8::1", "198.51.100.1", "198.51.100.1"),
        ("::ffff:10.0.0.1", "198.51.100.1", "198.51.100.1"),  # IPv4 seen by a dual stack
        ("10.0.0.1", "::ffff:198.51.100.1", "198.51.100.1"),
        ("", "198.51.100.1", ""),
        ("unix-socket", "198.51.100.1", "unix-socket"),
    ],
)
def test_the_client_ip_believes_only_trusted_proxies(settings, remote, forwarded, expected):
    settings.CONDUCTOR_TRUSTED_PROXIES = TRUSTED

    meta = {"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_FOR": forwarded}

    assert client_ip(meta) == expected


def test_without_trusted_proxies_the_header_is_never_read(settings):
    settings.CONDUCTOR_TRUSTED_PROXIES = []

    meta = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}

    assert client_ip(meta) == "10.0.0.1"


def test_an_invalid_trusted_proxy_is_named_in_the_error(settings):
    settings.CONDUCTOR_TRUSTED_PROXIES = ["10.0.0.1", "10.0.0.300/8"]

    with pytest.raises(ImproperlyConfigured, match=r"CONDUCTOR_TRUSTED_PROXIES: '10\.0\.0\.300/8'"):
        trusted_proxy_networks()


def test_the_system_check_reports_an_invalid_trusted_proxy(settings):
    settings.CONDUCTOR_TRUSTED_PROXIES = ["proxy.internal"]

    with pytest.raises(SystemCheckError, match=r"portfolio\.E001.*'proxy\.internal'"):
        call_command("check")


def test_the_system_check_reports_a_relative_working_directory(settings):
    settings.CONDUCTOR_PORTFOLIO_CWD = "var/portfolio"

    with pytest.raises(SystemCheckError, match=r"portfolio\.E002"):
        call_command("check")


def test_a_host_address_with_bits_set_is_accepted_as_its_network(settings):
    settings.CONDUCTOR_TRUSTED_PROXIES = ["10.1.2.3/8"]

    assert [str(network) for network in trusted_proxy_networks()] == ["10.0.0.0/8"]
