"""Phone numbers: found with phonenumbers' PhoneNumberMatcher, checked, normalised to E.164.

A number printed with a country code (``+48``, ``(+82)``, ``0048``) is read as such. A national
number is read in the first region of `contact_region.region_hints` where it is valid: the country
the contact block names and the email's country domain before the company's default region, then
the script of the text (kana -> JP, Cyrillic -> RU, ...) and countries named on page 1; a +1 default
is left out when the document points elsewhere and nowhere to North America. A number valid
nowhere is kept as printed, with a low confidence, only where the resume vouches for it: a label
such as "Tel.", "Mobile", "電話", or an item of its own in the contact block ("123-456-7890 |
jake@su.edu", a line of its own).

Never phones: dates and year ranges (2019-2021, 01.02.2020), ORCID ids, DOIs, ISBNs, anything
inside a URL or an email address, Japanese postal codes (〒100-0001), numbers under 7 digits,
masked numbers (``0120-000-XXX``, ``+1 555 *** 1234``: not dialable, counted and skipped), and
numbers in publications or references sections. A number labelled Fax is not the phone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher

from milo_voice.intake.contact_layout import (
    Layout,
    Line,
    about_someone_else,
    segments,
    strip_icon,
    strip_lone_letter,
)
from milo_voice.intake.contact_lexicon import FAX_LABEL, NOT_PHONE_LABEL, PHONE_LABEL, RTL_LETTERS
from milo_voice.intake.extraction_types import FieldGuess

MIN_DIGITS = 7
MIN_STANDALONE_DIGITS = 8
"""A number valid in no region is kept (flagged) from 8 digits up when it stands alone in the block."""
_SHAPED = re.compile(r"[+(]?\d[\d\s().\-/–]{5,}\d")
_BLANKED = re.compile(
    r"[^\s|│┃•·]*(?:://|www\.|@)[^\s|│┃•·\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]*"  # URLs and email
    # addresses, up to a separator ("3221│a@b.c") or a CJK character ("...@qq.com手机号码：130...")
    r"|\b\S+\.[a-z]{2,}/\S*"  # domain/path without a scheme
    r"|\b\d{4}-\d{4}-\d{4}-\d{3}[\dXx]\b"  # ORCID
    r"|\b10\.\d{4,9}/\S+"  # DOI
    r"|\b(?:isbn|issn|arxiv|orcid|doi)\b[\s:.-]*[\dXx][\dXx\s.:/-]*"
    r"|〒\s*[\d\-]+",
    re.IGNORECASE,
)
_MASKED = re.compile(
    r"(?<!\w)\+?[\d(][\d\s().\-/]*[Xx*•]{2,}[\dXx*•\s().\-/]*(?![A-Za-z])"
    r"|(?<!\w)[Xx*]{2,}[\dXx*\s().\-/]*\d[\d\s().\-/]*"
)
_YEARS = re.compile(r"(?<!\d)(?:18|19|20)\d\d(?!\d)")
_IDD = re.compile(r"(?<![\w+])\+?00(?=\s?[1-9])")
"""The international prefix 00 before a country code ("0033 6..."), also after a plus ("+0033 6...")."""
_DATES = re.compile(
    r"\(?(?:(?:19|20)\d\d\s*[-–—/]\s*(?:(?:19|20)?\d\d)"
    r"|\d{1,2}[./-]\d{1,2}[./-](?:\d{2}|\d{4})"
    r"|\d{4}[./-]\d{1,2}(?:[./-]\d{1,2})?(?:\s*[-–—]\s*\d{4}[./-]\d{1,2}(?:[./-]\d{1,2})?)?"
    r"|\d{1,2}[./]\d{4}\s*[-–—]\s*\d{1,2}[./]\d{4}"
    r"|(?:19|20)\d\d\s+(?:0?[1-9]|1[0-2])\s*[-–—]\s*(?:0?[1-9]|1[0-2]))\)?"
)
"""Dates and periods; the last, a year and a span of months ("2020 10-12", as Taiwanese CVs print them)."""

_DAY_MONTH_YEAR = re.compile(r"(?:0?[1-9]|[12]\d|3[01])([./-])(?:0?[1-9]|1[0-2])\1(?:19|20)\d\d(?![\d./-])")
"""A calendar date with a four-digit year ("05.01.2019"), not a number grouped in twos ("06.48.79.87")."""


@dataclass(frozen=True)
class PhoneHit:
    printed: str
    e164: str
    """E.164 when the number parses with its country code or a region; "" otherwise."""
    line: Line
    labelled: bool
    fax: bool
    international: bool
    valid: bool
    region: str
    hint: str
    """Why `region` was used for a national number ("" when printed with a country code)."""


_RTL_LETTER = re.compile(f"[{RTL_LETTERS}]")
_VISUAL_ORDER = re.compile(r"(?<![\d+])(\d{5,8})-(0\d{1,2})(?![\d-])")


def _logical_order(line: Line) -> Line:
    """ "8887005-050" in a Hebrew or Arabic line: the PDF wrote a national number's groups in visual
    (right-to-left) order; the trunk prefix goes back in front ("050-8887005")."""
    if not _RTL_LETTER.search(line.text) or not _VISUAL_ORDER.search(line.text):
        return line
    return Line(line.index, line.page, _VISUAL_ORDER.sub(r"\2-\1", line.text))


def _blank(text: str) -> str:
    """The line with its non-phone spans (URLs, ids, masked numbers) blanked, offsets unchanged."""
    chars = list(_IDD.sub(lambda m: " " * (len(m.group()) - 1) + "+", text))
    for pattern in (_BLANKED, _MASKED):
        for match in pattern.finditer(text):
            chars[match.start():match.end()] = " " * (match.end() - match.start())
    return "".join(chars)


_ID_NUMBER = re.compile(r"^(?:\d{1,3}(?:\.\d{3}){2}|\d{7,9})-[\dkK]$")
"""A national id with its check digit after a hyphen (a Chilean RUT "21.078.065-3", an Ecuadorian cédula
"100466013-8"): no phone number ends with one digit set apart so."""


def _date_like(raw: str, text: str, start: int, end: int) -> bool:
    """Dates and periods: "2019-2021", "01.02.2020", "2019 – 12/2021", a number glued to a date by '/'."""
    if _DATES.fullmatch(raw) or len(_YEARS.findall(raw)) >= 2:
        return True
    head = _DAY_MONTH_YEAR.match(raw)  # "05.01.2019 (2 days)": a whole date and a few more digits
    if head and sum(c.isdigit() for c in raw[head.end():]) < MIN_DIGITS:
        return True
    glued_before = text[max(0, start - 1):start] == "/" and text[max(0, start - 2):start - 1].isdigit()
    glued_after = text[end:end + 1] == "/" and text[end + 1:end + 2].isdigit()
    if not (glued_before or glued_after):
        return False
    return not _TWO_NUMBERS.search(text[max(0, start - 16):end + 16])  # "08995861929/085641342353"


_TWO_NUMBERS = re.compile(r"(?<!\d)\d{9,13}/\d{9,13}(?!\d)")


def _label_before(layout: Layout, line: Line, text: str, start: int) -> str:
    """ "fax", "phone" or "" from the label closest before the number (same line or a bare label above)."""
    before = text[:start]
    ends = {kind: max((m.end() for m in label.finditer(before)), default=-1)
            for kind, label in (("fax", FAX_LABEL), ("phone", PHONE_LABEL), ("other", NOT_PHONE_LABEL))}
    if max(ends.values()) >= 0:
        return max(ends, key=lambda kind: ends[kind])
    if strip_icon(before).strip(" :-–") or line.index == 0:
        return ""
    above = layout.lines[line.index - 1]
    if _bare_label(above, line):  # only a bare label line ("FAX", "Mobile:") labels the number below it
        if NOT_PHONE_LABEL.search(above.text):
            return "other"  # "CÉDULA:" over "100466013-8"
        if FAX_LABEL.search(above.text):
            return "fax"
        if PHONE_LABEL.search(above.text):
            return "phone"
    return "phone" if _label_below(layout, line) else ""


def _bare_label(label: Line, line: Line) -> bool:
    return label.page == line.page and len(label.text) <= 24 and not any(c.isdigit() for c in label.text)


def _label_below(layout: Layout, line: Line) -> bool:
    """ "077-1559327" / "Phone" / "name@..." / "Email": a design that prints each label under its value.
    The number is its line's only item, the bare phone label is the next line, and the line after the
    label is no number (a label over a number of its own labels that one)."""
    below = layout.next_on_page(line)
    if below is None or any(ch.isalpha() for ch in strip_icon(line.text)) or not _bare_label(below, line):
        return False
    if not PHONE_LABEL.search(below.text) or FAX_LABEL.search(below.text):
        return False
    after = layout.next_on_page(below)
    return after is None or sum(ch.isdigit() for ch in after.text) < MIN_DIGITS


def _fax_after(text: str, end: int) -> bool:
    """ "555 0100 (fax)": a fax label right after the number that does not label a next number."""
    after = text[end:end + 24].lstrip(" ([")
    label = FAX_LABEL.match(after)
    return bool(label) and not re.match(r"[\s:.\-]*[+(\d]", after[label.end():])


def _read(raw: str, regions: Sequence[tuple[str, str]]) -> tuple[str, bool, str, str]:
    """(E.164, valid, region, hint) for the first region in which `raw` is a valid number."""
    first: tuple[str, bool, str, str] = ("", False, "", "")
    for region, hint in regions:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        if phonenumbers.is_valid_number(number):
            read_as = phonenumbers.region_code_for_number(number) if region == "ZZ" else region
            return e164, True, read_as or region, hint
        if not first[0]:
            first = (e164, False, region, hint)
    return first


def phone_hits(layout: Layout, regions: Sequence[tuple[str, str]]) -> tuple[list[PhoneHit], int]:
    """Every phone-like number outside other people's sections, and the count of masked numbers."""
    hits: list[PhoneHit] = []
    masked = 0
    joined: set[int] = set()
    for line in layout.lines:
        if line.index in layout.excluded or line.index in joined:
            continue
        line = _logical_order(line)
        rest = _rest_of_number(layout, line)
        if rest:
            joined.update(r.index for r in rest)
            line = Line(line.index, line.page, " ".join([line.text, *(r.text for r in rest)]))
        masked += sum(sum(c.isdigit() for c in m.group()) >= 3 for m in _MASKED.finditer(line.text))
        if not _SHAPED.search(line.text):
            continue
        text = _blank(line.text)
        if sum(c.isdigit() for c in text) < MIN_DIGITS:
            continue
        hits += _line_hits(layout, line, text, regions)
    return hits, masked


