"""CSV and JSON export of an interview's candidates with their current scores.

Spreadsheet programs run a cell that starts with `=`, `+`, `-` or `@` (and some treat a leading
tab or carriage return the same way) as a formula, so such text cells get a leading apostrophe
(`neutralise`). Two kinds of text that start with `+` or `-` are data, not formulas, and are left
as they are: a plain number ("-12", "+3.5") and a phone number in international form ("+" then 7
to 15 digits, grouped by single spaces, hyphens, dots or parentheses: "+1 415 555 0100",
"+44 (0)20 7946 0958"). Neither can hold a letter, a quote or any operator but the leading sign,
so neither can call a function or name a cell. Anything else that starts with one of those
characters, "-2+3" included, gets the apostrophe. Numbers stay numbers. The JSON export carries
the same rows, unaltered.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from typing import Any

from milo_voice.scoring.store import ScoringStore

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d+)?|\.\d+)", re.ASCII)
PHONE = re.compile(r"\+\d+(?:[ .-]?\(\d+\)\d*|[ .-]\d+)*", re.ASCII)
"""Each group starts with a separator or "(", never a digit, so matching takes linear time."""
PHONE_DIGITS = (7, 15)
"""Shortest and longest international phone number, in digits (E.164 allows at most 15)."""
COLUMNS = (
    "candidate_id",
    "name",
    "email",
    "phone",
    "location",
    "external_id",
    "status",
    "session_id",
    "started_at",
    "duration_s",
    "overall",
    "band",
    "knocked_out",
    "knockout_reason",
    "needs_review",
    "scorer",
    "report_url",
)


def is_data(text: str) -> bool:
    """A plain number or an international phone number: text a spreadsheet cannot run."""
    if PLAIN_NUMBER.fullmatch(text):
        return True
    digits = sum(c.isdigit() for c in text)
    return PHONE.fullmatch(text) is not None and PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, made inert with a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not is_data(value):
        return "'" + value
    return value


def rows(store: ScoringStore, interview_id: int, report_url: Callable[[int], str]) -> list[dict[str, Any]]:
    out = []
    for candidate in store.candidates(interview_id):
        session = store.counted_session(candidate)
        card = store.latest_card(session.id or 0) if session is not None else None
        out.append(
            {
                "candidate_id": candidate.id,
                "name": candidate.name,
                "email": candidate.email,
                "phone": candidate.phone,
                "location": candidate.location,
                "external_id": candidate.external_id or "",
                "status": candidate.status,
                "session_id": session.id if session else None,
                "started_at": session.started_at.isoformat() if session else None,
                "duration_s": session.duration_s if session else None,
                "overall": card.overall if card else None,
                "band": card.band if card else "",
                "knocked_out": card.knockout is not None if card else False,
                "knockout_reason": card.knockout.reason if card and card.knockout else "",
                "needs_review": card.needs_review if card else False,
                "scorer": card.scorer if card else "",
                "report_url": report_url(session.id or 0) if session and card else "",
            }
        )
    return out


def to_csv(records: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: neutralise("" if record.get(k) is None else record.get(k)) for k in COLUMNS})
    return buffer.getvalue()


def to_json(records: list[dict[str, Any]]) -> str:
    return json.dumps({"candidates": records}, indent=2, ensure_ascii=False)
