"""The candidate's name: a labelled name ("Name:", "氏名"), else the first short line of the contact
block that reads as a person's name.

A name line here is the first part of a line (before a separator such as ``|`` or ``·``) made of 2 to
4 capitalised words in any cased script, allowing particles (van, de, bin, ...) and initials, with no
digits, no section heading ("Curriculum Vitae", "Education"), no job-title or company word
("Engineer", "GmbH"), and no country. A one-word line counts only when the candidate's email address
contains it ("Alice" and alice@...). A name printed over two lines ("ZWE HTET" / "PAING") is joined
when the email address contains the second line too. Names printed in capitals are given in normal
capitalisation. Scripts without case (CJK) are read from a label, or, for Chinese and Korean, from a
line of 2-4 characters among the first three of page 1 with the email or phone just below (doubted).
A name the email spells in full outranks an unvouched first line (often a city or a title); far from
the contact block only such a name counts. A form's family-name label ("Apellidos", "Last name") next
to its name label completes the name. "SURNAME, Given Given." counts when the email contains one of
its words, in the printed order (comma kept). A name printed twice in a row is given once, and it,
or a name whose line lost characters, is flagged; on OCR'd pages a line with a heading word is no name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from milo_voice.intake.contact_layout import (
    Layout,
    Line,
    fold,
    heading_kind,
    icon_letter_block,
    segments,
    strip_icon,
    strip_lone_letter,
)
from milo_voice.intake.contact_lexicon import (
    COUNTRY_RE,
    HEADING_CORE,
    PATRONYMICS,
    US_STATE_NAMES,
)
from milo_voice.intake.contact_name_doubt import doubted
from milo_voice.intake.contact_name_form import labelled_name
from milo_voice.intake.contact_name_intro import introduced_name
from milo_voice.intake.contact_name_script import uncased_name
from milo_voice.intake.contact_name_spelt import (
    initials_spelt,
    joined_name,
    letter_spaced,
    long_name_spelt,
    lowercase_spelt,
    one_word_spelt,
    profile_slugs,
    small_letters_top,
)
from milo_voice.intake.contact_name_words import (
    NAME_SUFFIXES,
    NOT_A_NAME,
    PATRONYMIC_ENDING,
    name_tokens,
    normal_case,
)
from milo_voice.intake.extraction_types import FieldGuess

__all__ = ["name_guess", "name_tokens", "normal_case", "ocr_heading", "surname_first"]


@dataclass(frozen=True)
class NameCandidate:
    text: str
    line: Line
    score: float
    top: bool
    support: int
    """How many of its words the candidate's email addresses contain."""



def _support(tokens: Sequence[str], locals_: Sequence[str]) -> int:
    words = [fold(t) for t in tokens if len(fold(t)) >= 3]
    return sum(1 for w in words if any(w in local for local in locals_))


def _spellable(tokens: Sequence[str]) -> int:
    """How many words an email can vouch for: initials ("Sriram R") and two-letter words are not counted."""
    return sum(1 for t in tokens if len(fold(t)) >= 3)


def _clean(text: str, icons: bool) -> str:
    text = strip_icon(text)
    return strip_lone_letter(text) if icons else text