_AREA_CODE_ALONE = re.compile(r"^\(?\+?\d{1,4}\)?$")
_NUMBER_ALONE = re.compile(r"^\d[\d\s.\-–]{4,}\d$")
_YEAR_ALONE = re.compile(r"^(?:19|20)\d\d$")
"""A year alone on its line ("2022" over "784850805": a column of dates beside the contact lines) is no
area code."""


def _rest_of_number(layout: Layout, line: Line) -> list[Line]:
    """ "(617)" / "291-4330": a number wrapped after its area or country code, which stands alone on its
    line with the rest alone on the next line of the same page; or "+" / "420" / "608" / "255" / "197",
    a number with its country code whose every group the text layer put on a line of its own (7-15 digits
    in all; not a column of bare numbers, which may be marks or years)."""
    code = _AREA_CODE_ALONE.match(line.text) and not _YEAR_ALONE.match(line.text)
    below = layout.next_on_page(line) if code or line.text == "+" else None
    if below is not None and _NUMBER_ALONE.match(below.text):
        return [below]
    pieces: list[Line] = []
    if not line.text.lstrip("(").startswith("+"):
        return []  # only a number that starts with its country code is gathered from pieces
    while below is not None and _GROUP_ALONE.match(below.text) and len(pieces) < MAX_PIECES:
        pieces.append(below)
        below = layout.next_on_page(below)
    digits = sum(c.isdigit() for piece in [line, *pieces] for c in piece.text)
    return pieces if MIN_DIGITS <= digits <= MAX_DIGITS else []


