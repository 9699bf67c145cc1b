"""The client's IP address, believing X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxy_networks() -> list[IPNetwork]:
    """CONDUCTOR_TRUSTED_PROXIES parsed; a bad entry raises ImproperlyConfigured naming it."""
    networks = []
    for entry in settings.CONDUCTOR_TRUSTED_PROXIES:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"CONDUCTOR_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR network"
            ) from None
    return networks


def parse_ip(value: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return mapped or address


def _is_trusted(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in networks)


def _forwarded_client(header: str, networks: Sequence[IPNetwork]) -> IPAddress | None:
    """The right-most address that is not a trusted proxy; None when the chain is malformed.

    Only the part right of that address was written by our proxies; whatever a client
    put further left is never read, so garbage there does not matter.
    """
    hops = [hop.strip() for hop in header.split(",")]
    for hop in reversed(hops):
        address = parse_ip(hop)
        if address is None:
            return None
        if not _is_trusted(address, networks):
            return address
    # Every hop is a proxy of ours: the left-most one is where the request came from.
    return parse_ip(hops[0])


def client_ip(meta: Mapping[str, Any]) -> str:
    """REMOTE_ADDR, or, when that peer is a trusted proxy, the client it forwarded for."""
    remote = str(meta.get("REMOTE_ADDR") or "")
    peer = parse_ip(remote)
    if peer is None:
        return remote
    networks = trusted_proxy_networks()
    header = str(meta.get("HTTP_X_FORWARDED_FOR") or "")
    if not header.strip() or not _is_trusted(peer, networks):
        return str(peer)
    forwarded = _forwarded_client(header, networks)
    return str(forwarded or peer)
