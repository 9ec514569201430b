"""A name from a form's labels: "Name: ...", "氏名 ...", a label alone over its value, the family name
labelled on the line next to the given names ("Nombre Diego" / "Apellido Espinosa"), and "Name" next to
"Vorname" (German and French forms label the family name "Name"/"Nom" beside the given names'
"Vorname"/"Prénom"): both lines make the name, in the order the email spells them, else given first."""

from __future__ import annotations

import re
from collections.abc import Sequence

from milo_voice.intake.contact_layout import Layout, Line, fold, segments
from milo_voice.intake.contact_lexicon import (
    LABEL_CONTINUED,
    NAME_LABEL_ALONE,
    NAME_LABELLED,
    PATRONYMICS,
    SURNAME_LABELLED,
)
from milo_voice.intake.contact_name_words import NOT_A_NAME, name_tokens, without_heading

__all__ = ["labelled_name"]


def labelled_name(layout: Layout, lines: Sequence[Line], locals_: Sequence[str]) -> list[str] | None:
    """The words of a labelled name ("Name: ...", "氏名 ..."), with the family name when a form prints
    it on the next or previous line ("Nombre Diego" / "Apellido Espinosa"); cased scripts must read
    as a name."""
    for line in lines:
        text = without_heading(line.text, min_rest=1)  # "PERSONAL DETAILS  Name:  Keoabetswe"
        match = NAME_LABELLED.match(text)
        label = text[:match.start("value")] if match else text
        given_first = bool(_GIVEN_FIRST.match(label))
        tokens = _label_value(match.group("value"), given_first=given_first) if match else None
        if not match and NAME_LABEL_ALONE.match(text):
            tokens = _value_below(layout, line, given_first)
        if tokens:
            pair = _pair(layout, line.index, label, tokens, locals_)
            if pair:
                return pair
            surname = _surnames_next_to(layout, line.index)
            return [*tokens, *surname] if surname and len(tokens) + len(surname) <= 6 else tokens
    for line in lines:  # a form that prints other cells before the full name's on its row
        inside = _FULL_NAME_INSIDE.search(line.text)
        tokens = _label_value(inside.group("value")) if inside else None
        if tokens:
            return tokens
    return None


_FULL_NAME_INSIDE = re.compile(
    r"(?:نام\s+و\s+نام\s+خانوادگی|full\s+name|nombre\s+completo|nome\s+completo|nom\s+complet)"
    r"\s*[:：]\s*(?P<value>[^:：|]+?)\s*(?:\||$)", re.IGNORECASE)
"""A label of the whole name inside a line ("نام پدر:ناصر ... نام و نام خانوادگی:چنور حسینی": an Iranian
form's row starts with the father's name)."""


_BARE_NAME = re.compile(r"^\W{0,3}(?:name|nom)\s*[:：]?\s*$", re.IGNORECASE)
"""A plain "Name:"/"Nom :" label, which a form with a given-name line beside it uses for the family name."""


def _pair(layout: Layout, index: int, label: str, tokens: list[str],
          locals_: Sequence[str]) -> list[str] | None:
    """Both names of a form that labels the family name "Name:"/"Nom :" and the given names "Vorname:"/
    "Prénom :" on the line beside it (either one first), in the order the email spells them."""
    if _BARE_NAME.match(label):
        given, family = _labelled_next_to(layout, index, _GIVEN_FIRST), tokens
    elif _GIVEN_ONLY.match(label):
        given, family = tokens, _labelled_next_to(layout, index, _BARE_NAME)
    else:
        return None
    if not given or not family or len(given) + len(family) > 6 or {*map(fold, given)} & {*map(fold, family)}:
        return None
    return _in_spelt_order(given, family, locals_)


def _labelled_next_to(layout: Layout, index: int, label: re.Pattern[str]) -> list[str] | None:
    """The name on the line under (or over) line `index` whose label matches `label`: the given names
    beside a "Name:" line ("Vorname: Hans"), the family name beside a "Prénom :" line ("Nom : DJIGO")."""
    for pos in (index + 1, index - 1):
        if 0 <= pos < len(layout.lines) and layout.lines[pos].page == layout.lines[index].page:
            match = NAME_LABELLED.match(layout.lines[pos].text)
            if match and label.match(layout.lines[pos].text[: match.start("value")]):
                return _label_value(match.group("value"))
    return None


def _in_spelt_order(given: list[str], family: list[str], locals_: Sequence[str]) -> list[str]:
    """Given names first, unless the email spells the family line's words first ("Name: Mafalda Bianca
    Maria" / "Vorname: Bertani" with mafalda.bertani@: the owner swapped the labels)."""

    def first_at(tokens: list[str]) -> int:
        spots = [local.find(fold(t)) for t in tokens if len(fold(t)) >= 3 for local in locals_]
        return min((at for at in spots if at >= 0), default=10**6)

    return [*family, *given] if first_at(family) < first_at(given) else [*given, *family]