def _candidates(layout: Layout, block: Sequence[Line], locals_: Sequence[str]) -> list[NameCandidate]:
    """Name-like lines of the contact block, and lines elsewhere on page 1 that the email vouches for."""
    top = {line.index: rank for rank, line in enumerate(layout.top())}
    in_block = {line.index for line in block}
    page = [line for line in layout.lines if line.page == layout.first_page() and line.index not in in_block]
    icons = icon_letter_block(list(block))
    found: list[NameCandidate] = []
    joined: set[int] = set()
    for line in [*block, *page]:
        parts = segments(_clean(line.text, icons)) if line.index not in joined else []
        if len(parts) >= 2 and heading_kind(parts[0]) == "title":
            parts = parts[1:]  # "CV - Bernhardt Steyn": the document's title, then the name
        first = top.get(line.index) == 0
        if first and parts and parts[0].endswith(",") and parts[0].count(",") == 1:
            parts[0] = parts[0][:-1]  # "Fabrice H. K. Cheteu,    Reichlinstraße": a letterhead's comma
        tokens = (name_tokens(parts[0]) or surname_first(parts[0], locals_, first=first)) if parts else None
        if not tokens:
            continue
        stack = _stack(layout, line, tokens, locals_)
        longer = stack or _join_next_line(layout, line, tokens, locals_)
        used = len(stack) - 1 if stack else int(len(longer) > len(tokens))
        joined.update(range(line.index + 1, line.index + 1 + used))  # a name's later lines are not names
        tokens = longer
        support = _support(tokens, locals_)
        if len(tokens[-1]) == 1 and not support:
            continue  # "Klasse B": an undotted initial ("Sriram R") needs the email to vouch for the name
        rank = top.get(line.index)
        placed = COUNTRY_RE.search(" ".join(tokens)) and not _given_country(tokens, support, rank)
        if (len(tokens) == 1 or placed) and support < len(tokens):
            continue
        vouched = support == _spellable(tokens) and len(tokens) >= 2
        first = vouched and _support(tokens, locals_[:1]) == support  # the first address spells it
        if rank is not None:
            score = 1.0 - 0.05 * rank
        elif line.index in in_block:
            score = 0.6
        elif vouched:
            score = 0.5
        elif len(tokens) >= 2 and _support(tokens[-1:], locals_):
            score = PARTLY_VOUCHED  # a design tool may write the header's name after the body
        else:
            continue  # far from the contact details, only a name the email vouches for counts
        score += 0.2 * (2 <= len(tokens) <= 3) + 0.5 * support / len(tokens) + FULL_SUPPORT * first
        found.append(NameCandidate(normal_case(tokens), line, score, rank is not None, support))
    return found


def _given_country(tokens: Sequence[str], support: int, rank: int | None) -> bool:
    """ "Israel Berlanga", "Jordan Smith": a country's name that is the first of 2-3 words, the others
    no place, counts as a given name on page 1's first line or when the email spells a word of it."""
    rest = " ".join(tokens[1:])
    return (2 <= len(tokens) <= 3 and bool(COUNTRY_RE.fullmatch(tokens[0])) and not COUNTRY_RE.search(rest)
            and rest.lower() not in US_STATE_NAMES and (support > 0 or rank == 0))


PARTLY_VOUCHED = 0.3
"""Base score of a name far from the contact details whose last word (the surname, not every word) the
email spells ("Ismail Ait Mlouk", mlouk24@...; not "Korvath Films", korvath@...): below any name at the
top or in the contact block, so it is chosen only when those have none."""
FULL_SUPPORT = 0.3
"""Bonus of a name of 2+ words that the first email address spells in full ("joaovictorlisboaporcel@"): a
stronger sign than being the first line, which may be a city or a job title. Only the first address (the
header's, as own_emails orders them): a later one may be a supervisor's, printed with their name."""


def _join_next_line(layout: Layout, line: Line, tokens: list[str], locals_: Sequence[str]) -> list[str]:
    """A name printed over two lines, in the same case: join the next line when the email address
    vouches for it. (Not when it vouches only for the first line: "Alice" / "Adventurer" is a name
    and a job title, and nothing tells an unknown title from a surname.)"""
    below = layout.next_on_page(line)
    if below is None or len(tokens) >= 4:
        return tokens
    parts = segments(strip_icon(below.text))
    head = parts[0] if parts else ""
    extra = name_tokens(head) or name_tokens(_before_contact(head)) if head else None
    if extra and extra[0].lower() in PATRONYMICS and len(tokens) + len(extra) <= 8:
        return tokens + extra  # "MOHAMAD HAZIQ" / "BIN AHMAD YUSRI": a patronymic goes on the next line
    if extra and 4 < len(tokens) + len(extra) <= 6 and long_name_spelt(tokens, extra, locals_):
        return tokens + extra
    if extra and len(tokens) == 2 and len(extra) == 1 and PATRONYMIC_ENDING.search(extra[0]):
        return tokens + extra  # "Маматкаримов Бегзат" / "Улугбекович": the patronymic under the name
    same_case = extra and extra[0].isupper() == tokens[0].isupper()
    if same_case and len(tokens) + len(extra) <= 5 and initials_spelt([*tokens, *extra], locals_):
        return tokens + extra  # "EDISON GEOVANNY" / "GUAICHICO PIÑAN" with egguaichicop@
    if extra and extra[-1] in NAME_SUFFIXES and len(tokens) >= 2 and len(tokens) + len(extra) <= 6:
        return tokens + extra  # "Raimundo Oscar" / "de Sousa Jr.": a suffix ends a name, never a title
    if not extra or len(tokens) + len(extra) > 4 or extra[0].isupper() != tokens[0].isupper():
        return tokens
    if [t.lower() for t in extra] == [t.lower() for t in tokens]:
        return tokens  # the same name printed twice (a text box and its copy), not a longer name
    if len(extra) >= 2 and not _support(tokens, locals_):
        return tokens  # "Java" / "Anabela Parareda": a full name under a word the address does not spell
    if _support(extra, locals_) == len(extra) or _spelt_then_start(tokens, extra, locals_):
        return tokens + extra
    return tokens


