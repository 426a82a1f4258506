"""Which addresses an outbound request may reach: the SSRF rules, pure so they are tested exhaustively.

Only public unicast addresses pass by default. An address hidden inside an IPv6 one (IPv4-mapped,
NAT64, 6to4) is judged by the IPv4 address it leads to, so `::ffff:127.0.0.1` is loopback. The
services apply these rules to the address they are about to connect to, never to a name alone.
"""

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.domain.errors import Forbidden, Invalid

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = frozenset({"http", "https"})
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# Checked in this order, so the name given is the most specific one (loopback is private too).
KINDS: tuple[tuple[str, Callable[[IPAddress], bool]], ...] = (
    ("unspecified", lambda a: a.is_unspecified),
    ("loopback", lambda a: a.is_loopback),
    ("link-local", lambda a: a.is_link_local),
    ("multicast", lambda a: a.is_multicast),
    ("site-local", lambda a: isinstance(a, ipaddress.IPv6Address) and a.is_site_local),
    ("private", lambda a: a.is_private),
    ("reserved", lambda a: a.is_reserved),
    ("non-public", lambda a: not a.is_global),
)


class BlockedAddress(Forbidden):
    """The URL leads to an address outbound requests may not reach."""


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64 or 6to4), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def address_kind(address: IPAddress) -> str | None:
    """Why an address is not public ("loopback", "private", ...), or None when it is."""
    inner = embedded_ipv4(address)
    if inner is not None:
        return address_kind(inner)
    for kind, test in KINDS:
        if test(address):
            return kind
    return None


def parse_address(text: str) -> IPAddress | None:
    """An IP literal (a zone suffix like `%eth0` allowed), or None for a host name."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def check_scheme(scheme: str) -> None:
    if scheme.lower() not in SCHEMES:
        raise Invalid(f"only http and https URLs can be fetched, not '{scheme}'", field="url")


def _host_key(host: str) -> str:
    return host.strip().lower().rstrip(".")


@dataclass(frozen=True)
class OutboundPolicy:
    """What the operator allows beyond the public internet."""

    allow_private: bool = False
    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, allow_private: bool, allowlist: Iterable[str]) -> "OutboundPolicy":
        """Allow-list entries are networks in CIDR form, single addresses, or host names."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in filter(None, (e.strip() for e in allowlist)):
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(_host_key(entry))
        return cls(allow_private, tuple(networks), frozenset(hosts))

    def refusal(self, host: str, address: IPAddress) -> str | None:
        """The kind of address that makes `host` at `address` unreachable, or None when allowed."""
        kind = address_kind(address)
        if kind is None or self.allow_private or _host_key(host) in self.hosts:
            return None
        candidates = [address]
        if (inner := embedded_ipv4(address)) is not None:
            candidates.append(inner)
        if any(a in n for a in candidates for n in self.networks if a.version == n.version):
            return None
        return kind

    def check(self, host: str, addresses: Iterable[IPAddress]) -> None:
        """Refuse the host when any address it resolves to is refused, so rebinding gains nothing.

        The message names the host only: which internal address a name has stays private.
        """
        for address in addresses:
            if self.refusal(host, address) is not None:
                raise BlockedAddress(
                    f"'{host}' is not a public address; requests to loopback, private, link-local, "
                    "multicast and reserved addresses are refused",
                    field="url",
                )
