"""Which addresses a webhook may be sent to (SSRF), pure: no resolving, no sockets.

A webhook URL is chosen by an administrator of a partner organisation, so the service must
not become a way into its own network: only public unicast addresses are contacted. The
resolving and the connecting (to exactly the address checked here) are in
`app.webhooks.destination`."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 ranges that carry an IPv4 address inside, or are translation/tunnel ranges through
# which an IPv4 address (possibly an internal one) is reached.
_EMBEDDING_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::ffff:0:0/96",  # IPv4-mapped
        "::/96",  # IPv4-compatible (deprecated), also :: and ::1 (handled before)
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",  # local-use NAT64
        "2002::/16",  # 6to4
        "2001::/32",  # Teredo
    )
)

# Of those, the ones whose last 32 bits are the IPv4 address.
_LAST_32_BITS = (ipaddress.IPv6Network("::/96"), ipaddress.IPv6Network("64:ff9b::/96"))

_V6_SPECIAL = (ipaddress.IPv6Address("::"), ipaddress.IPv6Address("::1"))

# Ranges that are not public unicast but that Python 3.11's `is_global`, `is_private` and
# `is_reserved` let through (or name vaguely), refused by name before those are asked.
_DENIED: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(net), reason)
    for net, reason in (
        ("0.0.0.0/8", "in 'this network' (0.0.0.0/8)"),
        ("100.64.0.0/10", "shared address space (carrier-grade NAT, 100.64.0.0/10)"),
        ("192.0.0.0/24", "an IETF protocol assignment (192.0.0.0/24)"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "the deprecated 6to4 relay anycast range (192.88.99.0/24)"),
        ("198.18.0.0/15", "a benchmarking address (198.18.0.0/15)"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("240.0.0.0/4", "a reserved address (240.0.0.0/4)"),
        ("fec0::/10", "a site-local address (fec0::/10, deprecated but still routed internally)"),
        ("2001::/23", "an IETF protocol assignment (2001::/23)"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
        ("5f00::/16", "a segment routing (SRv6) address"),
        ("100::/64", "a discard-only address"),
    )
)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64 /96, 6to4, the
    Teredo client), or None."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    for net in _LAST_32_BITS:
        if address in net:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


# 1 to 4 parts, each decimal, 0-prefixed octal or 0x-prefixed hex: what inet_aton (and so a
# resolver given a "host name") reads as an IPv4 address, e.g. 2130706433, 0x7f000001, 127.1.
_INET_ATON = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.IGNORECASE)


@dataclass(frozen=True)
class Refusal:
    """Why an address or host is refused; `reason` is shown to the administrator and kept on
    the delivery attempt."""

    reason: str


def literal(host: str) -> IPAddress | None:
    """The address when `host` is an IP literal in its ordinary form (dotted quad, IPv6)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def odd_ipv4_form(host: str) -> bool:
    """True for a host that is not an ordinary dotted quad but that resolvers still read as an
    IPv4 address: a single number (2130706433), octal or hex parts (0177.0.0.1, 0x7f.1),
    fewer than four parts (127.1)."""
    return literal(host) is None and bool(_INET_ATON.match(host))


def refusal(address: IPAddress, *, allow_loopback: bool = False) -> Refusal | None:
    """None when `address` may be contacted; otherwise why not. Loopback is allowed only
    with the development setting; everything else that is not public unicast never is:
    not `is_global`, multicast, and the ranges of `_DENIED` that Python 3.11 counts global."""
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return Refusal("a link-local address with a zone")
    if isinstance(address, ipaddress.IPv6Address) and address not in _V6_SPECIAL:
        # before the loopback rule: ::ffff:127.0.0.1 is refused even where loopback is allowed
        # Refused whatever the IPv4 address inside: the translator or relay that would carry
        # the request is not ours to trust, and the embedded address may well be internal.
        if address.ipv4_mapped is not None or any(address in net for net in _EMBEDDING_V6):
            inside = embedded_ipv4(address)
            carried = f": {inside}" if inside is not None else ""
            return Refusal(f"an IPv6 address that carries an IPv4 address (mapped, compatible or translated{carried})")
    if address.is_loopback:
        return None if allow_loopback else Refusal("a loopback address")
    if address.is_unspecified:
        return Refusal("the unspecified address")
    if address.is_link_local:
        return Refusal("a link-local address (e.g. the cloud metadata service 169.254.169.254)")
    if address.is_multicast:
        return Refusal("a multicast address")
    for net, reason in _DENIED:
        if address in net:
            return Refusal(reason)
    if address.is_reserved:
        return Refusal("a reserved address")
    if address.is_private:
        return Refusal("a private address")
    # The one test that covers what the names above miss: only globally reachable unicast.
    if not address.is_global:
        return Refusal("not a public address")
    return None


def check_host(
    host: str, addresses: Sequence[IPAddress], *, allow_loopback: bool = False
) -> tuple[IPAddress, None] | tuple[None, Refusal]:
    """The address to connect to for `host` resolved to `addresses`, or why none may be used.

    Every address the name resolves to must be allowed (a name with one internal address
    among public ones is refused: which one a connection would use is not ours to choose);
    the first is then the one connected to."""
    if not host:
        return None, Refusal("no host")
    if odd_ipv4_form(host):
        return None, Refusal("an IPv4 address must be written as four decimal numbers (a.b.c.d)")
    if not addresses:
        return None, Refusal("the host name does not resolve")
    for address in addresses:
        refused = refusal(address, allow_loopback=allow_loopback)
        if refused is not None:
            shown = host if literal(host) else f"{host} ({address})"
            return None, Refusal(f"{shown} is {refused.reason}")
    return addresses[0], None
