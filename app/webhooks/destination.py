"""Resolving a webhook URL to the one address it may be sent to, and sending to exactly that
address (no DNS rebinding): the request goes to the checked IP while the Host header and the
TLS server name (SNI, and so certificate verification) stay the URL's host name.
The decision itself is the pure `app.webhooks.address_policy`."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

from app.webhooks.address_policy import IPAddress, check_host, literal, odd_ipv4_form

RESOLVE_TIMEOUT_SECONDS = 5.0


class Refused(Exception):
    """The URL's host is not an address the service may contact."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Destination:
    url: str  # the URL with the checked address in place of the host name
    host_header: str  # what the Host header says: the URL's own host[:port]
    sni_hostname: str | None  # the name TLS verifies the certificate for (None for an IP literal)
    address: IPAddress


async def resolve_addresses(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (an IP literal: itself); [] when it does not resolve.
    Odd numeric forms (2130706433) are not resolved: the policy refuses them by their form."""
    if (found := literal(host)) is not None:
        return [found]
    if odd_ipv4_form(host):
        return []
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=RESOLVE_TIMEOUT_SECONDS
        )
    except (OSError, TimeoutError, UnicodeError):
        return []
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]))
        if address not in addresses:
            addresses.append(address)
    return addresses


def _host_and_port(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Refused("the URL's port is not a number from 0 to 65535") from exc
    return host, port, parts.netloc.rsplit("@", 1)[-1]


def form_refusal(url: str) -> str | None:
    """Why the URL's form may not be used for a delivery: only https:// or http:// with a host
    and without credentials (the API says the same, in its own words, when it is subscribed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "not an absolute https:// URL"
    if parts.username is not None or parts.password is not None:
        return "credentials in the URL"
    return port_refusal(parts)


def port_refusal(parts: SplitResult) -> str | None:
    """Why the URL's port may not be used: 0 (urllib would connect to the default port while
    the Host header says 0), or not a number in range."""
    try:
        return "port 0" if parts.port == 0 else None
    except ValueError:
        return "the URL's port is not a number from 1 to 65535"


async def resolve(url: str, *, allow_loopback: bool) -> Destination:
    """Where to send a delivery for `url`, checked now, the whole URL policy again (the row may
    have been changed in the database, or subscribed while the development setting was on):
    its form, https, and the address; `Refused` when nowhere."""
    if (why := form_refusal(url)) is not None:
        raise Refused(why)
    host, port, host_header = _host_and_port(url)
    address, refused = check_host(host, await resolve_addresses(host, port), allow_loopback=allow_loopback)
    if refused is not None or address is None:
        raise Refused(refused.reason if refused else "no address")
    parts = urlsplit(url)
    # Plain http only to the loopback address it connects to, and only with the setting.
    if parts.scheme == "http" and not (allow_loopback and address.is_loopback):
        raise Refused(
            "plain http:// (webhooks are sent over https; http only to loopback with WEBHOOK_ALLOW_LOOPBACK_HTTP)"
        )
    shown = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{shown}:{parts.port}" if parts.port else shown
    pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return Destination(pinned, host_header, None if literal(host) else host, address)


async def refusal_at_creation(url: str, *, allow_loopback: bool) -> str | None:
    """Why a subscription URL is refused when it is created or changed, or None. A name that
    does not resolve yet is accepted (the receiver's DNS may follow); every delivery checks
    again and refuses it then."""
    host, port, _ = _host_and_port(url)
    addresses = await resolve_addresses(host, port)
    if not addresses and not odd_ipv4_form(host):
        return None
    _, refused = check_host(host, addresses, allow_loopback=allow_loopback)
    return refused.reason if refused else None
