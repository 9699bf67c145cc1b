"""Which hosts and addresses an outbound fetch may reach (SSRF guard).

Host strings are parsed the way browsers and ``inet_aton`` read them, so an
encoded loopback such as ``2130706433`` or ``0x7f.1`` is judged as 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

CLOUD_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
BLOCKED_NAMES = frozenset({"localhost", "metadata.google.internal", "metadata"})
CGNAT = ipaddress.ip_network("100.64.0.0/10")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
BROADCAST = ipaddress.ip_address("255.255.255.255")

_NUMERIC_PART = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


class InvalidHost(ValueError):
    pass


# --- host parsing -----------------------------------------------------------


def normalize_host(host: str) -> str:
    """Lowercases and drops one trailing dot; brackets and IPv6 zone ids go too."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        return host.split("%", 1)[0]
    return host[:-1] if host.endswith(".") and host != "." else host


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a (normalized) host denotes, or None when it is a DNS name."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidHost(f"invalid IPv6 address {host!r}") from None
    return parse_ipv4_literal(host)


def parse_ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """WHATWG IPv4 parsing: 1-4 parts, each decimal, octal (0...) or hex (0x...)."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not _NUMERIC_PART.match(parts[-1]):
        return None
    if len(parts) > 4:
        raise InvalidHost(f"invalid IPv4 address {host!r}")
    numbers = [_ipv4_part(part, host) for part in parts]
    last = numbers.pop()
    if any(n > 255 for n in numbers) or last >= 256 ** (4 - len(numbers)):
        raise InvalidHost(f"IPv4 address {host!r} is out of range")
    value = last + sum(n << (8 * (3 - i)) for i, n in enumerate(numbers))
    return ipaddress.IPv4Address(value)


def _ipv4_part(part: str, host: str) -> int:
    try:
        if part[:2] in ("0x", "0X"):
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part.startswith("0"):
            return int(part[1:], 8)
        return int(part, 10)
    except ValueError:
        raise InvalidHost(f"invalid IPv4 address {host!r}") from None


def check_hostname(host: str) -> None:
    """Rejects anything but plain LDH labels, so the resolver sees no odd syntax."""
    labels = host.split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise InvalidHost(f"invalid host name {host!r}")


def blocked_name_reason(host: str) -> str | None:
    if host == "localhost" or host.endswith(".localhost"):
        return "localhost"
    return "cloud metadata" if host in BLOCKED_NAMES else None


# --- address classification --------------------------------------------------


def blocked_reason(address: IPAddress) -> str | None:
    """Why an address must not be reached, or None when it is public."""
    if address in CLOUD_METADATA:
        return "cloud metadata"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            kind, v4 = embedded
            inner = blocked_reason(v4)
            return f"{kind} {inner} {v4}" if inner else None
    return _category(address)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", address.ipv4_mapped
    if address in IPV4_COMPATIBLE and int(address) > 1:
        return "IPv4-compatible", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in NAT64:
        return "NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return "6to4", address.sixtofour
    if address.teredo is not None:
        return "Teredo", address.teredo[1]
    return None


def _category(address: IPAddress) -> str | None:
    checks: list[tuple[bool, str]] = [
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address == BROADCAST, "broadcast"),
        (address in CGNAT, "CGNAT"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
        (not address.is_global, "non-global"),
    ]
    return next((reason for hit, reason in checks if hit), None)


# --- allow-list ------------------------------------------------------------------


@dataclass(frozen=True)
class AllowEntry:
    host: str | None = None
    port: int | None = None
    network: Network | None = None

    def matches(self, host: str, address: IPAddress | None, port: int) -> bool:
        """A name entry matches the URL's host; an IP or network entry the address."""
        if self.network is not None:
            return address is not None and address in self.network
        if self.port is not None and self.port != port:
            return False
        return self.host == host or (address is not None and self.host == str(address))


def parse_allow_entry(entry: str) -> AllowEntry:
    """``host``, ``host:port``, ``[v6]:port``, a bare IP or a CIDR network."""
    entry = entry.strip().lower()
    if "/" in entry:
        return AllowEntry(network=ipaddress.ip_network(entry, strict=False))
    try:
        return AllowEntry(host=str(ipaddress.ip_address(entry.strip("[]"))))
    except ValueError:
        pass
    host, sep, port = entry.rpartition(":")
    if not sep or not port.isdigit():
        return AllowEntry(host=normalize_host(entry))
    literal = parse_ip_literal(normalize_host(host))
    return AllowEntry(host=str(literal) if literal else normalize_host(host), port=int(port))


def is_allowed(entries: Iterable[str], host: str, address: IPAddress | None, port: int) -> bool:
    return any(parse_allow_entry(e).matches(host, address, port) for e in entries if e.strip())
