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

_V6_SPECIAL = (ipaddress.IPv6Address("::"), ipaddress.IPv6Address("::1"))

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
    with the development setting; everything else that is not public unicast never is."""
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return Refusal("a link-local address with a zone")
    if isinstance(address, ipaddress.IPv6Address) and address not in _V6_SPECIAL:
        # before the loopback rule: ::ffff:127.0.0.1 is refused even where loopback is allowed
        if address.ipv4_mapped is not None or any(address in net for net in _EMBEDDING_V6):
            return Refusal("an IPv6 address that carries an IPv4 address (mapped, compatible or translated)")
    if address.is_loopback:
        return None if allow_loopback else Refusal("a loopback address")
    if address.is_unspecified:
        return Refusal("the unspecified address")
    if address.is_link_local:
        return Refusal("a link-local address (e.g. the cloud metadata service 169.254.169.254)")
    if address.is_multicast:
        return Refusal("a multicast address")
    if address.is_reserved:
        return Refusal("a reserved address")
    if address.is_private:
        return Refusal("a private address")
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
