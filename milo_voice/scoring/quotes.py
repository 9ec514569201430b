"""Quote verification: an evidence quote counts only if it is a verbatim span of a candidate's turn.

Matching ignores case, punctuation and apostrophes ("Don't," matches "dont"), nothing else: a
paraphrase is not a quote. A verified quote carries the transcript's own characters and its
time offsets, read from the turn's word timestamps (or estimated within the turn, and marked so,
when the stored words and text disagree). Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from milo_voice.scoring.transcript import Transcript, Utterance

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


class Quote(BaseModel):
    """A verified quote: the transcript's exact characters, where they are in the recording."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    turn_index: int
    start_s: float
    """Seconds from the start of the recording to the first quoted word."""
    end_s: float
    estimated_timing: bool = False
    """True when the turn's word timestamps did not line up and the offsets were interpolated."""


@dataclass(frozen=True, slots=True)
class _Token:
    norm: str
    start: int
    """Character offset in the source text."""
    end: int


def _norm(token: str) -> str:
    return token.lower().replace("'", "").replace("’", "")


def _tokens(text: str) -> list[_Token]:
    return [_Token(_norm(m.group()), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def normalise(text: str) -> str:
    """The form quotes are compared in: lower-case words without punctuation, single-spaced."""
    return " ".join(t.norm for t in _tokens(text))


def _find(needle: list[str], haystack: list[str]) -> int:
    """Index where `needle` starts as a contiguous run in `haystack`, or -1."""
    n = len(needle)
    for i in range(len(haystack) - n + 1):
        if haystack[i : i + n] == needle:
            return i
    return -1


def locate(quote: str, utterance: Utterance) -> Quote | None:
    """`quote` as a verified `Quote` inside `utterance`, or None if it is not a verbatim span."""
    wanted = [t.norm for t in _tokens(quote)]
    if not wanted:
        return None
    text_tokens = _tokens(utterance.text)
    at = _find(wanted, [t.norm for t in text_tokens])
    if at < 0:
        return None
    first, last = text_tokens[at], text_tokens[at + len(wanted) - 1]
    span = _with_punctuation(utterance.text, first.start, last.end)
    timed = _word_times(wanted, utterance)
    if timed is not None:
        return Quote(text=span, turn_index=utterance.index, start_s=timed[0], end_s=timed[1])
    length = utterance.end_s - utterance.start_s
    count = max(len(text_tokens), 1)
    start = utterance.start_s + length * at / count
    end = utterance.start_s + length * (at + len(wanted)) / count
    return Quote(
        text=span,
        turn_index=utterance.index,
        start_s=round(start, 2),
        end_s=round(end, 2),
        estimated_timing=True,
    )


_CLOSING = re.compile(r"[%)\]\"'”’]+")
_PAIRS = {"(": ")", "[": "]", '"': '"', "“": "”", "‘": "’"}


def _with_punctuation(text: str, start: int, end: int) -> str:
    """The span from `start` to `end`, with the closing marks right after it ("1,38%", "(SQL)", "the
    'menu'") and an opening bracket or quote right before it when its partner is inside the span."""
    closing = _CLOSING.match(text, end)
    if closing is not None:
        end = closing.end()
    if start > 0 and text[start - 1] in _PAIRS and _PAIRS[text[start - 1]] in text[start:end]:
        start -= 1
    span = text[start:end]
    for opening, partner in (("(", ")"), ("[", "]")):  # a closing bracket we took needs its opening one
        while span.endswith(partner) and span.count(partner) > span.count(opening):
            span = span[:-1]
    return span


def _word_times(wanted: list[str], utterance: Utterance) -> tuple[float, float] | None:
    """Start of the first and end of the last quoted word, from the turn's word timestamps."""
    flat: list[tuple[str, float, float]] = []
    for word in utterance.words:
        flat += [(t.norm, word.start, word.end) for t in _tokens(word.text)]
    at = _find(wanted, [norm for norm, _, _ in flat])
    if at < 0:
        return None
    return flat[at][1], flat[at + len(wanted) - 1][2]


def verify(quote: str, transcript: Transcript, prefer: list[Utterance] | None = None) -> Quote | None:
    """Find `quote` in the candidate's turns, trying `prefer` (the answers to this question) first."""
    candidates = list(prefer or [])
    candidates += [u for u in transcript.utterances if u.speaker == "candidate" and u not in candidates]
    for utterance in candidates:
        found = locate(quote, utterance)
        if found is not None:
            return found
    return None
