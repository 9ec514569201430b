"""Names the email address spells where the PDF mangled the spacing: letters spaced apart by an image
editor ("A nna" / "V id al Tu r"), or words printed without their spaces ("LORENZOBREDA"); and names
printed in small letters. Used when no line at the top of page 1 reads as a name. Also the LinkedIn
profile slugs that vouch for a name as an email's local part does (`profile_slugs`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from milo_voice.intake.contact_layout import TRACKED_WORD, Line, fold, heading_kind
from milo_voice.intake.contact_lexicon import NAME_PARTICLES
from milo_voice.intake.contact_name_words import name_tokens, normal_case


def letter_spaced(lines: Sequence[Line], locals_: Sequence[str]) -> str:
    """ "A nna" / "V id al Tu r" with anna.vidaltur@...: text from an image editor places letters one by
    one, so its spaces fall anywhere. One line of page 1, or two in a row, whose letters are exactly the
    email's local part (6+ letters) give the name, its words split before each capital ("Anna Vidal Tur").
    `lines`: page 1's first 40 lines."""
    wanted = {"".join(ch for ch in local if ch.isalpha()) for local in locals_}
    wanted = {w for w in wanted if len(w) >= 6}
    for i in range(len(lines)):
        for group in (lines[i:i + 1], lines[i:i + 2]):
            letters = "".join("".join(g.text.split()) for g in group)
            if not letters.isalpha() or not letters[0].isupper():
                continue
            if fold(letters) in wanted:
                words = re.findall(r"[^\W\d_][^\W\d_A-Z\u00c0-\u00de]*", letters)
                if 2 <= len(words) <= 4 and "".join(words) == letters:
                    return normal_case(words)
            if len(group) == 2 and _tracked_capitals(group) and _near(fold(letters), wanted):
                return normal_case(["".join(g.text.split()) for g in group])
    return ""


SPELT_LIKE = 0.85
"""How alike (difflib's ratio) a tracked name and the address must be: a transliterated name is spelt
another way in the address ("BOHDANA CHELOMBYTKO", bogdanacelombitko@: 0.86)."""


def _tracked_capitals(group: Sequence[Line]) -> bool:
    """Lines of one word each in capitals, printed a letter at a time ("B O H D A N A")."""
    return all(TRACKED_WORD.match(g.text) and g.text.isupper() for g in group)


def _near(letters: str, wanted: set[str]) -> bool:
    """ "bohdanachelombytko" and bogdanacelombitko@: the same first letter, and alike as a whole."""
    return any(w[0] == letters[0] and SequenceMatcher(None, letters, w).ratio() >= SPELT_LIKE for w in wanted)


JOINED_TOP_LINES = 3
"""A name printed without its space is looked for among this many first lines of page 1."""


def joined_name(page: Sequence[Line], emails: Sequence[str]) -> str:
    """ "LORENZOBREDA" with lorenzo@lbreda.com, "merwanachibet" with achibet.merwan@...: a name whose
    space the PDF lost (a LaTeX font without a space glyph, or two weights side by side). A first line of
    one word, all capitals or all small letters, that splits into two parts of 3+ letters each spelt by
    the email address (its user or its domain) gives the name, capitalised."""
    spelt = [fold(e) for e in emails]
    for line in page[:JOINED_TOP_LINES]:
        word = line.text.strip()
        if not word.isalpha() or not (word.isupper() or word.islower()) or len(word) < 8:
            continue
        for cut in range(3, len(word) - 2):
            left, right = fold(word[:cut]), fold(word[cut:])
            if any(left in s and right in s for s in spelt):
                return f"{word[:cut].capitalize()} {word[cut:].capitalize()}"
    return ""


def lowercase_spelt(lines: Sequence[Line], locals_: Sequence[str]) -> str:
    """ "riadh ahmed" with rriadhahmed@...: a line of 2-3 words in small letters (3+ letters each, as a
    designer may print a name) whose letters, in order, are inside the email's local part, capitalised."""
    for line in lines:
        words = line.text.split()
        if not 2 <= len(words) <= 3 or not all(w.isalpha() and w.islower() and len(w) >= 3 for w in words):
            continue
        if any(fold("".join(words)) in local for local in locals_):
            return " ".join(w.capitalize() for w in words)
    return ""


ONE_WORD_MIN = 4
"""Letters a one-word name far from the contact details needs (shorter words hide in too many addresses)."""


def one_word_spelt(lines: Sequence[Line], locals_: Sequence[str]) -> str:
    """ "KOMAL" alone on a line far down page 1, with akomalkomal54@...: a designer put a one-word name in
    the body and nothing at the top reads as a name. The first line of page 1 that is one word of 4+
    letters, in capitals or capitalised, that reads as a name and that the email spells, capitalised.
    Used last, after every other way of finding a name."""
    for line in lines:
        word = line.text.strip()
        if len(word) < ONE_WORD_MIN or not word.isalpha() or not (word.isupper() or word.istitle()):
            continue
        if name_tokens(word) == [word] and any(fold(word) in local for local in locals_):
            return word.capitalize()
    return ""


