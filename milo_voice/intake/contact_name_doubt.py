"""A name the reader should check: printed twice in a row ("Ann Lee Ann Lee"), or on a line that lost
characters to a PDF's odd font mapping."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from milo_voice.intake.contact_layout import Line
from milo_voice.intake.extraction_types import FieldGuess

__all__ = ["DOUBTED_NAME", "doubted"]


DOUBTED_NAME = 0.6


def doubted(guess: FieldGuess, page: Sequence[Line]) -> FieldGuess:
    """A name that repeats itself ("Ann Lee Ann Lee") is given once; it, and a name whose line lost
    characters (a symbol code point glued to its letters, as a PDF's odd font mapping leaves them),
    is flagged for the reviewer."""
    words = guess.value.split()
    half = len(words) // 2
    lowered = [w.lower() for w in words]
    if half and len(words) % 2 == 0 and lowered[:half] == lowered[half:]:
        why = "the name is printed twice in a row; check it"
        return FieldGuess(" ".join(words[:half]), DOUBTED_NAME, why)
    if guess.value and any(_lost_characters(line.text) for line in page if words[-1] in line.text):
        why = "characters that are not letters were dropped from the name's line; check the name"
        return FieldGuess(guess.value, min(guess.confidence, DOUBTED_NAME), why)
    return guess


def _lost_characters(text: str) -> bool:
    """A symbol (an icon, a private-use or unassigned code point) between two letters, or glued before a
    letter of a script without capitals: not how icons are printed, so the font mapping lost a letter."""
    for i, ch in enumerate(text):
        if unicodedata.category(ch) not in _SYMBOLS:
            continue
        after = text[i + 1:i + 2]
        before = text[i - 1:i] if i else ""
        if after.isalpha() and (before.isalpha() or not (after.isupper() or after.islower())):
            return True
    return False


_SYMBOLS = ("So", "Co", "Cn")