_GROUP_ALONE = re.compile(r"^\d{1,4}$")
MAX_PIECES = 6
MAX_DIGITS = 15


def _matched(text: str, region: str) -> list[tuple[int, int, str]]:
    text = _DASH_BETWEEN.sub(lambda m: m.group().replace("–", ";").replace("—", ";"), text)  # same length
    matcher = PhoneNumberMatcher(text, region, leniency=Leniency.POSSIBLE)
    return [(m.start, m.end, m.raw_string) for m in matcher]


_DASH_BETWEEN = re.compile(r"(?<=\d)\s+[–—]\s*(?=[\d+(])")
"""A spaced dash between two numbers ("Cel. 3215881812 – 3123533043 -8147944") parts them: read as one
run, PhoneNumberMatcher kept only the last piece."""


def _matches(text: str, regions: Sequence[tuple[str, str]]) -> list[tuple[int, int, str]]:
    """(start, end, raw) of the numbers PhoneNumberMatcher finds with the default region; a phone-shaped
    run it leaves uncovered (a national number of another country) is matched with the hint regions,
    when a hint's numbers take all of its digits."""
    found = _matched(text, regions[0][0])
    for run in _SHAPED.finditer(text):
        covered = any(s < run.end() and run.start() < e for s, e, _ in found)
        if covered or sum(c.isdigit() for c in run.group()) < MIN_DIGITS:
            continue
        digits = sum(c.isdigit() for c in run.group())
        for region, _ in regions[1:]:
            extra = [(s, e, raw) for s, e, raw in _matched(text, region) if s < run.end() and run.start() < e]
            if extra and sum(c.isdigit() for _, _, raw in extra for c in raw) >= digits:  # not "(11) [9...]"
                found += extra
                break
        else:
            if "+" not in text[max(0, run.start() - 2):run.end()]:
                found += _pieces(run)  # a national number possible nowhere:
    return sorted(found)  # kept only when labelled or an item of its own (own_phones)


