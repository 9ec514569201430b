"""What resume extraction returns: a guess per contact field, and the document's text and problem."""

from __future__ import annotations

from dataclasses import dataclass

CONFIDENT = 0.8
"""At or above this a field needs no reason; below it, `FieldGuess.reason` says what is doubtful."""


@dataclass(frozen=True)
class FieldGuess:
    value: str
    confidence: float
    reason: str

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence out of range: {self.confidence}")
        if self.confidence < CONFIDENT and not self.reason:
            raise ValueError("a low-confidence guess needs a reason")

    @classmethod
    def missing(cls, reason: str) -> FieldGuess:
        return cls("", 0.0, reason)


@dataclass(frozen=True)
class Contacts:
    name: FieldGuess
    email: FieldGuess
    phone: FieldGuess
    location: FieldGuess
    emails: tuple[str, ...]
    """Every email of the candidate's, the chosen one first."""
    phones: tuple[str, ...]
    """Every phone of the candidate's (E.164 where it could be read so), the chosen one first."""


@dataclass(frozen=True)
class Extraction:
    contacts: Contacts | None
    text: str
    pages: int
    problem: str
    """"" when all went well; else a sentence for the recruiter (no text layer, unreadable file)."""
