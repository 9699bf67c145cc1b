"""web_fetch refuses every address that is not public, however it is spelled or reached."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from apps.tools import web_fetch
from tests.tools.test_web_fetch import (
    WebServer,
    allow_listed_server,
    fake_resolver,
    fetch,
    refuse_name_lookups,
    serving,
)

PUBLIC = "93.184.215.14"


@pytest.fixture(autouse=True)
def web_no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_name_lookups(monkeypatch)


@pytest.fixture
def web_server(settings: Any) -> Iterator[WebServer]:
    yield from allow_listed_server(settings)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.1/", "blocked address 127.0.0.1 (loopback) for host 127.1"),
        ("http://2130706433/", "blocked address 127.0.0.1 (loopback) for host 2130706433"),
        ("http://0x7f000001/", "blocked address 127.0.0.1 (loopback) for host 0x7f000001"),
        ("http://017700000001/", "blocked address 127.0.0.1 (loopback)"),
        ("http://0177.0.0.1/", "blocked address 127.0.0.1 (loopback) for host 0177.0.0.1"),
        ("http://0x7f.0.0.1/", "blocked address 127.0.0.1 (loopback) for host 0x7f.0.0.1"),
        ("http://0x7F.1/", "blocked address 127.0.0.1 (loopback)"),
        ("http://127.0.1/", "blocked address 127.0.0.1 (loopback) for host 127.0.1"),
        ("http://127.0.0.1./", "blocked address 127.0.0.1 (loopback)"),
        ("http://[::ffff:127.0.0.1]/", "(IPv4-mapped loopback 127.0.0.1)"),
        ("http://[::ffff:7f00:1]/", "(IPv4-mapped loopback 127.0.0.1)"),
        ("http://[::ffff:a9fe:a9fe]/", "(IPv4-mapped cloud metadata 169.254.169.254)"),
        ("http://[::127.0.0.1]/", "(IPv4-compatible loopback 127.0.0.1)"),
        ("http://[64:ff9b::a00:1]/", "(NAT64 private 10.0.0.1)"),
        ("http://[2002:c0a8:101::]/", "(6to4 private 192.168.1.1)"),
        ("http://[::1]/", "blocked address ::1 (loopback)"),
        ("http://[::]/", "blocked address :: (unspecified)"),
        ("http://localhost/", "blocked host localhost (localhost)"),
        ("http://localhost./", "blocked host localhost (localhost)"),
        ("http://LOCALHOST/", "blocked host localhost (localhost)"),
        ("http://foo.localhost/", "blocked host foo.localhost (localhost)"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 (cloud metadata)"),
        ("http://[fd00:ec2::254]/", "blocked address fd00:ec2::254 (cloud metadata)"),
        ("http://100.100.100.200/", "blocked address 100.100.100.200 (cloud metadata)"),
        ("http://metadata.google.internal/", "(cloud metadata)"),
        ("http://0.0.0.0/", "blocked address 0.0.0.0 (unspecified)"),
        ("http://0/", "blocked address 0.0.0.0 (unspecified) for host 0"),
        ("http://100.64.0.1/", "blocked address 100.64.0.1 (CGNAT)"),
        ("http://10.0.0.1/", "blocked address 10.0.0.1 (private)"),
        ("http://172.16.0.1/", "blocked address 172.16.0.1 (private)"),
        ("http://192.168.1.1/", "blocked address 192.168.1.1 (private)"),
        ("http://224.0.0.1/", "blocked address 224.0.0.1 (multicast)"),
        ("http://255.255.255.255/", "blocked address 255.255.255.255 (broadcast)"),
        ("http://240.0.0.1/", "blocked address 240.0.0.1 (reserved)"),
        ("http://[fe80::1]/", "blocked address fe80::1 (link-local)"),
        ("http://[fe80::1%25eth0]/", "blocked address fe80::1 (link-local)"),
        ("http://[fc00::1]/", "blocked address fc00::1 (private)"),
        ("http://user:pass@example.com/", "credentials in the url (user:pass@) are not allowed"),
        ("http://user@example.com/", "credentials in the url"),
        ("file:///etc/passwd", "scheme 'file' is not allowed"),
        ("ftp://example.com/", "scheme 'ftp' is not allowed"),
        ("gopher://example.com:70/_GET", "scheme 'gopher' is not allowed"),
        ("http://1.2.3.4.5/", "invalid IPv4 address"),
        ("http://256.0.0.1.example/", "could not resolve host"),
    ],
)
async def test_it_refuses_a_blocked_or_disallowed_url(url: str, reason: str) -> None:
    result = await fetch(url=url)

    assert result.success is False
    assert reason in (result.error or "")


async def test_it_refuses_a_name_that_resolves_to_a_private_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(web_fetch, "resolve", fake_resolver({"intra.test": ["10.0.0.5"]}, calls))

    result = await fetch(url="http://intra.test/admin")

    assert result.error == "blocked address 10.0.0.5 (private) for host intra.test"
    assert calls == [("intra.test", 80)]


async def test_it_refuses_a_name_when_any_of_its_addresses_is_blocked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = {"mixed.test": [PUBLIC, "192.168.0.7"]}
    monkeypatch.setattr(web_fetch, "resolve", fake_resolver(table, []))

    result = await fetch(url="https://mixed.test/")

    assert result.error == "blocked address 192.168.0.7 (private) for host mixed.test"


async def test_it_refuses_a_name_resolving_to_mapped_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(web_fetch, "resolve", fake_resolver({"v6.test": ["::ffff:7f00:1"]}, []))

    result = await fetch(url="http://v6.test/")

    assert "(IPv4-mapped loopback 127.0.0.1) for host v6.test" in (result.error or "")


async def test_an_allowed_port_does_not_open_other_loopback_ports(web_server: WebServer) -> None:
    allowed = await fetch(url=web_server.url("/hello"))
    other = await fetch(url=f"http://127.0.0.1:{web_server.port + 1}/")

    assert allowed.success
    assert other.error == "blocked address 127.0.0.1 (loopback) for host 127.0.0.1"


async def test_an_allowed_ip_does_not_allow_its_other_spellings_to_other_ports(
    web_server: WebServer,
) -> None:
    result = await fetch(url=f"http://2130706433:{web_server.port + 1}/")

    assert "blocked address 127.0.0.1 (loopback)" in (result.error or "")


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://127.0.0.1:{other}/", "blocked address 127.0.0.1 (loopback)"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 (cloud metadata)"),
        ("http://[::ffff:169.254.169.254]/", "(IPv4-mapped cloud metadata 169.254.169.254)"),
        ("http://0x7f000001:{other}/", "blocked address 127.0.0.1 (loopback)"),
        ("http://localhost:{port}/", "blocked host localhost (localhost)"),
        ("file:///etc/passwd", "scheme 'file' is not allowed"),
    ],
)
async def test_it_refuses_a_redirect_to_a_blocked_address(
    web_server: WebServer, target: str, reason: str
) -> None:
    location = target.format(other=web_server.port + 1, port=web_server.port)

    result = await fetch(url=web_server.url(f"/redirect?to={location}"))

    assert result.success is False
    assert result.error is not None
    assert result.error.startswith("redirect 1 to ")
    assert " refused: " in result.error
    assert reason in result.error
    assert [seen["path"] for seen in web_server.seen] == [f"/redirect?to={location}"]


async def test_it_stops_after_five_redirects(web_server: WebServer) -> None:
    result = await fetch(url=web_server.url("/loop/0"))

    assert result.success is False
    assert "too many redirects (more than 5)" in (result.error or "")
    assert len(web_server.seen) == 6


async def test_five_redirects_are_still_followed(web_server: WebServer) -> None:
    chain = "/redirect?to=" * 5
    result = await fetch(url=web_server.url(chain.replace("=/", "=") + "/hello"))

    assert result.success, result.error
    assert len(result.result["redirects"]) == 5
    assert result.result["body"] == "hello from main"


async def test_it_resolves_each_hop_exactly_once(
    web_server: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, int]] = []
    table = {"a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"]}
    monkeypatch.setattr(web_fetch, "resolve", fake_resolver(table, calls))
    second = web_server.url("/hello", host="b.test")

    result = await fetch(url=web_server.url(f"/redirect?to={second}", host="a.test"))

    assert result.success, result.error
    assert calls == [("a.test", web_server.port), ("b.test", web_server.port)]


@pytest.fixture
def web_rebinding_servers(settings: Any) -> Iterator[tuple[WebServer, WebServer]]:
    """An allowed server on 127.0.0.2 and a forbidden one on 127.0.0.1, same port."""
    allowed = WebServer(host="127.0.0.2", label="allowed")
    try:
        forbidden = WebServer(host="127.0.0.1", port=allowed.port, label="forbidden")
    except OSError as exc:
        allowed.server_close()
        pytest.skip(f"cannot bind two loopback addresses to one port: {exc}")
    settings.CONDUCTOR_WEB_FETCH_ALLOW = [f"127.0.0.2:{allowed.port}"]
    with serving(forbidden), serving(allowed):
        yield allowed, forbidden


async def test_dns_rebinding_cannot_reach_loopback(
    web_rebinding_servers: tuple[WebServer, WebServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed, forbidden = web_rebinding_servers
    answers = iter([["127.0.0.2"], ["127.0.0.1"]])
    calls: list[str] = []

    def rebinding_resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    monkeypatch.setattr(web_fetch, "resolve", rebinding_resolve)
    result = await fetch(url=allowed.url("/echo", host="rebind.test"))

    assert result.success, result.error
    assert '"host": "rebind.test:' in result.result["body"]
    assert calls == ["rebind.test"]
    assert forbidden.seen == []


def test_the_default_resolver_uses_getaddrinfo_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        calls.append(host)
        stream = socket.SOCK_STREAM
        return [
            (socket.AF_INET, stream, 6, "", ("10.0.0.5", port)),
            (socket.AF_INET6, stream, 6, "", ("fe80::1%eth0", port, 0, 2)),
            (socket.AF_INET, stream, 6, "", ("10.0.0.5", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    assert web_fetch.resolve("intra.test", 80) == ["10.0.0.5", "fe80::1%eth0"]
    assert calls == ["intra.test"]
