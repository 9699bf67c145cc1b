"""20 requests a minute per client IP. Invalid bodies spend the budget as well as valid
ones (throttles run before the view), which keeps these tests fast and LLM-free."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.envelope import assert_envelope
from tests.portfolio.conftest import chat

LIMIT = 20
PROXY = "10.0.0.2"


def spend(client: Any, times: int = LIMIT, **extra: Any) -> list[int]:
    return [chat(client, {}, **extra).status_code for _ in range(times)]


def test_the_21st_request_in_a_minute_is_throttled_with_retry_after(visitor):
    assert spend(visitor, REMOTE_ADDR="203.0.113.5") == [400] * LIMIT

    response = chat(visitor, {"message": "Hi"}, REMOTE_ADDR="203.0.113.5")

    error = assert_envelope(response, 429, "throttled")
    retry_after = response["Retry-After"]
    assert retry_after.isdigit()
    assert 0 < int(retry_after) <= 60
    assert error["details"] == {"retry_after": int(retry_after)}


def test_another_client_keeps_its_own_budget(visitor):
    spend(visitor, LIMIT + 1, REMOTE_ADDR="203.0.113.5")

    assert chat(visitor, {}, REMOTE_ADDR="203.0.113.6").status_code == 400


def test_clients_behind_a_trusted_proxy_get_separate_budgets(visitor, settings):
    settings.CONDUCTOR_TRUSTED_PROXIES = [PROXY]
    alice = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    bob = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.2"}
    spend(visitor, **alice)

    assert chat(visitor, {}, **alice).status_code == 429
    assert chat(visitor, {}, **bob).status_code == 400


def test_a_forwarded_for_header_from_an_untrusted_peer_is_ignored(visitor, settings):
    settings.CONDUCTOR_TRUSTED_PROXIES = [PROXY]
    spoofed = (f"198.51.100.{n}" for n in itertools.count(1))
    for _ in range(LIMIT):
        chat(visitor, {}, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=next(spoofed))

    response = chat(visitor, {}, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=next(spoofed))

    assert response.status_code == 429


def test_proxies_can_be_trusted_as_a_cidr_network(visitor, settings):
    settings.CONDUCTOR_TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::/32"]
    # Two hops of ours (10.9.9.9 and the peer): the client is the right-most one left.
    spend(visitor, REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="198.51.100.7, 10.9.9.9")

    other_proxy = chat(visitor, {}, REMOTE_ADDR="2001:db8::5", HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert other_proxy.status_code == 429


def test_a_client_cannot_forge_hops_left_of_what_the_proxy_appended(visitor, settings):
    settings.CONDUCTOR_TRUSTED_PROXIES = [PROXY]
    for n in range(LIMIT):
        chat(visitor, {}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 198.51.100.3")

    response = chat(visitor, {}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.3")

    assert response.status_code == 429


@pytest.mark.parametrize("header", ["not-an-ip", "198.51.100.1, junk", "198.51.100.1:443", ","])
def test_a_malformed_forwarded_for_falls_back_to_the_proxys_address(visitor, settings, header):
    settings.CONDUCTOR_TRUSTED_PROXIES = [PROXY]
    spend(visitor, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=header)

    assert chat(visitor, {}, REMOTE_ADDR=PROXY).status_code == 429
    someone_else = chat(visitor, {}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert someone_else.status_code == 400
