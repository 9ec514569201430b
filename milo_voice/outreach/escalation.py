"""When a candidate needs a person: a pure classifier of what they said or texted. No I/O.

Three kinds of line flag a candidate (automation then pauses for them until a recruiter resumes it):
- **asked for a person**: "can I talk to a real person", "I'd like to speak with a recruiter",
  "is this a robot?";
- **accommodation**: a disability, hearing or sight, an interpreter, more time, a different format;
- **confusion**, when it comes back: "I don't understand", "what do you mean", "can you repeat
  that" on two or more of the candidate's lines of one interview (once is ordinary).
A free-text SMS reply always flags (kind `reply` when none of the above): nobody reads an
automated inbox, so a person must.

The rules are phrase patterns on normalised text (lower case, curly apostrophes straightened,
punctuation spaced out), written to miss ordinary answers: "I worked as a customer service
person" or "I understand the role" flag nothing. `tests/outreach/test_escalation.py` lists the
cases on both sides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class FlagKind(StrEnum):
    ASKED_FOR_PERSON = "asked_for_person"
    ACCOMMODATION = "accommodation"
    CONFUSION = "confusion"
    REPLY = "reply"


LABELS = {
    FlagKind.ASKED_FOR_PERSON: "asked for a person",
    FlagKind.ACCOMMODATION: "asked for an accommodation",
    FlagKind.CONFUSION: "was confused more than once",
    FlagKind.REPLY: "replied by text",
}

_PERSON = re.compile(
    r"\b(?:speak|talk|chat)\s+(?:to|with)\s+(?:a|an|the|some)?\s*(?:real\s+|actual\s+|live\s+)?"
    r"(?:person|human|human being|someone|somebody|recruiter|hiring manager|manager|representative|agent)\b"
    r"|\b(?:is\s+this|are\s+you|am\s+i\s+talking\s+to)\s+(?:a\s+|an\s+)?"
    r"(?:robot|bot|machine|computer|ai|real\s+person|human|recording)\b"
    r"|\b(?:want|need|like|prefer)\s+(?:a|an|to\s+have\s+a)?\s*(?:real\s+|actual\s+)?"
    r"(?:person|human|recruiter)\s+(?:to\s+)?(?:call|interview|contact|speak|talk)"
    r"|\b(?:can|could)\s+(?:a|someone|somebody)\s*(?:real\s+)?(?:person\s+)?(?:call|contact)\s+me\b"
)
_ACCOMMODATION = re.compile(
    r"\baccommodations?\b|\bdisabilit(?:y|ies)\b|\bdisabled\b|\bdeaf\b|\bhard\s+of\s+hearing\b"
    r"|\bhearing\s+(?:impair\w*|aid|loss)\b|\bblind\b|\bvisually\s+impaired\b|\bscreen\s+reader\b"
    r"|\bsign\s+language\b|\binterpreter\b|\bwheelchair\b|\bdyslexi\w*\b|\bstutter\w*\b"
    r"|\b(?:need|needs|require|requires|request|requesting)\s+(?:some\s+)?(?:more|extra|additional)\s+time\b"
    r"|\b(?:in\s+writing|written\s+version|text\s+version)\s+instead\b"
)
_CONFUSION = re.compile(
    r"\b(?:i\s+)?(?:do\s+not|don't|dont)\s+(?:really\s+)?(?:understand|get)\s+(?:the\s+|this\s+|that\s+|your\s+)?"
    r"(?:question|it|what|you|that|this)\b"
    r"|\bi\s+(?:do\s+not|don't|dont)\s+understand\b"
    r"|\bwhat\s+do\s+you\s+mean\b|\bi(?:'m|\s+am)\s+(?:so\s+|really\s+|a\s+bit\s+)?confused\b"
    r"|\b(?:can|could)\s+you\s+(?:please\s+)?(?:repeat|rephrase|say\s+(?:that|it)\s+again)\b"
    r"|\bsorry\s*,?\s*what\s*\?"
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def normalise(text: str) -> str:
    lowered = text.translate(_APOSTROPHES).lower()
    return " ".join(re.sub(r"[^\w'?]+", " ", lowered).split())


def classify(text: str) -> FlagKind | None:
    """What this one line asks for, or None (confusion here is one line: see `from_transcript`)."""
    said = normalise(text)
    if _ACCOMMODATION.search(said):
        return FlagKind.ACCOMMODATION
    if _PERSON.search(said):
        return FlagKind.ASKED_FOR_PERSON
    if _CONFUSION.search(said):
        return FlagKind.CONFUSION
    return None


@dataclass(frozen=True, slots=True)
class Flag:
    kind: FlagKind
    quote: str
    """The candidate's words (trimmed)."""
    reason: str


QUOTE_CHARS = 200


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rstrip() + "…"


def from_transcript(candidate_lines: Sequence[str]) -> Flag | None:
    """The flag an interview's candidate lines raise, if any: a request for a person or an
    accommodation on any line, confusion on two or more."""
    confused: list[str] = []
    for line in candidate_lines:
        kind = classify(line)
        if kind in (FlagKind.ASKED_FOR_PERSON, FlagKind.ACCOMMODATION):
            assert kind is not None
            said = _quote(line)
            return Flag(kind, said, f"In the interview the candidate {LABELS[kind]}: \"{said}\"")
        if kind is FlagKind.CONFUSION:
            confused.append(line)
    if len(confused) >= 2:
        return Flag(FlagKind.CONFUSION, _quote(confused[-1]),
                    f"In the interview the candidate was confused {len(confused)} times, "
                    f"last: \"{_quote(confused[-1])}\"")
    return None


def from_reply(text: str) -> Flag:
    """A free-text SMS reply always needs a person."""
    kind = classify(text) or FlagKind.REPLY
    if kind is FlagKind.CONFUSION:
        kind = FlagKind.REPLY  # a confused text is a reply to answer like any other
    return Flag(kind, _quote(text), f"The candidate {LABELS[kind]}: \"{_quote(text)}\"")
