"""Twilio's request signature (`X-Twilio-Signature`) for the SMS webhooks, with no web framework.

Twilio's documented scheme: take the full URL Twilio requested (query included), append every POST
parameter as name + value with the parameters sorted by name, HMAC-SHA1 that with the account's auth
token as the key, and base64 the digest. Twilio may sign the URL with or without the default port
(443/80), so both forms are accepted. The voice webhooks and the media stream
(`calls/phone/twilio_rest.py`) use these same functions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

DEFAULT_PORTS = {"https": 443, "http": 80, "wss": 443, "ws": 80}
"""ws/wss: the voice channel's media-stream upgrade request is signed the same way."""


def signature(auth_token: str, url: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """The `X-Twilio-Signature` Twilio sends for a POST to `url` with these parameters."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def url_forms(url: str) -> list[str]:
    """`url` as given, then without and with its scheme's default port (when it has none other)."""
    parts = urlsplit(url)
    default = DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    if default is None or not host or parts.port not in (None, default):
        return [url]
    netloc = f"[{host}]" if ":" in host else host
    forms = [urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)),
             urlunsplit((parts.scheme, f"{netloc}:{default}", parts.path, parts.query, parts.fragment))]
    return [url, *(form for form in forms if form != url)]


def valid_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]], header: str) -> bool:
    """Whether `header` is Twilio's signature of (`url`, `params`); constant-time per comparison.
    False without a token or a header: there is nothing to check against."""
    if not auth_token or not header:
        return False
    pairs = list(params)
    expected = header.strip().encode()
    return any(hmac.compare_digest(signature(auth_token, form, pairs).encode(), expected)
               for form in url_forms(url))