SPELT_START = 5
"""Letters of a word's start that an address must hold for `long_name_spelt` ("nganadakou" for
"Nganadakoua": a long address may lose a name's last letters)."""


def long_name_spelt(tokens: Sequence[str], extra: Sequence[str], locals_: Sequence[str]) -> bool:
    """ "MOHAMED EL BACHIR" / "BOUBA NGANADAKOUA" with mohamedelbachirboubanganadakou@: a name of 5-6
    words over two lines, in one case, whose every word (the start of each, for the last line) one address
    spells in order."""
    if extra[0].isupper() != tokens[0].isupper():
        return False
    words = [fold(t) for t in tokens] + [fold(t)[:SPELT_START] for t in extra]
    for local in locals_:
        at = 0
        for word in words:
            found = local.find(word, at)
            if found < 0:
                break
            at = found + len(word)
        else:
            return True
    return False


def initials_spelt(tokens: Sequence[str], locals_: Sequence[str]) -> bool:
    """ "EDISON GEOVANNY" / "GUAICHICO PIÑAN" with egguaichicop@: an address made of the name's words in
    order, each whole or by its initial, with at least one word of 4+ letters whole (Latin American
    addresses are often the given names' initials, the first surname and the second's initial). The
    address's letters must be exactly that, nothing more."""
    words = [fold(t) for t in tokens]
    for local in locals_:
        letters = "".join(ch for ch in local if ch.isalpha())
        if _spells(words, letters, whole=False):
            return True
    return False


def _spells(words: Sequence[str], letters: str, *, whole: bool) -> bool:
    """Whether `letters` is `words` in order, each whole or its initial, at least one 4+ letter word whole."""
    if not words:
        return not letters and whole
    word, rest = words[0], words[1:]
    if len(word) >= 2 and letters.startswith(word) and _spells(rest, letters[len(word):],
                                                               whole=whole or len(word) >= 4):
        return True
    return bool(word) and letters[:1] == word[0] and _spells(rest, letters[1:], whole=whole)


SMALL_NAME_REACH = 3
"""A name in small letters on page 1's first line counts when one of this many lines under it holds
the email, a phone number or a contact heading."""
_CONTACT_HINT = re.compile(r"@|\d[\d\s().-]{6,}\d")


def small_letters_top(page: Sequence[Line]) -> str:
    """ "jhonny ferreira dos santos" over "(18) 98820-9916": a designer's name in small letters, as page
    1's first line, 2-4 words of letters (two of 3+ letters besides particles) that read as a name once
    capitalised, with the contact details right under it. Capitalised, particles kept small."""
    words = page[0].text.split() if page else []
    if not 2 <= len(words) <= 4 or not all(w.isalpha() and w.islower() for w in words):
        return ""
    own = [w for w in words if w not in NAME_PARTICLES]
    if len(own) < 2 or any(len(w) < 3 for w in own):
        return ""
    cased = [w if w in NAME_PARTICLES else w.capitalize() for w in words]
    if name_tokens(" ".join(cased)) != cased:
        return ""
    below = page[1:1 + SMALL_NAME_REACH]
    if not any(_CONTACT_HINT.search(line.text) or heading_kind(line.text) == "contact" for line in below):
        return ""
    return " ".join(cased)


_PROFILE = re.compile(r"linkedin\.com/in/([\w%-]+)", re.IGNORECASE)
_PROFILE_CUT = re.compile(r"linkedin\.com/in/?\s*$", re.IGNORECASE)
_SLUG = re.compile(r"[\w%-]+")


def profile_slugs(lines: Sequence[Line]) -> list[str]:
    """The folded letters of each LinkedIn profile address on `lines` ("linkedin.com/in/anabela-" /
    "parareda-653523229": an address LinkedIn's own PDF export wraps at a hyphen is joined): a person
    picks that slug from their name, so it vouches for the name as an email address does."""
    slugs = []
    for i, line in enumerate(lines):
        if _PROFILE_CUT.search(line.text) and i + 1 < len(lines):  # "www.linkedin.com/in" / "/Lina-Cardozo"
            wrapped = _SLUG.match((lines[i + 1].text.split() or [""])[0].lstrip("/"))
            slugs += [fold(wrapped.group())] if wrapped and len(fold(wrapped.group())) >= 6 else []
        for match in _PROFILE.finditer(line.text):
            slug = match.group(1)
            if slug.endswith("-") and match.end() == len(line.text.rstrip()) and i + 1 < len(lines):
                slug += (lines[i + 1].text.split() or [""])[0]
            if len(fold(slug)) >= 6:
                slugs.append(fold(slug))
    return slugs