SURNAME_START = 4
"""Letters of a surname's start that an address may keep after the whole given name (salvador.cata95@)."""


def _spelt_then_start(tokens: Sequence[str], extra: Sequence[str], locals_: Sequence[str]) -> bool:
    """ "Salvador" / "Catalfamo" with salvador.cata95@: one word a line, the address holds the first whole
    and, after it, the start of the second."""
    if len(tokens) != 1 or len(extra) != 1 or len(fold(tokens[0])) < 3 or len(fold(extra[0])) < SURNAME_START:
        return False
    first, start = fold(tokens[0]), fold(extra[0])[:SURNAME_START]
    return any(first in local and start in local[local.find(first) + len(first):] for local in locals_)


def _before_contact(text: str) -> str:
    """ "DALEN +31 30 68 20 63" -> "DALEN": OCR joins a header's two columns into one line, so the name's
    second line may go on with the phone or the email of the column beside it."""
    words = text.split()
    cut = next((i for i, w in enumerate(words) if NOT_A_NAME.search(w)), len(words))
    return " ".join(words[:cut])


STACK_LINES = 4
"""At most this many one-word lines make one name printed a word per line."""


def _stack(layout: Layout, line: Line, tokens: list[str], locals_: Sequence[str]) -> list[str]:
    """ "JORGE" / "MARIO" / "HERRERA" / "VARGAS": a name printed one word per line, in one case, joined
    when 3-4 such lines follow each other and the email spells at least two of their words (the email may
    not spell every one: marioherreravargaz@ for Vargas)."""
    if len(tokens) != 1:
        return []
    stack = list(tokens)
    for below in layout.lines[line.index + 1:line.index + STACK_LINES]:
        word = name_tokens(strip_icon(below.text).strip()) if below.page == line.page else None
        if not word or len(word) != 1 or word[0].isupper() != tokens[0].isupper():
            break
        stack += word
    return stack if len(stack) >= 3 and _support(stack, locals_) >= 2 else []


LABEL_REACH = 40
"""A labelled name counts in this many first lines of the document, across a page break: a cover page
("CURRICULUM VITAE" and a short name) may come before the form that labels the full name."""


def name_guess(layout: Layout, block: Sequence[Line], emails: Sequence[str], *,
               ocr: bool = False) -> FieldGuess:
    page = [line for line in layout.lines if line.page == layout.first_page()][:40]
    locals_ = [*(fold(e.split("@")[0]) for e in emails), *profile_slugs(page)]
    opening = [line for line in layout.lines if line.page >= layout.first_page()][:LABEL_REACH]
    labelled = labelled_name(layout, [*block, *opening], locals_)
    if labelled:
        return doubted(FieldGuess(normal_case(labelled), 0.9, ""), page)
    found = sorted(_candidates(layout, block, locals_), key=lambda c: -c.score)
    if ocr:
        found = [c for c in found if not ocr_heading(c.text)]
    small_top = "" if any(c.top for c in found) else small_letters_top(page)
    if small_top:
        return FieldGuess(small_top, 0.7, "name printed in small letters at the top; capitalised")
    if not found:
        spaced = letter_spaced(page, locals_)
        if spaced:
            why = "the name's letters were spaced apart in the text; read with the email"
            return FieldGuess(spaced, 0.7, why)
        joined = joined_name(page, emails)
        if joined:
            why = "the name's words were printed without a space; split by the email"
            return FieldGuess(joined, 0.7, why)
        small = lowercase_spelt(page, locals_)
        if small:
            return FieldGuess(small, 0.7, "name printed in small letters; read with the email")
        cjk = uncased_name(layout)
        if cjk:
            return FieldGuess(cjk, 0.7, "name in a script without capitals read from the top lines")
        first_page = [line for line in layout.lines if line.page == layout.first_page()]
        intro = introduced_name(first_page)
        if intro:
            return intro
        alone = one_word_spelt(page, locals_)
        if alone:
            why = "single-word name far from the contact details (the email contains it)"
            return FieldGuess(alone, 0.5, why)
        return FieldGuess.missing("no name found at the top of the resume")
    return doubted(_completed(_ranked(found, block), page), page)