def _surnames_next_to(layout: Layout, index: int) -> list[str]:
    """The family name a form prints under the given names, or above them; both of them when it has two
    labelled lines ("Apellido Paterno" / "Apellido Materno")."""
    below = _surname_at(layout, index + 1)
    if below:
        second = _surname_at(layout, index + 2)
        return [*below, *second] if second else below
    return _surname_at(layout, index - 1) or []


def _value_below(layout: Layout, line: Line, given_first: bool) -> list[str] | None:
    """The value of a label printed alone on its line, in the line under it (same page)."""
    below = layout.next_on_page(line)
    wrapped = LABEL_CONTINUED.match(below.text) if below is not None else None
    if below is not None and wrapped:  # "NOMBRES" / "Y APELLIDOS" / "JUAN PÉREZ": the label's second line
        if wrapped.group("value").strip():
            return _label_value(wrapped.group("value"), given_first=given_first)
        below = layout.next_on_page(below)
    return None if below is None else _label_value(below.text, given_first=given_first)


def _label_value(value: str, *, given_first: bool = False) -> list[str] | None:
    parts = segments(_FULL_STOP.sub("", value).lstrip(" |:："))  # "Naam<tab>:D. Dibbets": a colon after a gap
    if not parts or "".join(parts[0].split()) in _READING_LABELS:
        return None  # "氏 名" over "ふりがな": the label of the name's reading, not the name
    cased = any(ch.isupper() or ch.islower() for ch in parts[0])
    head = parts[0] if cased else _before_digits(parts[0])
    if NOT_A_NAME.search(head):
        return None
    tokens = head.split()
    if cased:
        tokens = name_tokens(head) or _labelled_pair(head, given_first)
    return tokens if 1 <= len(tokens) <= (8 if {t.lower() for t in tokens} & PATRONYMICS else 5) else None


def _before_digits(value: str) -> str:
    """ "山田 竜輝 23歳 1998/6/17 男" -> "山田 竜輝": a form's name cell may go on with the age and the date
    of birth, or with the next label ("黄超梵 籍贯：湖北省", letter-spaced in "李双江 性 别：男"); in a script
    without capitals the name is the words before the first number or label."""
    words = value.split()
    cut = next((i for i, w in enumerate(words) if any(ch.isdigit() or ch in ":：" for ch in w)), len(words))
    if 2 <= cut < len(words) and len(words[cut - 1]) == 1 and _SPACED_LABEL_END.match(words[cut]):
        cut -= 1  # "李双江 性 别：男": the next label is letter-spaced, its first character is not the name's
    return " ".join(words[:cut])


_SPACED_LABEL_END = re.compile(r"^[^\W\d_][:：]")
"""The last character of a letter-spaced label and its colon ("别：" of "性 别：")."""


_READING_LABELS = frozenset({"ふりがな", "フリガナ"})
_FULL_STOP = re.compile(r"(?<=[^\W\d_]{2})\.\s*$")
"""A form's value may end with a full stop ("Nombre: Giancarlo Tomás Medina Orosco."): not the name's."""
_GIVEN_ONLY = re.compile(
    r"^\W*(?:vorname|voornaam|first\s+names?|given\s+names?|prénom|prenom|imię)\s*[:：]?\s*$", re.I)
"""A label of the given names alone, which a form follows with the family name's own line."""
_GIVEN_FIRST = re.compile(
    r"^\W*(?:vorname|voornaam|first\s+name|given|prénom|prenom|nome\b|nombres?\b|imię)", re.I)


def _labelled_pair(value: str, given_first: bool) -> list[str]:
    """A name cell "A, B" whose label names both parts. "Name, Vorname: Riemenschneider, Dennis": the
    surname first, printed order kept with the comma (as for unlabelled ones); "Vorname, Nachname:
    Ramzi, Bani Saad": the given name first, the comma only echoes the label's and is dropped."""
    surname, comma, given = value.partition(",")
    family, first = name_tokens(surname), name_tokens(given) if comma and "," not in given else None
    if not family or not first or len(family) + len(first) > 5:
        return []
    return [*family, *first] if given_first else [*family[:-1], family[-1] + ",", *first]


def _surname_at(layout: Layout, index: int) -> list[str] | None:
    if not 0 <= index < len(layout.lines):
        return None
    match = SURNAME_LABELLED.match(layout.lines[index].text)
    return _label_value(match.group("value")) if match else None
