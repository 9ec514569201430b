"""The candidate's location: a labelled one ("Location:", "Address", "Adresse", "現住所"), else the
first address-like run of lines in the contact block.

Address-like: a street line ("Musterweg 42", "221B Baker Street"), a postcode and town ("12345 Berlin",
"SW1A 1AA", "〒100-0001"), "City, Country" or "City, ST" with a known country or a US state /
Canadian or Australian region code ("Delhi, India", "Ithaca, NY 14850"), or a country on its own.
A run of consecutive address-like lines is joined with ", ". Only the contact block counts, so job
and school cities under Experience or Education, and a cover letter's recipient address printed
after the candidate's own block, are not taken.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from milo_voice.intake.contact_layout import Layout, Line, icon_letter_block, segments, strip_lone_letter
from milo_voice.intake.contact_lexicon import (
    COUNTRY_NAMES,
    COUNTRY_RE,
    EMAIL_LABEL,
    LOCATION_LABELLED,
    PHONE_LABEL,
    REGIONS_OF_STATES,
    TITLE_WORDS,
    US_STATES,
)
from milo_voice.intake.extraction_types import FieldGuess

_STREET_WORDS = (r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|way|court|ct|place|pl|"
                 r"square|sq|terrace|highway|hwy|parkway|pkwy|close|crescent|row")
_STREET_FIRST = (r"rue|avenue|av|boulevard|bd|chemin|allée|impasse|cours|quai|route|place|passage|via|viale|"
                 r"corso|piazza|calle|avenida|paseo|plaza|carrera|rua|travessa|praça|ulica|ul")
_STREET_SUFFIX = (r"straße|strasse|str|weg|gasse|allee|platz|ring|damm|ufer|chaussee|straat|laan|plein|"
                  r"gracht|gade|vej|gatan|vägen|väg|veien|gata|katu|tie")
_STREET = re.compile(
    rf"^\d+[A-Za-z]?,?\s+[\w.' -]+\b(?:{_STREET_WORDS})\b\.?(?:,?\s*(?:apt|suite|unit|#)\s*\S+)?$"
    rf"|^\d+[A-Za-z]?,?\s+(?:{_STREET_FIRST})\b\.?\s+[\w.'’ -]+$"
    rf"|^(?:{_STREET_FIRST})\b\.?\s+[\w.'’ -]+\s\d{{1,4}}[a-zA-Z]?(?:\s*[-/]\s*\d{{1,4}})?$"  # Rue X 34
    rf"|^[^\W\d_][\w'’ -]{{0,40}}(?:{_STREET_SUFFIX})\.?\s\d{{1,4}}[a-zA-Z]?(?:\s*[-/]\s*\d{{1,4}})?$",
    re.IGNORECASE,
)
_POSTAL = re.compile(
    r"^(?:[A-Z]{1,2}-)?\d{4,6}\s+[^\W\d_][\w.'-]*(?:\s[^\W\d_][\w.'-]*){0,2}$"  # 12345 Berlin
    r"|^[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}(?:\s+[^\W\d_][\w' -]+)?$"  # UK postcode
    r"|^〒\s*\d{3}-?\d{4}"  # Japan
)
_POSTCODE = re.compile(r"\d{4,6}(?:-\d{4})?")
_POSTAL_ONLY = re.compile(r"^(?:〒\s*)?\d{3}[-\s]?\d{3,4}$")
_CUT = re.compile(r"\s+(?=(?:e-?mail|phone|tel|mobile|www\.|https?://)\b)|\S+@\S+", re.IGNORECASE)
_TRAILING = " -–—,;:|."
_STATE = re.compile(r"([A-Z]{2,3})(?:\s+\d{5}(?:-\d{4})?)?")
_PLACE_CONNECTORS = frozenset(
    ("of", "de", "la", "le", "del", "da", "do", "am", "an", "upon", "on", "sur", "en", "the", "y"))


def _part(text: str) -> str:
    """The text before any email, phone or URL on the same line, without trailing punctuation."""
    return _CUT.split(text, maxsplit=1)[0].strip(_TRAILING + " ")


def _city_region(text: str) -> bool:
    parts = [p.strip() for p in text.split(",")]
    if not 2 <= len(parts) <= 4 or any(not p or len(p.split()) > 4 or any(c.isdigit() for c in p)
                                       for p in parts[:-1]):
        return False
    if _country_first(parts):
        return True
    words = " ".join(p for p in parts if not _POSTCODE.fullmatch(p)).split()
    if not all(w[0].isupper() or w.lower() in _PLACE_CONNECTORS for w in words):
        return False
    if any(w.lower().strip(".") in TITLE_WORDS for w in words):
        return False
    if len(parts) >= 3 and _POSTCODE.fullmatch(parts[-1]):
        parts = parts[:-1]  # "Sunderland, MA, 01375": the postcode printed after the state
    last = parts[-1]
    return bool(COUNTRY_RE.fullmatch(last)) or _is_state(last) or last.lower() in COUNTRY_NAMES


def _country_first(parts: Sequence[str]) -> bool:
    """ "Perú, Santa anita, Los Pinos": a country (any language libphonenumber names), then districts,
    each a capitalised item of at most 4 words with no digits (the country vouches for the line)."""
    if parts[0].lower() not in COUNTRY_NAMES:
        return False
    rest = parts[1:]
    if any(w.lower().strip(".") in TITLE_WORDS for p in rest for w in p.split()):
        return False
    return all(p[0].isupper() and len(p.split()) <= 4 and not any(c.isdigit() for c in p) for p in rest)


def _is_state(text: str) -> bool:
    """A US state or a Canadian / Australian region code, maybe with a ZIP code: "NY", "CA 94043"."""
    state = _STATE.fullmatch(text)
    return bool(state) and state.group(1) in US_STATES | REGIONS_OF_STATES


def address_kind(text: str) -> str:
    """ "street", "postal", "place" or "country" when `text` reads as part of an address, else ""."""
    if not text or "@" in text or len(text) > 80:
        return ""
    if COUNTRY_RE.fullmatch(text):
        return "country"
    if _city_region(text):
        return "place"
    if _POSTAL.match(text):
        return "postal"
    if _STREET.match(text) and not PHONE_LABEL.match(text):
        return "street"
    return _one_line_address(text)


def _one_line_address(text: str) -> str:
    """ "12 rue de la Paix, 75002 Paris", "123 Main Street, Springfield, IL 62701": a street or postcode
    part, the other parts places, postcodes, states or countries."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) < 2 or not all(parts):
        return ""
    kinds = [address_kind(p) if "," not in p else "" for p in parts]
    if not any(k in ("street", "postal") for k in kinds):
        return ""
    for part, kind in zip(parts, kinds, strict=True):
        if kind or _is_state(part):
            continue
        words = part.split()
        if len(words) > 3 or any(c.isdigit() for c in part) or not all(w[0].isupper() for w in words):
            return ""
        if any(w.lower() in TITLE_WORDS for w in words):
            return ""
    return "street"


