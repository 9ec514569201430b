"""Cutting an answer into pieces a quote can be (issue 19): sentences on real boundaries, and long
runs without punctuation (a live transcript of a rambling answer) into clauses of at most
`MAX_QUOTE_WORDS` words. Every piece is a verbatim substring of the text it came from.

A sentence ends at `.`, `!` or `?` (with any closing quote or bracket after it) followed by white
space, never inside a number ("0.6", "1,38%"), after an abbreviation ("e.g.", "Dr.", "approx.") or
after a single initial ("J. Smith").

Given the turn's word timings, a piece over `MAX_QUOTE_WORDS` words is first cut at the longest
silences between the words (at least `MIN_PAUSE_S`), where the speaker paused; the text-only cuts
apply where no pause is left. `shortest_span` narrows a piece to the few words that carry evidence."""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable, Collection, Sequence

from milo_voice.scoring.transcript import TimedWord

MAX_QUOTE_WORDS = 30
"""A quote longer than this is cut at a pause, else a clause boundary (else into even windows)."""
MIN_PAUSE_S = 0.25
"""A silence between two words shorter than this is not a pause (250 ms is the usual threshold for a
silent pause in speech research; fluent speech leaves gaps well under it between words)."""
ALIGN_MIN_SHARE = 0.8
"""The word timings are used only when at least this share of the text's words is found in them, in
order; below it the stored words and text disagree too much and the cut is by text alone."""
MIN_SPAN_WORDS = 6
"""`shortest_span` widens a span shorter than this to `SPAN_WORDS` words, so it reads as a phrase."""
SPAN_WORDS = 8
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


def _stripped(text: str, start: int, end: int) -> tuple[int, int] | None:
    """`start`..`end` without the white space at either edge; None when nothing else is left."""
    piece = text[start:end]
    if not piece.strip():
        return None
    return start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character offsets of the sentences of `text` (see `split_sentences`)."""
    out, start = [], 0
    for match in _END.finditer(text):
        if (
            match.group().startswith(".")
            and len(match.group().rstrip("\"'”’)]")) == 1
            and _abbreviation(text, match.start() + 1)
        ):
            continue
        span = _stripped(text, start, match.end())
        if span is not None:
            out.append(span)
        start = match.end()
    rest = _stripped(text, start, len(text))
    return [*out, rest] if rest is not None else out


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, stripped, in order; each a verbatim substring of `text`."""
    return [text[a:b] for a, b in _sentence_spans(text)]


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


def _norm(token: str) -> str:
    return "".join(c for c in token.lower() if c.isalnum())


def _heard(tokens: list[str], said: list[str]) -> list[tuple[int, int] | None]:
    """For each of `tokens`, the first and last index into `said` it was heard as (None: not found).
    Both lists are normalised and non-empty; runs that differ only in how the words are split
    ("1,38%" heard as "1" "38") are matched by their letters."""
    matcher = difflib.SequenceMatcher(None, tokens, said, autojunk=False)
    heard: list[tuple[int, int] | None] = [None] * len(tokens)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                heard[i1 + k] = (j1 + k, j1 + k)
        elif tag == "replace" and "".join(tokens[i1:i2]) == "".join(said[j1:j2]):
            owner = [j for j in range(j1, j2) for _ in said[j]]
            at = 0
            for i in range(i1, i2):
                heard[i] = (owner[at], owner[at + len(tokens[i]) - 1])
                at += len(tokens[i])
    return heard


def pauses(text: str, words: Sequence[TimedWord]) -> dict[int, float] | None:
    """Silences of at least `MIN_PAUSE_S` seconds, keyed by the offset in `text` of the word that
    follows each; None when `words` cannot be aligned to `text` (see `ALIGN_MIN_SHARE`)."""
    timed = [w for w in words if _norm(w.text)]
    found = [(m.start(), _norm(m.group())) for m in _WORD.finditer(text)]
    found = [(at, norm) for at, norm in found if norm]
    if not timed or not found:
        return None
    heard = _heard([norm for _, norm in found], [_norm(w.text) for w in timed])
    if sum(h is not None for h in heard) < ALIGN_MIN_SHARE * len(found):
        return None
    out: dict[int, float] = {}
    for (at, _), (before, after) in zip(found[1:], itertools.pairwise(heard), strict=True):
        if before is None or after is None or after[0] <= before[1]:
            continue
        gap = max(timed[j + 1].start - timed[j].end for j in range(before[1], after[0]))
        if gap >= MIN_PAUSE_S:
            out[at] = gap
    return out


def _at_pauses(text: str, start: int, end: int, silences: dict[int, float], limit: int) -> list[str]:
    """`text[start:end]` cut at its longest pauses until every piece has at most `limit` words; a piece
    with no pause left is cut by `clauses`."""
    tokens = list(_WORD.finditer(text, start, end))
    if len(tokens) <= limit:
        return [text[start:end]]
    inside = [i for i in range(1, len(tokens)) if tokens[i].start() in silences]
    if not inside:
        return clauses(text[start:end], limit)
    middle = len(tokens) / 2  # the longest pause; of equal ones, the nearest the middle, then the first
    cut = max(inside, key=lambda i: (silences[tokens[i].start()], -abs(i - middle), -i))
    return [
        *_at_pauses(text, start, tokens[cut - 1].end(), silences, limit),
        *_at_pauses(text, tokens[cut].start(), end, silences, limit),
    ]


def quote_pieces(text: str, words: Sequence[TimedWord] = (), limit: int = MAX_QUOTE_WORDS) -> list[str]:
    """Sentences of `text`, long ones cut at the pauses `words` (the turn's word timings) show, then
    into clauses: what the offline scorer may quote. Each piece is a verbatim substring of `text`."""
    silences = pauses(text, words) if words else None
    if silences is None:
        return [piece for sentence in split_sentences(text) for piece in clauses(sentence, limit)]
    return [piece for a, b in _sentence_spans(text) for piece in _at_pauses(text, a, b, silences, limit)]


def _bare(token: str) -> str:
    """A token lower-cased, without the punctuation around it ("Customer," -> "customer")."""
    word = token.lower()
    while word and not word[0].isalnum():
        word = word[1:]
    while word and not word[-1].isalnum():
        word = word[:-1]
    return word


def shortest_span(piece: str, wanted: Collection[str], match: Callable[[str], str] = lambda w: w) -> str:
    """The shortest run of whole words of `piece` holding every word of `wanted` that `piece` holds
    (the earliest such run), widened evenly on both sides to `SPAN_WORDS` words when shorter than
    `MIN_SPAN_WORDS`; `piece` itself when it holds none. A word is compared as `match` of it
    lower-cased without the punctuation around it (pass a stemmer to compare stems). Verbatim."""
    tokens = list(_WORD.finditer(piece))
    keys = [match(_bare(t.group())) for t in tokens]
    present = {k for k in keys if k in wanted}
    if not present:
        return piece
    best, counts, first = (0, len(tokens) - 1), dict.fromkeys(present, 0), 0
    for last, key in enumerate(keys):
        if key in counts:
            counts[key] += 1
        while all(counts.values()):
            if last - first < best[1] - best[0]:
                best = (first, last)
            if keys[first] in counts:
                counts[keys[first]] -= 1
            first += 1
    a, b = best
    if b - a + 1 < MIN_SPAN_WORDS:
        left = True
        while b - a + 1 < SPAN_WORDS and (a > 0 or b < len(tokens) - 1):
            if (left and a > 0) or b == len(tokens) - 1:
                a -= 1
            else:
                b += 1
            left = not left
    return piece[tokens[a].start() : tokens[b].end()]
