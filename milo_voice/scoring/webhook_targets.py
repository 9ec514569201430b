"""Where a webhook may be sent: only to public addresses, unless the operator allows private ones.

A webhook URL is chosen by an admin and fetched by the server, so without this check it reaches
what only the server can reach: the cloud metadata service (169.254.169.254), services bound to
loopback, the office network. The URL's host is resolved (`socket.getaddrinfo`; a literal address
is taken as it is) and refused when any address it gives is loopback, private (RFC 1918, fc00::/7),
link-local (169.254/16, fe80::/10), unspecified, multicast, reserved or otherwise not global
(an IPv4 address mapped into IPv6 is judged as the IPv4 address). `MILO_WEBHOOK_ALLOW_PRIVATE_TARGETS`
turns the check off (a receiver on the same machine or network, and the test suite's loopback ones).

Blocking (DNS): callers on an event loop run `check_target` in a thread.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """What the check found: `refused` (a reason: never send there) or `unresolved` (DNS did not
    answer: perhaps a passing failure), both empty when the URL may be used."""

    refused: str = ""
    unresolved: str = ""
    address: str = ""
    """The checked address to connect to (`pinned`), so a second DNS answer cannot differ (rebinding);
    empty when nothing was resolved (private targets allowed)."""

    @property
    def ok(self) -> bool:
        return not (self.refused or self.unresolved)


def address_kind(address: Address) -> str:
    """Why `address` is not a public one ("" when it is)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_kind(address.ipv4_mapped)
    kinds = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("not global", not address.is_global),
    )
    return next((name for name, hit in kinds if hit), "")


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (a literal address: itself). Raises `OSError` when DNS fails."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[Address] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 scope ("fe80::1%eth0") is not part of it
        address = ipaddress.ip_address(text)
        if address not in found:
            found.append(address)
    return found


def check_target(url: str, *, allow_private: bool) -> TargetCheck:
    """May a webhook be POSTed to `url`? (See the module's docstring.)"""
    if allow_private:
        return TargetCheck()
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host:
        return TargetCheck(refused="the URL has no host name")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return TargetCheck(refused="the URL's port is not a number")
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        return TargetCheck(unresolved=f"{host} could not be resolved ({type(exc).__name__})")
    if not addresses:
        return TargetCheck(unresolved=f"{host} resolved to no address")
    for address in addresses:
        kind = address_kind(address)
        if kind:
            shown = host if host == str(address) else f"{host} ({address})"
            return TargetCheck(
                refused=f"{shown} is not a public address ({kind}); webhooks go to public "
                "addresses only (MILO_WEBHOOK_ALLOW_PRIVATE_TARGETS allows others)"
            )
    return TargetCheck(address=str(addresses[0]))


@dataclass(frozen=True, slots=True)
class PinnedRequest:
    """A request to `url` that connects to an address already checked, not to a second DNS answer:
    the URL names the address, `Host` names the host, and TLS checks the certificate against the host
    (httpx's `sni_hostname` request extension sets the name TLS sends and verifies)."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, str]


def pinned(url: str, address: str) -> PinnedRequest:
    """`url` pinned to `address` (see `PinnedRequest`); unchanged when there is no address to pin."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not address or not host or host == address:
        return PinnedRequest(url, {}, {})
    userinfo, _, hostport = parts.netloc.rpartition("@")
    literal = f"[{address}]" if ":" in address else address
    netloc = (userinfo + "@" if userinfo else "") + literal + (f":{parts.port}" if parts.port else "")
    extensions = {"sni_hostname": host} if parts.scheme.lower() == "https" else {}
    return PinnedRequest(urlunsplit(parts._replace(netloc=netloc)), {"Host": hostport}, extensions)
