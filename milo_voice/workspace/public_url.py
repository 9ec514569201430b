"""Can candidates open the links this server prints? Every candidate link, share link and QR poster
is built on `Settings.base_url`; unless `MILO_PUBLIC_URL` names an address others can reach, they
all point at this machine only. Pure: no network, no name lookups.

The rule (`problem`): the public URL must be set, be an http(s) URL with a host, and that host must
not be this machine only: not `localhost` (nor a `*.localhost` name, RFC 6761), not a loopback
address (127.0.0.0/8, ::1, also written as ::ffff:127.x or in inet_aton short forms like 127.1),
and not the unspecified address (0.0.0.0, ::), which is where a server listens, not an address to
visit. Private addresses (10.x, 192.168.x) pass: a LAN install is a real use.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from milo_voice.settings import Settings

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
EXAMPLE = "https://interviews.example.com"

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(host: str) -> IpAddress | None:
    """`host` as an IP address (IPv6 unmapped to IPv4 where it is mapped), or None for a name."""
    try:
        address: IpAddress = ipaddress.ip_address(host)
    except ValueError:
        try:  # the short forms browsers accept too: 127.1, 0x7f.0.0.1, 2130706433
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def problem(public_url: str) -> str:
    """Why candidates could not open links built on `public_url`; "" when they can (see the module)."""
    url = public_url.strip()
    if not url:
        return "MILO_PUBLIC_URL is not set"
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme, (parts.hostname or "").rstrip(".")
    except ValueError:  # an unclosed IPv6 bracket, say
        scheme, host = "", ""
    if scheme not in ("http", "https") or not host:
        return f"MILO_PUBLIC_URL={url} is not an http:// or https:// address with a host name"
    address = _address(host)
    local_name = host in LOCAL_NAMES or host.endswith(".localhost")
    if local_name or (address is not None and (address.is_loopback or address.is_unspecified)):
        return f"MILO_PUBLIC_URL={url} names this machine only ({host})"
    return ""


def reachable(public_url: str) -> bool:
    """True when candidates can open links built on `public_url`."""
    return not problem(public_url)


def warning(settings: Settings) -> str:
    """The full warning for recruiters and the server log ("" when the public URL is fine)."""
    found = problem(settings.public_url)
    if not found:
        return ""
    return (
        f"{found}, so candidate links, share links and QR codes point at {settings.base_url}, "
        f"which candidates cannot open. Set MILO_PUBLIC_URL to the address candidates reach this "
        f"server at (for example {EXAMPLE}) and restart milo-voice serve."
    )
