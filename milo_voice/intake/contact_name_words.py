"""Whether a piece of a line reads as a person's name, word by word (`name_tokens`), and how a name
printed in capitals is written (`normal_case`). Where on the page a name is looked for is
`contact_name`'s business."""

from __future__ import annotations

import re
from collections.abc import Sequence

from milo_voice.intake.contact_layout import heading_kind
from milo_voice.intake.contact_lexicon import (
    COUNTRY_RE,
    DEGREES,
    FORM_WORDS,
    HONORIFICS,
    NAME_PARTICLES,
    ORG_WORDS,
    PATRONYMICS,
    TITLE_WORDS,
    US_STATES,
)

_TOKEN = re.compile(r"^[^\W\d_][^\W\d_'’.\-]*(?:['’\-][^\W\d_]+)*\.?$")
_INITIAL = re.compile(r"^[^\W\d_]\.$")
NOT_A_NAME = re.compile(r"[\d@/:;=_#%+()\[\]{}?!\"“”„«»]")


PATRONYMIC_ENDING = re.compile(
    r"(?:ович|евич|ьич|овна|евна|ична|ұлы|улы|қызы|кызы|оглы|ovich|evich|ovna|evna|ichna|ogli|o['’]g['’]li)$",
    re.IGNORECASE)
"""How a Russian, Kazakh or Uzbek patronymic ends ("Улугбекович", "Ахметұлы"): a name printed surname and
given name first may carry it on the next line ("Маматкаримов Бегзат" / "Улугбекович")."""


DOCUMENT_WORDS = frozenset({"resume", "résumé", "cv", "curriculum", "vitae", "lebenslauf"})
"""A document's title after the name ("JAN KÜSTER RESUME") ends the name; before any name, the line is
no name at all ("BLOG CV")."""


def without_heading(segment: str, *, min_rest: int = 2) -> str:
    """ "PERSONAL INFORMATION Betty Smith" -> "Betty Smith": a heading of 1-3 words printed before the
    name (or before a form's first label, `min_rest` 1), with at least `min_rest` words after it; a wide
    gap after the heading (read as " | ") is dropped too."""
    words = segment.split()
    for k in (3, 2, 1):
        if len(words) - k >= min_rest and heading_kind(" ".join(words[:k])):
            return " ".join(words[k:]).lstrip("| ")
    return segment


NAME_SUFFIXES = frozenset({"Jr.", "Sr.", "JR.", "SR."})
"""Generational suffixes a name may end with ("Sydney L. Hopson Jr.")."""
_CAPITALS_STOP = re.compile(r"^(?=[^a-zß-ÿ]*$)(.*[^\W\d_]{3})\.$")
_GLUED_INITIAL = re.compile(r"^([^\W\d_]{1,2}\.)(?=[^\W\d_]{3,})")
""" "MD.MOINUL ISLAM", "A.Aishwarya": an initial (or "Md.") glued to the word after it, at a name's start."""
_DOTTED_DEGREE = re.compile(r"^(?:[^\W\d_]{1,4}\.){2,}$")
"""A degree printed with its dots ("B.Sc.", "Ph.D.", "M.A."): no surname has two dots."""


def _degree(tokens: Sequence[str]) -> bool:
    """A degree printed after a name without a comma, in mixed or upper case, next to a name that is not
    all capitals ("Andrew Smith MEng"; not "JACK MA")."""
    last = tokens[-1]
    mixed_name = not all(t.isupper() for t in tokens[:-1])
    return mixed_name and sum(c.isupper() for c in last) >= 2 and last.replace(".", "").lower() in DEGREES


def name_tokens(segment: str) -> list[str] | None:
    """The words of `segment` when it reads as a person's name (honorifics dropped), else None. A
    nickname in brackets after the given name ("Junshen (Jason) Tao") is kept where it is printed."""
    nick = _NICKNAME.match(segment.strip())
    if nick:
        tokens = _name_tokens(f"{nick.group(1)} {nick.group(3)}")
        return [tokens[0], f"({nick.group(2)})", *tokens[1:]] if tokens and len(tokens) >= 2 else None
    return _name_tokens(segment)


