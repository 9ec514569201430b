"""Shared values of the ATS connectors (Greenhouse, Workable): offers, orders, results, the status
vocabularies and API-key lookup. Pure: no HTTP, no database.

Statuses are mapped in two steps. `ats_status` turns one of our candidate statuses into a neutral
ATS status ("pending", "in_progress", "completed", "expired", "cancelled"); `GREENHOUSE_STATUS` and
`WORKABLE_STATUS` turn that into each vendor's word. Decisions (neither vendor documents them):

- `evaluating` is still "in_progress": the results are not there yet, and Greenhouse reads
  "complete" as "results available".
- `knocked_out` and `ended_early` are "completed": the interview is over and a result (maybe with
  no score) exists; the outcome travels in `AtsResult.outcome`. A retake a recruiter grants later
  is sent again as a new result.
- `shortlisted` and `dismissed` are recruiter decisions after a result ("completed"); a candidate
  dismissed before any result is "cancelled" (Workable "rejected").
- A deadline that passed before the candidate finished is "expired" (`deadline_passed`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import ValidationError

from milo_voice.errors import ProtocolViolation

GREENHOUSE = "greenhouse"
WORKABLE = "workable"
PROVIDERS = (GREENHOUSE, WORKABLE)

MAX_KEY_LENGTH = 170
"""Greenhouse stores partner API keys of fewer than 171 characters (its Introduction page)."""

NEUTRAL = ("pending", "in_progress", "completed", "expired", "cancelled")

GREENHOUSE_STATUS: Mapping[str, str] = {
    "pending": "pending",
    "in_progress": "in_progress",
    "completed": "complete",     # the one documented value: results available, polling stops
    "expired": "expired",
    "cancelled": "cancelled",
}
"""`partner_status` words. Only "complete" is documented; the others are ours (Greenhouse keeps
polling, for at most 8 weeks, while the status is anything else)."""

WORKABLE_STATUS: Mapping[str, str] = {
    "pending": "pending",
    "in_progress": "pending",    # Workable has no in-progress state
    "completed": "completed",
    "expired": "expired",
    "cancelled": "rejected",
}
"""Callback `status` words: pending, completed, rejected, expired."""

_BY_CANDIDATE: Mapping[str, str] = {
    "new": "pending",
    "invited": "pending",
    "in_progress": "in_progress",
    "evaluating": "in_progress",
    "completed": "completed",
    "knocked_out": "completed",
    "ended_early": "completed",
}
_DECIDED = frozenset({"shortlisted", "dismissed"})
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_BODY = 64 * 1024
"""Bytes an ATS request body may have; both vendors send a few hundred."""


class ProtocolError(ProtocolViolation, ValueError):
    """An ATS request that does not follow the vendor's documented shape; the message says which
    field and what was expected. Answer it with a 4xx."""


@dataclass(frozen=True, slots=True)
class TestOffer:
    """One test an ATS may send: one per published interview."""

    __test__: ClassVar[bool] = False  # not a pytest class

    id: str
    """Our id for it (Greenhouse partner_test_id, Workable test id)."""
    name: str
    """What the recruiter picks in the ATS (the interview's title)."""


@dataclass(frozen=True, slots=True)
class AtsOrder:
    """An ATS asking us to interview one candidate (Greenhouse send_test, Workable assessment)."""

    provider: str
    """"greenhouse" or "workable"."""
    test_id: str
    """The `TestOffer.id` the recruiter picked."""
    first_name: str
    last_name: str
    email: str
    phone: str
    """As the ATS sent it ("" when absent); normalise with `phonenumbers` before storing."""
    external_id: str
    """The ATS's id of the application/candidate (Greenhouse application id, Workable candidate id),
    or, when the request names none, `callback_url` (unique per order)."""
    callback_url: str
    """Where results go back (Greenhouse `url`, Workable `callback_url`); unique per order."""
    resume_url: str = ""
    """Greenhouse only; the link expires 7 days after the request."""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The request body as parsed JSON (personal data: never log it)."""


@dataclass(frozen=True, slots=True)
class AtsResult:
    """Where one order stands, as we report it to the ATS."""

    partner_interview_id: str
    """Our id of the order (returned by send_test / POST assessments)."""
    status: str
    """Neutral status, one of `NEUTRAL` (see `ats_status`)."""
    score: float | None = None
    """Overall score 0-100; None before scoring or when nothing could be scored."""
    band: str = ""
    """"great", "good", "bad" or "" (scoring.rubric.Bands)."""
    report_url: str = ""
    """Absolute URL of the recruiter's report; required once completed, and it must be reachable
    from the recruiter's browser (Greenhouse links to it)."""
    completed_at: datetime | None = None
    """When the interview ended (timezone-aware UTC)."""
    outcome: str = ""
    """Our candidate status behind a completed result ("knocked_out", "ended_early", ...)."""

    def __post_init__(self) -> None:
        if self.status not in NEUTRAL:
            raise ValueError(f"AtsResult.status {self.status!r}; expected one of {', '.join(NEUTRAL)}")
        if self.score is not None and not 0 <= self.score <= 100:
            raise ValueError(f"AtsResult.score {self.score}; expected 0-100 or None")


def ats_status(candidate_status: str, *, has_result: bool = True, deadline_passed: bool = False) -> str:
    """The neutral ATS status for one of our candidate statuses (see the module docstring)."""
    if candidate_status in _DECIDED:
        return "completed" if has_result else "cancelled"
    try:
        neutral = _BY_CANDIDATE[candidate_status]
    except KeyError:
        known = ", ".join([*_BY_CANDIDATE, *sorted(_DECIDED)])
        raise ValueError(f"candidate status {candidate_status!r}; expected one of {known}") from None
    if neutral == "pending" and deadline_passed:
        return "expired"
    return neutral


def provider_status(provider: str, neutral: str) -> str:
    """The vendor's word for a neutral status ("completed" -> Greenhouse "complete")."""
    table = {GREENHOUSE: GREENHOUSE_STATUS, WORKABLE: WORKABLE_STATUS}.get(provider)
    if table is None:
        raise ValueError(f"ATS provider {provider!r}; expected one of {', '.join(PROVIDERS)}")
    if neutral not in table:
        raise ValueError(f"ATS status {neutral!r}; expected one of {', '.join(NEUTRAL)}")
    return table[neutral]


def new_api_key() -> str:
    """A fresh API key or bearer token for an ATS to use (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    """SHA-256 of a key, hex: what to store and look keys up by (never the key itself)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyRing:
    """API keys -> organisation id, held as SHA-256 digests. Callable as the `api_keys`/`tokens`
    lookup of `check_basic_auth` and `check_bearer`.

    The lookup hashes the presented key and compares digests with `hmac.compare_digest`, so its
    time does not depend on how much of a real key an attacker guessed. A store-backed lookup
    should do the same: look the row up by `key_digest(key)`.
    """

    def __init__(self, keys: Iterable[tuple[str, int]] = ()) -> None:
        self._by_digest: dict[str, int] = {}
        for key, org_id in keys:
            self.add(key, org_id)

    def add(self, key: str, org_id: int) -> None:
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValueError(f"API key of {len(key)} characters; expected 1-{MAX_KEY_LENGTH}")
        self._by_digest[key_digest(key)] = org_id

    def __call__(self, key: str) -> int | None:
        presented = key_digest(key)
        found: int | None = None
        for digest, org_id in self._by_digest.items():
            if hmac.compare_digest(digest, presented):
                found = org_id
        return found


def load_json(body: bytes, call: str) -> dict[str, Any]:
    """A request body as a JSON object, or ProtocolError naming the call ("send_test: ...")."""
    if len(body) > MAX_BODY:
        raise ProtocolError(f"{call}: body of {len(body)} bytes; expected at most {MAX_BODY}")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"{call}: body is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"{call}: body is a JSON {type(data).__name__}; expected an object")
    return data


def validation_message(call: str, exc: ValidationError) -> str:
    """The first pydantic error as "call: field.path: what was wrong"."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    if first["type"] == "missing":
        return f"{call}: {where} is missing"
    return f"{call}: {where}: {first['msg']}"


def looks_like_email(text: str) -> bool:
    return bool(_EMAIL.fullmatch(text.strip())) and len(text) <= 320


def check_url(url: str, what: str, hosts: Collection[str] | None = None) -> None:
    """Raise ProtocolError unless `url` is an absolute http(s) URL; when `hosts` is given, its host
    must be one of them or under one ("greenhouse.io" admits "app.greenhouse.io")."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProtocolError(f"{what} {url[:100]!r} is not an absolute http(s) URL")
    if hosts is not None:
        host = parts.hostname.lower()
        if not any(host == h.lower() or host.endswith("." + h.lower()) for h in hosts):
            raise ProtocolError(f"{what} points at {host}; expected a host under {', '.join(sorted(hosts))}")