_BETWEEN_NUMBERS = re.compile(r"\s+/\s+|\s*;\s*")


def _pieces(run: re.Match[str]) -> list[tuple[int, int, str]]:
    """ "7838 6941 / 7908 7210": two numbers printed as one run with a spaced slash between them are two
    numbers, when each has the digits of a phone number; otherwise the run is one number."""
    bounds, start = [], 0
    for cut in _BETWEEN_NUMBERS.finditer(run.group()):
        bounds.append((start, cut.start()))
        start = cut.end()
    bounds.append((start, len(run.group())))
    if len(bounds) < 2 or any(sum(c.isdigit() for c in run.group()[a:b]) < MIN_DIGITS for a, b in bounds):
        return [(run.start(), run.end(), run.group())]
    return [(run.start() + a, run.start() + b, run.group()[a:b]) for a, b in bounds]


def _line_hits(layout: Layout, line: Line, text: str, regions: Sequence[tuple[str, str]]) -> list[PhoneHit]:
    out = []
    for start, end, raw_string in _matches(text, regions):
        raw = raw_string.strip()
        if sum(c.isdigit() for c in raw) < MIN_DIGITS or _date_like(raw, text, start, end):
            continue
        if _ID_NUMBER.match(raw):
            continue
        international = raw.lstrip("( ").startswith("+")
        e164, valid, region, hint = _read(raw, [("ZZ", "")] if international else regions)
        label = _label_before(layout, line, text, start)
        printed = line.text[start:end].strip()
        if label == "other" or about_someone_else(text, start, whole_line=True):
            continue  # "ID:", "Passport No.", "DOB", "PIN", ...; "References: Pat Lee, +1 ..."
        fax = label == "fax" or _fax_after(text, end)
        out.append(PhoneHit(printed, e164, line, label == "phone", fax, international, valid, region, hint))
    return out


def _standalone(hit: PhoneHit) -> bool:
    """Whether the number is a whole item of its line ("123-456-7890 | jake@su.edu", or a line of its
    own bar an icon): how a contact block prints a phone, even a template's made-up one."""
    if sum(c.isdigit() for c in hit.printed) < MIN_STANDALONE_DIGITS:
        return False
    items = [strip_lone_letter(strip_icon(part)).strip(" :-–") for part in segments(hit.line.text)]
    return any(hit.printed in (item, *_BETWEEN_NUMBERS.split(item)) for item in items)


def own_phones(hits: list[PhoneHit], block: set[int], first_page: int) -> list[PhoneHit]:
    """The candidate's phones (no fax), valid ones first, each number once: in the contact block, or
    labelled (anywhere when valid, on the first page when not)."""
    own = []
    for hit in hits:
        if hit.fax:
            continue
        in_block = hit.line.index in block
        labelled = hit.labelled and (hit.valid or in_block or hit.line.page == first_page)
        if labelled or (in_block and (hit.valid or hit.international or _standalone(hit))):
            own.append(hit)
    # labelled: "Teléfono" over it; among numbers valid nowhere, one printed as a phone ("(11) 94468-1895")
    # over a bare run of digits, which is as often a postcode ("Atibaia - SP - 12947260")
    own.sort(key=lambda h: (not h.valid, not h.labelled, not h.valid and h.printed.isdigit(), h.line.index))
    seen: set[str] = set()
    unique = []
    for hit in own:
        key = _digits_key(hit)
        if key not in seen:
            seen.add(key)
            unique.append(hit)
    return unique


def _digits_key(hit: PhoneHit) -> str:
    return hit.e164 if hit.valid else "".join(c for c in hit.printed if c.isdigit()).lstrip("0")


def phone_value(hit: PhoneHit) -> str:
    """E.164 when the number is valid or printed with its country code; else as printed."""
    return hit.e164 if (hit.valid or hit.international) and hit.e164 else hit.printed


def phone_guess(own: list[PhoneHit], default_region: str, masked: int) -> FieldGuess:
    if not own:
        skipped = f" ({masked} masked number(s) skipped)" if masked else ""
        return FieldGuess.missing(f"no phone number found{skipped}")
    hit = own[0]
    if hit.valid and hit.international:
        return FieldGuess(hit.e164, 0.95, "")
    if hit.valid and not hit.hint:
        return FieldGuess(hit.e164, 0.75, f"phone has no country code; read as {hit.region}")
    if hit.valid:
        return FieldGuess(hit.e164, 0.6, f"phone has no country code; read as {hit.region} ({hit.hint})")
    if hit.international:
        why = "phone has a country code but is not a valid number for it"
        return FieldGuess(phone_value(hit), 0.5, why)
    why = f"phone has no country code and is not a valid {default_region} number; kept as printed"
    return FieldGuess(hit.printed, 0.4, why)
