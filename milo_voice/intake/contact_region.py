"""Which regions to read a national phone number in (one printed without its country code).

The document's own signals come before the company's default region: a country named as an item of
the contact block ("Bogotá, Colombia"), the email's country domain (".cn", "unal.edu.co") or national
provider ("qq.com", "naver.com"). Then the default region, then the script of page 1 (kana -> JP, Han
-> CN, ...), a language few countries speak (Portuguese -> BR, PT) and countries named elsewhere on
page 1. A default region of the North American plan (+1) is dropped when the document points elsewhere
and nothing points to North America (a US state after a comma, a +1 country named, a .us/.ca domain):
an 11-digit Chinese mobile "1xx xxxx xxxx" or a Colombian "3xx xxx xxxx" is then read in its own
country or kept as printed (flagged), never given +1 on the default's word alone. A country of the
contact block (a US state too) comes before the email's domain: "Austin, TX" with a .de address reads
(512) 555-0147 as American.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Sequence

import phonenumbers

from milo_voice.intake.contact_email import EmailHit
from milo_voice.intake.contact_layout import Layout, Line, segments
from milo_voice.intake.contact_lexicon import (
    ACADEMIC_SLDS,
    COUNTRIES,
    COUNTRY_RE,
    COUNTRY_REGIONS,
    GENERIC_TLDS,
    LANGUAGE_MIN_HITS,
    LANGUAGE_REGIONS,
    MAIL_PROVIDER_REGIONS,
    PLACE_REGIONS,
    SCRIPT_REGIONS,
    US_STATE_NAMES,
    US_STATES,
    WORLDWIDE_PROVIDERS,
)

SCRIPT_MIN_CHARS = 20
"""Characters of a script (kana, Cyrillic, ...) that make its country a hint for national numbers."""
_STATE_AFTER_COMMA = re.compile(r",\s*([A-Z]{2})\b")
_NAME_AFTER_COMMA = re.compile(r",\s*([A-Z][a-z]+(?: [A-Z][a-z]+)?)\b")

Hint = tuple[str, str]


def region_hints(layout: Layout, emails: Sequence[EmailHit], default_region: str) -> list[Hint]:
    """Regions to read national numbers in, in order, each with why it is a candidate ("" for the
    default region)."""
    block = layout.contact_block()
    strong = [(r, "from a country or city named in the contact block") for r in block_countries(block)]
    strong += email_regions(email.value for email in emails)
    first_page = "\n".join(line.text for line in layout.lines if line.page == layout.first_page())
    script = [
        (region, f"from the {why} of the resume")
        for chars, region, why in SCRIPT_REGIONS
        if _script_count(first_page, chars) >= SCRIPT_MIN_CHARS
    ]
    language = [
        (region, f"from the {why} of the resume")
        for spelling, regions, why in LANGUAGE_REGIONS
        if len(spelling.findall(first_page)) >= LANGUAGE_MIN_HITS
        for region in regions
    ]
    named = collections.Counter(COUNTRIES[m.group().lower()] for m in COUNTRY_RE.finditer(first_page))
    page = [(region, "from a country named on page 1") for region, _ in named.most_common()]
    default: list[Hint] = [(default_region, "")]
    if (
        _plan_of(default_region) == 1
        and (strong or script)
        and not _north_american([r for r, _ in strong + script + page])
    ):
        default = []  # +1 only on a North American signal when the document points elsewhere
    own = [(r, "" if r == default_region else why) for r, why in strong]
    ordered = own + default + script + language + page
    return _unique(ordered) or [(default_region, "")]


def block_countries(block: Iterable[Line]) -> list[str]:
    """Regions of the countries named in the contact block: by the known names anywhere in a line, by
    libphonenumber's names (any language) only as a whole comma-separated item; a US state after a
    comma ("Austin, TX") names the US."""
    found = []
    for line in block:
        found += [COUNTRIES[m.group().lower()] for m in COUNTRY_RE.finditer(line.text)]
        found += ["US" for m in _STATE_AFTER_COMMA.finditer(line.text) if m.group(1) in US_STATES]
        found += ["US" for m in _NAME_AFTER_COMMA.finditer(line.text) if m.group(1).lower() in US_STATE_NAMES]
        for part in segments(line.text):
            for item in part.split(","):
                name = item.rpartition(":")[2].strip(" .").lower()  # "Ciudad: Bogotá D.C"
                region = COUNTRY_REGIONS.get(name) or PLACE_REGIONS.get(_POSTCODE.sub("", name))
                if region:
                    found.append(region)
    return found


_POSTCODE = re.compile(r"[\s\-–]*\d[\d\s\-–]*$|^\d[\d\s\-–]*")
"""A postcode before or after a city ("Mumbai - 400017", "110001 New Delhi")."""


def email_regions(addresses: Iterable[str]) -> list[Hint]:
    out = []
    for address in addresses:
        domain = address.rsplit("@", 1)[-1].lower()
        labels = domain.split(".")
        tld = labels[-1]
        region = "GB" if tld == "uk" else tld.upper()
        by_sld = len(labels) >= 3 and labels[-2] in ACADEMIC_SLDS
        if domain in WORLDWIDE_PROVIDERS:
            continue
        if len(tld) == 2 and (tld not in GENERIC_TLDS or by_sld) and region in phonenumbers.SUPPORTED_REGIONS:
            out.append((region, f"from the email's .{tld} domain"))
        elif domain in MAIL_PROVIDER_REGIONS:
            out.append((MAIL_PROVIDER_REGIONS[domain], f"from the email provider {domain}"))
    return out


def _plan_of(region: str) -> int:
    return phonenumbers.country_code_for_region(region)


def _north_american(regions: Sequence[str]) -> bool:
    return any(_plan_of(region) == 1 for region in regions)


def _unique(hints: Sequence[Hint]) -> list[Hint]:
    seen: set[str] = set()
    out = []
    for region, why in hints:
        if region not in seen and region in phonenumbers.SUPPORTED_REGIONS:
            seen.add(region)
            out.append((region, why))
    return out


def _script_count(text: str, chars: str) -> int:
    """Characters of `text` in `chars`: a range ("\u0400-\u04ff") or the letters themselves."""
    if len(chars) == 3 and chars[1] == "-":
        return sum(1 for ch in text if chars[0] <= ch <= chars[2])
    return sum(1 for ch in text if ch in chars)
