"""Cutting an answer into pieces a quote can be (issue 19): sentences on real boundaries, and long
runs without punctuation (a live transcript of a rambling answer) into clauses of at most
`MAX_QUOTE_WORDS` words. Every piece is a verbatim substring of the text it came from.

A sentence ends at `.`, `!` or `?` (with any closing quote or bracket after it) followed by white
space, never inside a number ("0.6", "1,38%"), after an abbreviation ("e.g.", "Dr.", "approx.") or
after a single initial ("J. Smith")."""

from __future__ import annotations

import itertools
import re

MAX_QUOTE_WORDS = 30
"""A quote longer than this is cut at a clause boundary (or, without one, into even windows)."""
ABBREVIATIONS = frozenset(
    {
        "e.g",
        "i.e",
        "etc",
        "vs",
        "approx",
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "no",
        "fig",
        "cf",
        "al",
        "inc",
        "ltd",
        "co",
        "jr",
        "sr",
        "dept",
        "est",
        "min",
        "max",
        "avg",
        "resp",
        "incl",
        "excl",
        "ca",
    }
)
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)")
_WORD = re.compile(r"\S+")
_CLAUSE = re.compile(
    r"(?<=[,;:])\s+|\s+(?=(?:and|but|so|because|then|which|while|although)\b)", re.IGNORECASE
)


def _abbreviation(text: str, end: int) -> bool:
    """True when the dot ending at `end` belongs to an abbreviation or an initial."""
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:end].rstrip(".!?\"'”’)]").lower().lstrip("(\"'“‘[")
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, stripped, in order; each a verbatim substring of `text`."""
    out, start = [], 0
    for match in _END.finditer(text):
        if (
            match.group().startswith(".")
            and len(match.group().rstrip("\"'”’)]")) == 1
            and _abbreviation(text, match.start() + 1)
        ):
            continue
        piece = text[start : match.end()].strip()
        if piece:
            out.append(piece)
        start = match.end()
    rest = text[start:].strip()
    return [*out, rest] if rest else out


def _windows(text: str, limit: int) -> list[str]:
    words = list(_WORD.finditer(text))
    count = -(-len(words) // limit)
    size = -(-len(words) // count)
    return [
        text[words[i].start() : words[min(i + size, len(words)) - 1].end()]
        for i in range(0, len(words), size)
    ]


def clauses(sentence: str, limit: int = MAX_QUOTE_WORDS) -> list[str]:
    """`sentence` itself when it has at most `limit` words; else pieces of at most `limit` words cut at
    clause boundaries (after , ; : or before and, but, so, because ...), evened out where none fits."""
    if len(_WORD.findall(sentence)) <= limit:
        return [sentence]
    pieces, current = [], ""
    cuts = [0, *(m.start() for m in _CLAUSE.finditer(sentence)), len(sentence)]
    for a, b in itertools.pairwise(cuts):
        part = sentence[a:b]
        joined = current + part
        if current and len(_WORD.findall(joined)) > limit:
            pieces.append(current.strip())
            current = part
        else:
            current = joined
    if current.strip():
        pieces.append(current.strip())
    out: list[str] = []
    for piece in pieces:
        out += _windows(piece, limit) if len(_WORD.findall(piece)) > limit else [piece]
    return [p for p in out if p]


def quote_pieces(text: str, limit: int = MAX_QUOTE_WORDS) -> list[str]:
    """Sentences of `text`, long ones cut into clauses: what the offline scorer may quote."""
    return [piece for sentence in split_sentences(text) for piece in clauses(sentence, limit)]
