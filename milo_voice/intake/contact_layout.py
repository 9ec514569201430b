"""The resume text as lines: pages, section headings, the contact block, segments of a line.

The contact block is where a resume prints name, email, phone and address: the lines at the top of
the first page before its first section heading, and a few lines around each email or phone found on
the first pages (a sidebar's "Contact" box may sit lower on page 1). Section headings stop it, except
contact headings ("Contact", "Personal details", ...).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

from anyascii import anyascii

from milo_voice.intake.contact_lexicon import (
    CONTACT_HEADING_FOLDED,
    EXCLUDED_HEADING_FOLDED,
    EXCLUDED_HEADING_WORDS,
    HEADING_CORE,
    HEADING_CORE_FOLDED,
    HEADING_MODIFIERS_FOLDED,
    HONORIFICS,
    TITLE_HEADING_FOLDED,
    TITLE_HEADING_WORDS,
    fold_word,
)

TOP_LINES = 12
"""At most this many lines of page 1 before its first heading count as the top of the document."""
ANCHOR_REACH = 4
"""Lines above and below an email or phone that belong to the same contact block."""
PAGE_BREAK = "\f"

_DIGIT_DASH = re.compile(r"(?<=\d)[\u2010-\u2015\u2212\u30fc\uff0d](?=\d)")
"""Dash-like characters between digits ("080ー8888ー8888", "+1−512"), read as a hyphen."""
_WIDE_GAP = re.compile(r"\t+|\s{3,}")
"""Tabs and runs of 3+ spaces between items (right-aligned columns), kept as a separator."""
_INVISIBLE = re.compile("[\u200b\u2060\ufeff]")
"""Zero-width spaces and joiners-of-words that editors leave in text: they print nothing."""
_PILCROW_GLYPH = re.compile(r"[\w-]*¶[\w¶-]*")
"""A word with a pilcrow inside ("¶ap-¶arker-alt"): an icon font's glyph name whose letters the PDF
maps to odd characters; no word of prose has one. Read as an item separator, like other icons."""
_GLUED_ITEM = re.compile(
    r"\s+(?=(?:e-?mail|mobile|phone|tel(?:ephone)?|cell|address|adresse|anschrift)\s*:)"
    r"|(?<![:：])\s+(?=[^\s@|]+@[^\s@]+\.\w)",
    re.IGNORECASE)
_GLYPH_NAME = r"[A-Za-z][A-Za-z0-9_]*(?:-[a-z0-9][A-Za-z0-9_]*)*"
"""A glyph name ("map_marker", "map-marker-alt", "one"); not a slug of capitalised words after a slash
("/Lina-Cardozo-Rosas", a LinkedIn address wrapped before its last part)."""
_GLYPH_RUN = re.compile(rf"(?<![\w/:.])(?:/{_GLYPH_NAME}(?:\.[a-z]+)?)+(?![\w/-])")
_GLYPH = re.compile(rf"/({_GLYPH_NAME})(?:\.[a-z]+)?")
_GLYPH_DIGITS = {name: str(i) for i, name in enumerate(
    ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"))}
_GLYPH_SIGNS = {"plus": "+", "hyphen": "-", "period": ".", "parenleft": "(", "parenright": ")",
                "space": " ", "at": "@", "comma": ","}


def glyph_names(text: str) -> str:
    """Glyph names a PDF's icon or numeral font left in the text ("/map_marker Bremen", "/one.lnum")
    as what they print: digits and signs as such, icons as an item separator."""
    if "/" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return _GLYPH_DIGITS.get(name) or _GLYPH_SIGNS.get(name) or " | "

    return _GLYPH_RUN.sub(lambda run: _GLYPH.sub(one, run.group()), text)


def _normalise(raw: str) -> str:
    text = undoubled(_INVISIBLE.sub("", glyph_names(raw)))
    text = _PILCROW_GLYPH.sub(" | ", text) if "¶" in text else text
    if _TABBED_WORDS.match(text.strip()) and len({_shape(w) for w in text.split()}) == 1:
        text = " ".join(text.split())  # "ANDY\tDIAZ\tGOMEZ": words a designer spaced out with tabs
    if _LETTER_SPACED.match(text):
        text = " ".join(word.replace(" ", "") for word in re.split(r" {2,}", text.strip()))
    elif TRACKED_WORD.match(text) and heading_kind(text.replace(" ", "")):
        text = text.strip().replace(" ", "")  # "R E F E R A N S L A R": one heading word, tracked
    return " ".join(_unglued(token) for token in text.split(" ")) if _GLUED.search(text) else text


_TABBED_WORDS = re.compile(r"^[^\W\d_]+(?:\t+[^\W\d_]+){1,3}$")
"""2-4 words and nothing else, with tabs between them: one item, not columns."""
_LETTER_SPACED = re.compile(r"^ *\S(?: \S){2,}(?: {2,}\S(?: \S)*)+ *$")
"""A line set with letter spacing, one space after each letter and two after each word (a design tool's
tracking: "E n z o  T o l e d o"), is read as its words. A single space between all letters keeps the
line as it is (its word breaks cannot be told)."""
TRACKED_WORD = re.compile(r"^ *[^\W\d_](?: [^\W\d_]){3,} *:? *$")
"""One word set a letter at a time, single spaces only: read as the word when that word is a heading
(a name so printed is left to `letter_spaced`, which checks it against the email)."""
_UPPER, _LOWER = "A-ZÀ-ÖØ-ÞĀ-Ž", "a-zß-öø-ÿā-ž"
_GLUED = re.compile(f"(?<=[{_UPPER}]{{3}})(?=[{_UPPER}][{_LOWER}]{{3}})")
"""A word in capitals glued to a capitalised one ("ARGENTOÉtudiante"): two text runs the PDF wrote
without a space between them, a name and what follows it; read as two items."""


def _shape(word: str) -> str:
    return "upper" if word.isupper() else "title" if word.istitle() else "other"


def _unglued(token: str) -> str:
    return token if any(c in token for c in "@/.:") else _GLUED.sub(" | ", token)


_SPACING_ACCENTS = {"˜": "\u0303", "´": "\u0301", "¨": "\u0308", "ˆ": "\u0302", "ˇ": "\u030c", "˘": "\u0306",
                    "˚": "\u030a", "¸": "\u0327", "˝": "\u030b"}
_ACCENT_BEFORE = re.compile(f"([{''.join(_SPACING_ACCENTS)}])([^\\W\\d_])")


def spacing_accents(text: str) -> str:
    """ "A˜nora" -> "Añora": TeX draws an accent as its own glyph before the letter, and the text layer
    keeps the spacing accent (NFKC would turn it into a space and a mark on nothing)."""
    if not any(ch in _SPACING_ACCENTS for ch in text):
        return text
    def accented(match: re.Match[str]) -> str:  # TeX accents a dotless ı ("´ı" is í)
        letter = "i" if match.group(2) == "ı" else match.group(2)
        return letter + _SPACING_ACCENTS[match.group(1)]

    joined = _ACCENT_BEFORE.sub(accented, _SPACE_BEFORE_ACCENT.sub(r"\1", text))
    return unicodedata.normalize("NFC", joined)


_SPACE_BEFORE_ACCENT = re.compile(f"(?<=[^\\W\\d_]) ([{''.join(_SPACING_ACCENTS)}][a-zı][a-z]{{2,}})")
""" "Sep ´ulveda": a space TeX's text layer put between a word and the accent inside it, before a small
letter that goes on for 2+ letters: the word is joined ("Sepúlveda")."""


_DOUBLED = re.compile(r"^(\w{3,})\1$")


def undoubled(text: str) -> str:
    """ "MARIUSZMARIUSZ BRZÓSKABRZÓSKA" -> "MARIUSZ BRZÓSKA": a design tool's fake bold or shadow draws
    each word twice, and the text layer holds both. Only when every word of the line (3+ letters) is
    doubled: one doubled word among others is a real word ("Bonbon" has a 3-letter half only once)."""
    words = text.split()
    if not words or not all(_DOUBLED.match(w) and not w.isdigit() for w in words):
        return text
    return " ".join(_DOUBLED.sub(r"\1", w) for w in words)


_SEPARATORS = re.compile(r"\s*[|·•▪●◦⋅∙¦]\s*|\t+|\s{3,}|\s+[-–—]\s+")
_ICON_CATEGORIES = ("So", "Co", "Cs")
_OPEN = ("title", "contact")
"""Headings that belong to the contact block: the document's title and "Contact" boxes."""
_ICON = re.compile(r"^[^\w\s+(\"'“„«\-]+\s*")
_LONE_LETTER = re.compile(r"^[A-Za-z]\s+(?=\S)")