_NICKNAME = re.compile(r"^([^\W\d_]+) \(([^\W\d_]+)\) ([^()]+)$")


def _name_tokens(segment: str) -> list[str] | None:
    segment = _GLUED_INITIAL.sub(r"\1 ", _without_credentials(without_heading(segment)))
    segment = _CAPITALS_STOP.sub(r"\1", segment)  # "AKOTH SHARON.": a stop typed after a name in capitals
    if NOT_A_NAME.search(segment) or "," in segment:
        return None
    tokens = segment.split()
    while len(tokens) > 2 and (_DOTTED_DEGREE.match(tokens[-1]) or _degree(tokens)):
        tokens = tokens[:-1]  # "Jane Doe B.Sc.", "Andrew Smith MEng": a degree after the name, no comma
    while tokens and tokens[0].lower().rstrip(".") in HONORIFICS:
        tokens = tokens[1:]
    if not 1 <= len(tokens) <= 8:
        return None
    patronymic = any(t.lower() in PATRONYMICS for t in tokens[1:])
    capitals = 0
    for position, token in enumerate(tokens):
        word = token.lower().rstrip(".")
        small = token[0].islower() or (position and (token.isupper() or patronymic))
        if word in NAME_PARTICLES and small:
            continue  # "van", and "DE" inside a name in capitals ("JORGE ARMANDO DE LEÓN TEJADA")
        if word in ORG_WORDS or word in FORM_WORDS or (word in DOCUMENT_WORDS and capitals < 2):
            return None  # "AIG Welding Ltd." is a company; "BLOG CV" a site's menu; "Sex Male" a form
        if (word in TITLE_WORDS or word in DOCUMENT_WORDS) and capitals >= 2:
            tokens = tokens[:position]  # "John Smith Software Engineer": the name ends at the title
            break
        if word in TITLE_WORDS or not (_TOKEN.match(token) or _INITIAL.match(token)):
            return None
        if not token[0].isupper():
            return None
        capitals += 1
    if not 1 <= len(tokens) <= (8 if patronymic else 5) or len(" ".join(tokens)) > 48:
        return None  # after the cut at a title: "Nguyễn Hữu Lộc Fresher Backend Developer" is a name
    last = tokens[-1]
    dotted_end = last.endswith(".") and not _INITIAL.match(last) and last not in NAME_SUFFIXES
    if capitals == 0 or capitals > (6 if patronymic else 4) or dotted_end:
        return None
    if heading_kind(segment) or COUNTRY_RE.fullmatch(segment):
        return None
    if len(tokens) == 1 and tokens[0] in US_STATES:
        return None
    return tokens


def _credential(token: str) -> bool:
    """An abbreviation as degrees and suffixes are printed: "PhD", "MBA", "M.Sc.", "Jr.", "III" (two
    capitals, or a dot); not an ordinary capitalised word ("Binh" in "Hung Commune, Binh Chan")."""
    return sum(c.isupper() for c in token) >= 2 or "." in token


_STATE_DEGREES = frozenset({"MA", "MS", "MD", "PA"})
"""US state codes that are degrees too ("Jane Doe, MD"): after a comma they stay degrees."""


def _without_credentials(segment: str) -> str:
    """ "Jane Doe, PhD" -> "Jane Doe": short capitalised tokens after a comma are degrees and titles; not a
    state or a country ("Stone Mountain, GA, USA" is a place)."""
    head, comma, tail = segment.partition(",")
    tokens = tail.replace(",", " ").split()
    degrees = all(len(t) <= 6 and _credential(t) for t in tokens)
    placed = any((t in US_STATES and t not in _STATE_DEGREES) or COUNTRY_RE.fullmatch(t) for t in tokens)
    if comma and tokens and len(tokens) <= 3 and degrees and not placed:
        return head.strip()
    return segment


def normal_case(tokens: Sequence[str]) -> str:
    """Words printed in capitals get normal capitalisation ("JEAN-PAUL" -> "Jean-Paul")."""
    words = (t.title().replace("i\u0307", "i") if t.isupper() and len(t.rstrip(".")) > 1 else t
             for t in tokens)
    return " ".join(words)  # "ERSİN" -> "Ersin": lower-casing the dotted İ leaves a combining dot
