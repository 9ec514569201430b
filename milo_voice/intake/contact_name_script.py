"""A name in a script without capitals, unlabelled: Chinese or Korean (2-4 characters near the contact
details), Hebrew or Arabic (the first item of a top line, in reading order even where the PDF wrote
its words in visual order)."""

from __future__ import annotations

import re

from milo_voice.intake.contact_layout import Layout, heading_kind, segments, strip_icon
from milo_voice.intake.contact_lexicon import CJK_NOT_NAME_ENDINGS, RTL_LETTERS, TITLE_WORDS

__all__ = ["uncased_name"]


_CJK_NAME = re.compile(r"^(?:[\u3400-\u4dbf\u4e00-\u9fff]{2,4}|[\uac00-\ud7af]{2,4})$")
CJK_TOP_LINES = 3
"""A Chinese or Korean name without a label is looked for among this many first lines of page 1."""


def uncased_name(layout: Layout) -> str:
    """A name in a script without capitals, unlabelled: among the first lines of page 1, one of 2-4 Han
    characters or Hangul syllables (spaces allowed) that is no heading, title or employer, with the
    email or phone within the next three lines, as a resume's header prints them."""
    for line in layout.top()[:CJK_TOP_LINES]:
        parts = segments(strip_icon(line.text))
        compact = "".join(parts[0].split()) if len(parts) == 1 else ""
        if not _CJK_NAME.match(compact) or heading_kind(compact) or compact.endswith(CJK_NOT_NAME_ENDINGS):
            continue
        if any(0 < anchor - line.index <= 3 for anchor in layout.anchors):
            return compact
    return _rtl_first_item(layout) or _cjk_over_contacts(layout)


_CJK_CONTACT = ("联系", "聯絡", "聯繫", "連絡", "연락")
"""How a contact heading begins in Chinese, Japanese and Korean ("联系信息", "連絡先", "연락처")."""


_HANGUL = re.compile(r"^[\uac00-\ud7af]{2,4}$")
_KOREAN_NOT_NAMES = frozenset({"졸업", "재학", "휴학", "중퇴", "수료", "학사", "석사", "박사",
                               "신입", "경력", "인턴", "정규직", "계약직"})
"""Two-to-four-syllable words a Korean resume prints alone on a line: graduated, enrolled, degrees, hiring
types."""


def _cjk_over_contacts(layout: Layout) -> str:
    """ "王苏湖" / "学 生" / "联系信息" in the middle of page 1's text: a two-column page whose sidebar (the
    name, then the contact details under their heading) the text layer puts after the main column. A
    line of 2-4 Han characters or Hangul syllables, no heading or title, with a contact heading within the
    next three lines; or a Hangul name, or a Han one printed as two words (family, given: "鈴木 聖大"; a
    degree or a major is one word), with the email or the phone within the next three lines (a Korean job
    site's export prints the name, then sex and age, then the phone and email, under the education)."""
    page = [line for line in layout.lines if line.page == layout.first_page()]
    for at, line in enumerate(page):
        compact = "".join(strip_icon(line.text).split())
        if not _CJK_NAME.match(compact) or heading_kind(compact) or compact.endswith(CJK_NOT_NAME_ENDINGS):
            continue
        below = page[at + 1:at + 4]
        if any("".join(other.text.split()).startswith(_CJK_CONTACT) for other in below):
            return compact
        words = strip_icon(line.text).split()
        spaced = all(len(word) == 1 for word in words)  # "王 苏 湖", "学 生": letter-spaced
        hangul = _HANGUL.match(compact) and compact not in _KOREAN_NOT_NAMES
        near = any(other.index in layout.anchors for other in below)
        if near and (hangul or (len(words) == 2 and not spaced)):
            return compact if spaced else " ".join(words)  # "서다혜" / "여 1997년" / "010-... @"; "鈴木 聖大"
    return ""


_RTL_WORD = rf"[{RTL_LETTERS}\u066e-\u06d3'׳\-]{{2,}}"
_RTL_NAME = re.compile(rf"^{_RTL_WORD}(?: {_RTL_WORD}){{1,3}}$")
"""2-4 words of Hebrew or Arabic letters (a geresh or hyphen allowed)."""


def _rtl_first_item(layout: Layout) -> str:
    """A Hebrew or Arabic name, unlabelled: the first item of one of the first lines of page 1, of 2-4
    words in that script, no heading or job title, with the email or phone on its line or within the
    next four ("צח כהן │ קיבוץ מעגן מיכאל │ 050-... │ ...@gmail.com"); or page 1's first line, with a
    heading one or two lines under it (the contact details printed further down)."""
    top = layout.top()
    for line in top[:CJK_TOP_LINES]:
        parts = segments(strip_icon(line.text))
        head = " ".join(parts[0].split()) if parts else ""
        titled = any(w in TITLE_WORDS for w in head.split())  # no case to fold
        if not _RTL_NAME.match(head) or heading_kind(head) or titled:
            continue
        near = any(0 <= anchor - line.index <= 4 for anchor in layout.anchors)
        headed = line.index == top[0].index and any(
            line.index < at <= line.index + 2 for at in layout.headings)  # the header, then a section
        if near or headed:
            return _logical_words(head, _visual_order(layout))
    return ""


_MARKS = "'׳"
_STOP_FIRST = re.compile(rf"^[.:،؛!?][{RTL_LETTERS}]")
_STOP_LAST = re.compile(rf"[{RTL_LETTERS}][.:،؛!?]$")
VISUAL_STOPS = 3
"""Lines of Hebrew or Arabic that begin with their full stop (".الزحام وتجنب الطرق") that show a PDF
wrote its right-to-left lines word by word in visual order."""


def _visual_order(layout: Layout) -> bool:
    """Whether the document's right-to-left lines have their words in visual order: at least
    VISUAL_STOPS of them, and twice as many as end with one, begin with a sentence's closing stop."""
    first = sum(1 for line in layout.lines if _STOP_FIRST.match(line.text))
    last = sum(1 for line in layout.lines if _STOP_LAST.search(line.text))
    return first >= VISUAL_STOPS and first > 2 * last


def _logical_words(name: str, visual: bool = False) -> str:
    """ "'רחמילביץ איליה" -> "איליה רחמילביץ'": a word that starts with a geresh shows the PDF wrote the
    line in visual (right-to-left) order: the words go back in reading order, the mark after its word.
    `visual`: the document's lines are in that order (`_visual_order`), with or without a geresh."""
    words = name.split()
    if not visual and not any(w[0] in _MARKS for w in words):
        return name
    return " ".join(w[1:] + w[0] if w[0] in _MARKS else w for w in reversed(words))