@dataclass(frozen=True)
class Line:
    index: int
    """Position in the whole document (all pages)."""
    page: int
    """0 for the first page."""
    text: str


STACKED_HEADINGS = 3
"""This many headings in a row are a design's headings written out together, apart from their sections
(two-column templates): the last of them ("WORK REFERENCES") does not say whose the lines after it are.
Such a referees section starts at the first line that names someone with an honorific ("Mr. Peter
Otieno"), and the candidate's own contact box may come before it."""
_HONORIFIC = re.compile(rf"^\W*(?:{'|'.join(sorted(HONORIFICS))})\b\.?\s", re.IGNORECASE)


RADICAL_FORMS = str.maketrans(
    "⺠⻁⻄⻅⻆⻈⻉⻊⻋⻓⻔⻘⻙⻚⻛⻜⻝⻢⻣⻤⻥⻦⻨⻩⻬⻮⻰",
    "民虎西见角讠贝足车长门青韦页风飞食马骨鬼鱼鸟麦黄齐齿龙",
)
"""CJK Radicals Supplement characters that a PDF's font wrote for an ideograph ("⻩超梵" for "黄超梵"), as
that ideograph: unlike the Kangxi radicals, they have no NFKC mapping (checked by their Unicode names:
"CJK RADICAL SIMPLIFIED YELLOW" is 黄)."""


