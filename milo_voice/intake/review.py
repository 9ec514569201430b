"""Warnings on the review screen: what a recruiter should look at before ingesting a row. Pure.

A row is flagged when it has no email (it cannot be invited by email), when the extractor doubted a
field (confidence under `LOW_CONFIDENCE`, with its reason), when it repeats a candidate already in
the interview or another row of the same upload (same email, case-insensitive, or the same phone
number once both are in E.164), and when a cell starts like a spreadsheet formula.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from milo_voice.outreach.phones import e164

LOW_CONFIDENCE = 0.8
"""Below this, a field's value is shown with the extractor's reason."""
FORMULA_STARTS = ("=", "+", "-", "@")
FIELDS = ("name", "email", "phone", "location")


@dataclass(frozen=True, slots=True)
class Row:
    """One reviewable item, as the warnings need it."""

    id: int
    source: str
    name: str
    email: str
    phone: str
    location: str
    confidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Known:
    """A candidate already in the interview."""

    candidate_id: int
    name: str
    email: str
    phone: str


def _keys(email: str, phone: str, region: str) -> list[tuple[str, str]]:
    keys = []
    if email.strip():
        keys.append(("email", email.strip().lower()))
    number = e164(phone, region) if phone.strip() else ""
    if number:
        keys.append(("phone", number))
    return keys


def warnings(rows: Sequence[Row], known: Sequence[Known], *, region: str = "US") -> dict[int, list[str]]:
    """Row id -> its warnings, in a stable order (empty list: nothing to look at)."""
    existing: dict[tuple[str, str], Known] = {}
    for candidate in known:
        for key in _keys(candidate.email, candidate.phone, region):
            existing.setdefault(key, candidate)
    first_seen: dict[tuple[str, str], Row] = {}
    out: dict[int, list[str]] = {}
    for row in rows:
        found = out.setdefault(row.id, [])
        if not row.email.strip():
            found.append("missing email")
        found += _doubts(row)
        for kind, value in _keys(row.email, row.phone, region):
            other = existing.get((kind, value))
            if other is not None:
                found.append(f"duplicate of candidate {other.name or other.candidate_id} (same {kind})")
            earlier = first_seen.setdefault((kind, value), row)
            if earlier is not row:
                found.append(f"duplicate of {earlier.source} in this upload (same {kind})")
        found += [f"{name} starts with {getattr(row, name)[0]!r}: kept as text"
                  for name in ("name", "location") if getattr(row, name).startswith(FORMULA_STARTS)]
    return out


def _doubts(row: Row) -> list[str]:
    out = []
    for name in FIELDS:
        doubt = row.confidence.get(name) or {}
        value = getattr(row, name)
        score = doubt.get("confidence")
        if value and isinstance(score, int | float) and score < LOW_CONFIDENCE:
            reason = doubt.get("reason") or "the extractor was unsure"
            out.append(f"check {name}: {reason}")
    return out