def _ranked(found: Sequence[NameCandidate], block: Sequence[Line]) -> FieldGuess:
    best = found[0]
    rivals = [c for c in found[1:] if c.text.lower() != best.text.lower() and len(c.text.split()) >= 2
              and c.score >= best.score - 0.15]
    if rivals:
        why = f"two different names on page 1: {best.text!r} and {rivals[0].text!r}"
        return FieldGuess(best.text, 0.6, why)
    if len(best.text.split()) == 1:
        return FieldGuess(best.text, 0.6, "single-word name (the email address contains it)")
    if not best.top and best.line.index not in {line.index for line in block}:
        return FieldGuess(best.text, 0.6, "name found on page 1 by matching the email address")
    if not best.top:
        return FieldGuess(best.text, 0.7, "name found next to the contact details, not at the top of page 1")
    if best.score < 1.0:
        return FieldGuess(best.text, 0.7, "name is not among the first lines of page 1")
    return FieldGuess(best.text, 0.95 if best.support else 0.9, "")


def _completed(guess: FieldGuess, page: Sequence[Line]) -> FieldGuess:
    """ "Brayan Alexander" at the top, "Brayan Alexander Urrutia" alone on a line below: the name printed
    in full elsewhere on page 1 (one or two more words after the same ones) is the name."""
    words = guess.value.lower().split()
    for line in page if words else ():
        tokens = name_tokens(line.text.strip())
        longer = normal_case(tokens).split() if tokens else []
        lowered = [w.lower() for w in longer]
        if 1 <= len(longer) - len(words) <= 2 and (lowered[:len(words)] == words or _inner(words, lowered)):
            return FieldGuess(" ".join(longer), guess.confidence, guess.reason)
    return guess


def _inner(words: Sequence[str], longer: Sequence[str]) -> bool:
    """ "Samuel Odu" (a running header) and "SAMUEL ADEWOLE ODU" (the body): the longer one has the same
    first and last word, and middle names between them."""
    return len(words) >= 2 and longer[0] == words[0] and longer[-1] == words[-1] and all(
        w in longer[1:-1] for w in words[1:-1])


def ocr_heading(text: str) -> bool:
    """On an OCR'd page: any word of a section heading ("... PROGRAMS", "Skills") makes the line no name
    (OCR reads a column's headings before the name and may misread the other words of the heading)."""
    return any(w.lower() in HEADING_CORE for w in text.split())


_SURNAME_FIRST = re.compile(
    r"^(?P<surname>[^\W\d_][^\W\d_'’\-]+(?:[ '’\-][^\W\d_]+)?),\s*(?P<given>[^,]+?)\.?$")


def surname_first(segment: str, locals_: Sequence[str], *, first: bool = False) -> list[str] | None:
    """ "GARCÍA LOPEZ, Ana Maria." -> ["GARCÍA", "LOPEZ,", "Ana", "Maria"] (printed order kept, comma
    included): a family name in capitals, a comma, capitalised given names, when the candidate's email
    contains at least one of the words (else a "City, Region" line reads the same); or, unspelt, as
    page 1's first line with two given names or more and no country or state in it ("AWE, Taiwo
    Oluwole", as Nigerian CVs print it)."""
    match = _SURNAME_FIRST.match(segment.strip())
    if not match or not match.group("surname").isupper():
        return None
    surname, given = name_tokens(match.group("surname")), name_tokens(match.group("given"))
    if not surname or not given or len(surname) + len(given) > 5:
        return None
    if _support([*surname, *given], locals_) == 0 and not (first and len(given) >= 2 and not _place(segment)):
        return None
    return [*surname[:-1], surname[-1] + ",", *given]


def _place(segment: str) -> bool:
    """ "NEW YORK, New York", "LAGOS, Nigeria": a place, not a surname and given names."""
    head, _, tail = segment.partition(",")
    tail = tail.strip(" .")
    return bool(COUNTRY_RE.search(segment)) or tail.lower() in US_STATE_NAMES or fold(head) == fold(tail)
