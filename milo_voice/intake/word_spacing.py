"""Spaces that pypdf loses between words, put back from a second reading with pdfminer.six.

Some PDFs draw a word gap as a move of the pen, not as a space character: TeX fonts without a space
glyph, some design tools. pypdf decides whether a move is a space by comparing it with the width it
finds for the font's space, and where the font has none it takes whatever glyph sits in that slot (a
known pypdf limitation), so "LORENZO BREDA" comes out "LORENZOBREDA" and "Full-Stack Developer,
software designer" as "Full-StackDeveloper,softwaredesigner". pdfminer.six places every character
by its coordinates and reads a gap as a space, so it gets these right; but its reading order and line
breaks differ from pypdf's plain order, which the contact rules were measured on (see document_text).
So pypdf's text is kept, and only a word of it that pdfminer prints as several words of one line
is split where pdfminer has its spaces. Why a library and not a home-made fix: pdfminer.six is
maintained, pure Python (no system package), and one of the engines the issue named for PDF text.

Seen on 6 of 105 public resumes (the developers' set and three held-out sets). pdfminer costs 0.1-0.3 s
a file on this machine (it parses the whole file), so it reads page 1 (the contact block) only when
pypdf's text of it looks suspect (`suspect`: a run of 20 Latin letters, or two consecutive lines of at
most four characters) and a later page only when it looks glued (`GLUED_SHARE`). A page that pypdf
reads a word per line (`word_per_line`) is taken from pdfminer whole: its lines are the only ones.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
from collections.abc import Sequence

log = logging.getLogger(__name__)


def _quiet_pdfminer() -> None:
    """pdfminer logs every odd font ("Could not get FontBBox...") at WARNING; raise its threshold to
    ERROR, unless the operator set a level for ``pdfminer`` already, as for pypdf (document_text)."""
    logger = logging.getLogger("pdfminer")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.ERROR)


_quiet_pdfminer()

GLUED_SHARE = 0.03
"""A later page is read again when at least this share of its words run to 16 letters or more."""
_LETTERS = re.compile(r"[^\W\d_]+")


def glued(text: str) -> bool:
    """Whether a page's text looks like words that lost their spaces (many runs of 16+ letters)."""
    words = _LETTERS.findall(text)
    return bool(words) and sum(len(w) >= 16 for w in words) >= GLUED_SHARE * len(words)


_LONG_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]{20,}")
"""20 Latin letters without a break: words that lost their spaces ("DecodificadeimisteridellaPA"); few
real words are that long ("internationalisation", German compounds), and those cost only a second
reading that changes nothing."""
_PIECE_LINE = re.compile(r"^\S{1,4}$")
_CAPITAL_EMAIL = re.compile(r"(?<!\S)[A-ZÀ-Þ][a-zß-ÿ]{2,}[\w.+-]*@")
"""An address that starts with a capitalised word ("Negroliaimasoft@"): people type addresses in lower
case, so the capital may be the end of the text box before it ("Río Negro"), glued on by pypdf."""


def suspect(text: str) -> bool:
    """Whether page 1's text may hold glued words or a word cut over lines: read it again only then
    (pdfminer costs 0.1-0.3 s a file; most files need nothing)."""
    if glued(text) or _LONG_LATIN.search(text) or _CAPITAL_EMAIL.search(text):
        return True
    lines = [line.strip() for line in text.split("\n")[:30]]
    return any(_PIECE_LINE.match(a) and _PIECE_LINE.match(b) for a, b in itertools.pairwise(lines))


WORD_LINES_MIN = 15
WORD_LINES_SHARE = 0.8
"""A page of at least WORD_LINES_MIN lines, this share of them one word each, was read a word per line."""


def word_per_line(text: str) -> bool:
    """Whether pypdf put each word of the page on a line of its own ("Tyler" / "A." / "Buchholz" / "451"
    / "Budd" / "Rd."): a PDF that places every word by itself, whose lines pypdf cannot see."""
    lines = [line.split() for line in text.split("\n") if line.strip()]
    single = sum(len(words) == 1 for words in lines)
    return len(lines) >= WORD_LINES_MIN and single >= WORD_LINES_SHARE * len(lines)


OPENING_LINES = 3


def keeps_opening(text: str, other: str) -> bool:
    """Whether `other` (pdfminer's page) has the first line of `text` (pypdf's; a header's first item,
    often the name) in its first OPENING_LINES lines: pdfminer's order is kept only then ("김병준", which
    pypdf reads first, comes after the contact lines in pdfminer's order)."""
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    opening = [line for line in other.split("\n") if line.strip()][:OPENING_LINES]
    return bool(first) and any(first in line for line in opening)


