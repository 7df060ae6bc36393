"""Who is calling, by network address: the peer, or behind trusted proxies the rightmost
address in `X-Forwarded-For` that no trusted proxy holds; and the bucket a rate limit
counts it in (an IPv6 caller by its /64, which one subscriber usually has whole).

Pure functions; `caller_address(scope)` applies the app's settings to an ASGI scope."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, MutableMapping, Sequence
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

IPV6_RATE_PREFIX = 64


def parse_address(text: str) -> IPAddress | None:
    """An address as a proxy writes it (`[v6]:port` and `v4:port` forms too); IPv4-mapped
    IPv6 becomes the IPv4 address. None when it is not an address."""
    value = text.strip()
    if value.startswith("["):  # [2001:db8::1]:443
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # 203.0.113.7:51234
        value = value.split(":", 1)[0]
    value = value.split("%", 1)[0]  # no zone ids
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: Sequence[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def resolve_client(peer: str | None, forwarded_for: Iterable[str], proxies: Sequence[IPNetwork]) -> str:
    """The caller's address. `forwarded_for` are the X-Forwarded-For header values in order.

    Only when the peer is a trusted proxy is the header read, from the right: each hop a
    trusted proxy holds is skipped, the first one that is not is the caller (anything to its
    left was written by the caller and may be forged). A hop that is not an address ends the
    walk at the last trusted hop. Without a trusted peer the header is ignored entirely."""
    peer_address = parse_address(peer) if peer else None
    if peer_address is None:
        return peer or "unknown"
    if not proxies or not _trusted(peer_address, proxies):
        return str(peer_address)
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    current = peer_address
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            return str(current)
        current = address
        if not _trusted(address, proxies):
            return str(address)
    return str(current)  # every hop is a trusted proxy: the leftmost is the best we know


def rate_limit_key(address: str) -> str:
    """The bucket of a caller: its IPv4 address, or the /64 its IPv6 address lies in (an
    IPv6 subscriber gets a /64 or more, so counting single addresses would let one caller
    walk around any limit)."""
    parsed = parse_address(address)
    if parsed is None:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, IPV6_RATE_PREFIX), strict=False))
    return str(parsed)


def caller_address(scope: MutableMapping[str, Any]) -> str:
    """The caller of this request, with the app's TRUSTED_PROXIES applied."""
    client = scope.get("client")
    peer = client[0] if client else None
    app = scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    proxies: Sequence[IPNetwork] = getattr(settings, "trusted_proxies", None) or ()
    forwarded = [value.decode("latin-1") for name, value in scope.get("headers", ()) if name == b"x-forwarded-for"]
    return resolve_client(peer, forwarded, proxies)