def _parts_of(line: Line, icons: bool) -> list[str]:
    text = strip_lone_letter(line.text) if icons else line.text
    return [_part(seg) for seg in segments(text)]


def _address_run(block: Sequence[Line]) -> str:
    icons = icon_letter_block(list(block))
    run: list[str] = []
    previous = -2
    for line in block:
        kinds = [(part, address_kind(part)) for part in _parts_of(line, icons)]
        found = [(part, kind) for part, kind in kinds if kind]
        if not found:
            if run:
                break
            continue
        if run and line.index != previous + 1:
            break
        run += [part for part, _ in found]
        previous = line.index
        if any(kind == "place" for _, kind in found):
            break
    return ", ".join(run)


def _labelled(lines: Sequence[Line], layout: Layout) -> str:
    for line in lines:
        match = LOCATION_LABELLED.match(line.text)
        if not match:
            continue
        if not match.group("value").strip(" :：-–—"):
            value = _below_bare_label(layout, line)
            if value:
                return value
            continue
        value = _part(segments(match.group("value"))[0]) if segments(match.group("value")) else ""
        if not value or EMAIL_LABEL.match(value) or (any(c.isdigit() for c in value) and len(value) < 5):
            continue
        if _POSTAL_ONLY.match(value) and line.index + 1 < len(layout.lines):
            value = f"{value} {layout.lines[line.index + 1].text}"
        return _wrapped(layout, line, value, match.group("value").rstrip().endswith(","))
    return ""


def _below_bare_label(layout: Layout, line: Line) -> str:
    """The value under a label printed alone ("Address:" / "Hill Road 4, Kisumu"), as forms and text
    boxes print it; not another label's line, a heading, an email or a phone. Where a heading comes
    under the label, the value above it: a design tool may write each label after its value ("Trichy,
    Tamilnadu" / "Address:" / "TECH SKILLS")."""
    below = layout.next_on_page(line)
    if below is not None and below.index in layout.headings:
        above = layout.lines[line.index - 1] if line.index else None
        below = above if above is not None and above.page == line.page else None
    if below is None or below.index in layout.headings:
        return ""
    parts = segments(below.text)
    value = _part(parts[0]) if parts else ""
    labelled = LOCATION_LABELLED.match(below.text) or EMAIL_LABEL.match(value) or PHONE_LABEL.match(value)
    if not value or labelled or "@" in value or sum(c.isdigit() for c in value) >= 7 or len(value) > 80:
        return ""
    return value


def _wrapped(layout: Layout, line: Line, value: str, open_end: bool) -> str:
    """A labelled street or an unfinished value ("Kisii,") continued on the next line by a postcode and
    town, a place or a country ("Anschrift: Mühlfeldstraße 16" / "4690 Schwanenstadt")."""
    below = layout.next_on_page(line)
    if below is None or not (open_end or address_kind(value) == "street"):
        return value
    parts = segments(below.text)
    rest = _part(parts[0]) if parts else ""
    continued = address_kind(rest) in ("postal", "place", "country") if rest else False
    if continued and not LOCATION_LABELLED.match(below.text):
        return f"{value}, {rest}"
    return value


def location_guess(layout: Layout, block: Sequence[Line]) -> FieldGuess:
    usable = [line for line in block if line.index not in layout.excluded]
    value = _labelled(usable, layout)
    if value:
        return FieldGuess(value, 0.85, "")
    page = [line for line in layout.lines if line.page == layout.first_page()
            and line.index not in layout.excluded]
    value = _labelled(page, layout)
    if value:
        return FieldGuess(value, 0.7, "location label found outside the contact block")
    value = _address_run(usable)
    if value:
        return FieldGuess(value, 0.7, "location read from the contact block (no label)")
    return FieldGuess.missing("no location in the contact block")