def pages_to_check(texts: Sequence[str]) -> list[int]:
    """Page 1 when it looks suspect (the contact block is there), later pages when they look glued or
    read a word per line."""
    return [i for i, text in enumerate(texts)
            if glued(text) or word_per_line(text) or (i == 0 and suspect(text))]


def respace(data: bytes, texts: list[str]) -> list[str]:
    """`texts` (pypdf's, one per page) with glued words split where pdfminer reads spaces. Any failure
    of the second reading leaves pypdf's text as it is."""
    pages = pages_to_check(texts)
    if not pages:
        return texts
    try:
        from pdfminer.high_level import extract_text

        second = extract_text(io.BytesIO(data), page_numbers=pages).split("\f")
    except Exception as exc:  # a file pypdf could read but pdfminer cannot: keep pypdf's reading
        log.debug("pdfminer could not read the file again: %r", exc)
        return texts
    out = list(texts)
    for page, other in zip(pages, second, strict=False):
        if word_per_line(texts[page]) and not word_per_line(other) and keeps_opening(texts[page], other):
            out[page] = other  # pdfminer groups the words into lines by their coordinates
        else:
            out[page] = respace_page(rejoin_lines(texts[page], other), other)
    return out


PIECE_CHARS = 12
"""A line of pypdf's text this short and without spaces may be a piece of a word cut at a glyph."""


def rejoin_lines(text: str, other: str) -> str:
    """A word pypdf cut over several lines where a glyph came from another font ("ÇA" / "Ğ" / "ATAY", a
    Google Docs export): 2-4 consecutive short lines whose letters make one word of `other` (4+
    characters) are joined into it."""
    words = {w for w in other.split() if len(w) >= 4}
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        joined = 1
        for size in (4, 3, 2):
            group = [line.strip() for line in lines[i:i + size]]
            if len(group) == size and all(g and " " not in g and len(g) <= PIECE_CHARS for g in group) \
                    and "".join(group) in words:
                joined = size
                break
        out.append("".join(line.strip() for line in lines[i:i + joined]) if joined > 1 else lines[i])
        i += joined
    return "\n".join(out)


def respace_page(text: str, other: str) -> str:
    """Each whitespace-free word of `text` (6+ characters) that `other` never prints as one word but
    prints, without its spaces, inside one of its lines: split where `other` has spaces there."""
    single: set[str] = set()
    ends: set[str] = set()  # every ending (2+ characters) of the last word of each line of `other`
    lines: list[tuple[str, frozenset[int]]] = []  # each line of `other` without spaces, and where words began
    for line in other.splitlines():
        words = line.split()
        single.update(words)
        if words:
            ends.update(words[-1][i:] for i in range(len(words[-1]) - 1))
        if len(words) >= 2:
            starts, at = set(), 0
            for word in words:
                starts.add(at)
                at += len(word)
            lines.append(("".join(words), frozenset(starts)))
    if not single:
        return text
    return re.sub(r"\S{6,}", lambda m: _split(m.group(), lines, single, ends), text)


TAIL_CHARS = 6
"""The shortest word of `other` that a glued word may end with (`_glued_boxes`)."""


def _glued_boxes(word: str, single: set[str], ends: set[str]) -> str | None:
    """ "Negroliaimasoft@gmail.com" -> "Negro liaimasoft@gmail.com": the end of one line of `other` glued
    to a word `other` prints on a line of its own (pypdf ran two text boxes together). `ends`: every
    ending of 2+ characters of the lines' last words."""
    for cut in range(2, len(word) - TAIL_CHARS + 1):
        head, tail = word[:cut], word[cut:]
        if tail in single and head in ends:
            return f"{head} {tail}"
    return None


def _split(word: str, lines: Sequence[tuple[str, frozenset[int]]], single: set[str], ends: set[str]) -> str:
    if word in single:
        return word
    boxes = _glued_boxes(word, single, ends)
    if boxes:
        return boxes
    for joined, starts in lines:
        at = joined.find(word)
        if at >= 0:
            cuts = sorted(s - at for s in starts if at < s < at + len(word))
            if not cuts:
                return word
            edges = [0, *cuts, len(word)]
            return " ".join(word[a:b] for a, b in itertools.pairwise(edges))
    return word