@dataclass
class Layout:
    lines: list[Line]
    anchors: list[int] = field(default_factory=list)
    """Indexes of lines that hold an email or a phone (set by the field finders)."""

    @classmethod
    def of(cls, text: str) -> Layout:
        """The lines of `text`, NFKC-normalised first: compatibility forms print as their plain letter
        (Kangxi radicals that browsers' PDFs write for CJK ideographs, full-width Latin and digits,
        ligatures such as "ﬁ", no-break spaces), and the radicals NFKC leaves alone read as their
        ideograph (`RADICAL_FORMS`); the rules below only ever see the plain forms."""
        text = unicodedata.normalize("NFKC", spacing_accents(text)).translate(RADICAL_FORMS)
        lines: list[Line] = []
        for page, page_text in enumerate(text.split(PAGE_BREAK)):
            for raw in page_text.splitlines():
                clean = " ".join(_WIDE_GAP.sub(" | ", _DIGIT_DASH.sub("-", _normalise(raw))).split())
                if clean:
                    lines.append(Line(len(lines), page, clean))
        return cls(lines)

    @cached_property
    def headings(self) -> dict[int, str]:
        """Line index -> "title", "contact", "excluded" or "other", for the lines that are headings."""
        found = {}
        for line in self.lines:
            kind = heading_kind(line.text)
            if kind:
                found[line.index] = kind
        return found

    @cached_property
    def excluded(self) -> frozenset[int]:
        """Lines inside sections whose contact data belong to other people (publications, referees)."""
        out, inside, run, pending = set(), False, 0, False
        for line in self.lines:
            kind = self.headings.get(line.index)
            if kind:
                inside, run, pending = kind == "excluded", run + 1, False
                continue
            if inside and run >= STACKED_HEADINGS:
                inside, pending = False, True
            run = 0
            if pending and _HONORIFIC.match(line.text):
                inside, pending = True, False
            if inside:
                out.add(line.index)
        return frozenset(out)

    def first_page(self) -> int:
        return self.lines[0].page if self.lines else 0

    def next_on_page(self, line: Line) -> Line | None:
        """The line under `line`, if it is on the same page (what a wrapped value continues on)."""
        pos = line.index + 1
        return self.lines[pos] if pos < len(self.lines) and self.lines[pos].page == line.page else None

    def top(self) -> list[Line]:
        """The first page's lines before its first heading (at most TOP_LINES)."""
        page = self.first_page()
        out = []
        for line in self.lines:
            if line.page != page or len(out) >= TOP_LINES:
                break
            if self.headings.get(line.index, "contact") not in _OPEN:
                break
            out.append(line)
        return out

    def around(self, index: int, reach: int | None = None) -> list[Line]:
        """The lines near `index` on its page, not crossing a section heading other than a contact one."""
        reach = ANCHOR_REACH if reach is None else reach
        page = self.lines[index].page
        block = [self.lines[index]]
        for step in (-1, 1):
            pos = index + step
            while 0 <= pos < len(self.lines) and abs(pos - index) <= reach and self.lines[pos].page == page:
                kind = self.headings.get(pos)
                if kind and kind not in _OPEN:
                    break
                block.append(self.lines[pos])
                pos += step
        return sorted(block, key=lambda line: line.index)

    def contact_block(self) -> list[Line]:
        """The top of page 1 and the neighbourhood of each anchor on the first two pages."""
        chosen = {line.index: line for line in self.top()}
        first = self.first_page()
        for index in self.anchors:
            if self.lines[index].page <= first + 1 and index not in self.excluded:
                chosen.update((line.index, line) for line in self.around(index))
        return [chosen[i] for i in sorted(chosen)]


def words_of(text: str) -> list[str]:
    return re.findall(r"[^\W\d_][\w'’&.-]*|&", text.lower())


def _referee_after_heading(raw: list[str], words: list[str]) -> bool:
    """ "References Nelisiwe Zwane": a referees' heading with the first referee's name glued to it (a
    two-column layout prints them on one line) still opens the referees' section."""
    return (words[0] in EXCLUDED_HEADING_FOLDED and words[0] not in HEADING_MODIFIERS_FOLDED
            and 2 <= len(raw) - 1 <= 3 and all(w[:1].isupper() and w.isalpha() for w in raw[1:]))


def heading_kind(text: str) -> str:
    """"title", "contact", "excluded" or "other" when `text` is a heading, else ""."""
    stripped = strip_icon(text).rstrip(":： ").strip()
    if not stripped or len(stripped) > 48 or any(ch.isdigit() for ch in stripped) or "@" in stripped:
        return ""
    if _is_cjk_heading(stripped):
        compact = "".join(stripped.split())
        if compact in TITLE_HEADING_WORDS:
            return "title"
        return "excluded" if compact in EXCLUDED_HEADING_WORDS else "other"
    words = [fold_word(w.strip(".'’")) for w in words_of(stripped)]
    if not words or len(words) > 5:
        return ""
    if _referee_after_heading(stripped.split(), words):
        return "excluded"
    if not all(w in HEADING_CORE_FOLDED or w in HEADING_MODIFIERS_FOLDED for w in words):
        return ""
    if not any(w in HEADING_CORE_FOLDED for w in words):
        return ""
    if any(w in TITLE_HEADING_FOLDED for w in words) and all(
            w in TITLE_HEADING_FOLDED or w in HEADING_MODIFIERS_FOLDED for w in words):
        return "title"
    if any(w in EXCLUDED_HEADING_FOLDED for w in words):
        return "excluded"
    if any(w in CONTACT_HEADING_FOLDED for w in words):
        return "contact"
    return "other"


def _is_cjk_heading(text: str) -> bool:
    compact = "".join(text.split())
    return compact in HEADING_CORE


def strip_icon(text: str) -> str:
    """The line without a leading icon glyph (emoji, private-use symbol, bullet)."""
    return _ICON.sub("", text, count=1)


def strip_lone_letter(text: str) -> str:
    """Without a leading one-letter token: what icon fonts leave in the text layer ("T +39 ...")."""
    return _LONE_LETTER.sub("", text, count=1)


def icon_letter_block(lines: list[Line]) -> bool:
    """Whether several lines of a block start with a lone letter, the trace of an icon font."""
    return sum(1 for line in lines if _LONE_LETTER.match(line.text)) >= 2


def segments(text: str) -> list[str]:
    """The parts of a line between separators (|, ·, •, tabs, wide gaps, icons such as ✉ ☎ or glyphs
    of icon fonts), and before a contact label ("Email:") or an address glued to what precedes it
    ("Sourabh Bajaj Email: ...", a right-aligned item on the name's line)."""
    if any(ord(ch) > 0x2000 for ch in text):
        text = "".join(" | " if unicodedata.category(ch) in _ICON_CATEGORIES else ch for ch in text)
    text = _GLUED_ITEM.sub(" | ", text)
    return [part.strip() for part in _SEPARATORS.split(text) if part and part.strip()]


def fold(text: str) -> str:
    """Lowercase ASCII letters of `text`, for comparing names with email addresses: accents removed and
    other scripts transliterated by `anyascii` ("Łukasz" -> "lukasz", "Золин" -> "zolin", "Straße" ->
    "strasse"), as people spell their names in an address."""
    return "".join(ch for ch in anyascii(text) if ch.isascii() and ch.isalpha()).lower()


OTHER_PERSON = re.compile(
    r"\b(?:referees?|refer[eê]n\w*|r[ée]f[ée]rences?|supervisors?|advis[eo]rs?|recommend\w*|co-?authors?)\b",
    re.IGNORECASE)
"""Words that make what follows on a line someone else's contact (a referee's email or phone), in English
and as Spanish, Portuguese, German, Italian and French write them ("Referencias: ana@...")."""


def about_someone_else(text: str, start: int, *, whole_line: bool = False) -> bool:
    """Whether the words just before `start` (its part of the line, or all of the line before it)
    name a referee, a co-author..."""
    before = text[:start] if whole_line else segments(text[:start] + "x")[-1]
    return bool(OTHER_PERSON.search(before))
