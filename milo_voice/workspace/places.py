"""Candidates by place (issue 17, the "map view"): grouped by country, then by city or area, offline.

We group by region rather than draw a map: a map needs coastlines and borders, and no maintained
package on the registries we can reach ships them for offline use without a tile server or a download
at run time; a list by country and place is also what a recruiter filters by. Where a candidate is
comes from what they gave: the location's first part (the city) and its last part when it names a
country; otherwise from their phone number, with libphonenumber's offline geocoding data (the
country, and for many numbers the area: "+1 415..." is "San Francisco, CA").
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import phonenumbers
from phonenumbers import geocoder

US_STATES = frozenset({
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY",
})
"""A location ending in one of these ("Oakland, CA") is in the United States (ISO codes are not used:
CA, DE, IN... would read as Canada, Germany, India)."""
POSTCODE = re.compile(r"^\s*[A-Z]{0,2}-?\d{3,6}\s+|\s+\d{3,6}\s*$")
"""A postal code before or after the city ("12345 Berlin", "D-80331 München", "Paris 75001")."""
UNKNOWN = "Unknown"
NO_PLACE = "(place not given)"


@dataclass(frozen=True, slots=True)
class Where:
    country: str
    place: str


@dataclass(slots=True)
class Place:
    name: str
    candidate_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Country:
    name: str
    places: list[Place] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(p.candidate_ids) for p in self.places)


@cache
def country_names() -> dict[str, str]:
    """Lower-case English country name (and ISO code) -> the name as libphonenumber writes it."""
    names: dict[str, str] = {}
    for region in phonenumbers.SUPPORTED_REGIONS:
        example = phonenumbers.example_number(region)
        name = geocoder.country_name_for_number(example, "en") if example else ""
        if name:
            names[name.lower()] = name
    names.update({"usa": "United States", "uk": "United Kingdom", "england": "United Kingdom",
                  "republic of korea": "South Korea", "korea": "South Korea"})
    return names


def where(location: str, phone: str, region: str = "US") -> Where:
    parts = [p.strip() for p in location.replace(";", ",").split(",") if p.strip()]
    last = parts[-1] if parts else ""
    state = last.upper() in US_STATES and len(last) == 2 and len(parts) > 1
    country = "United States" if state else country_names().get(last.lower(), "")
    number = _parse(phone, region)
    by_phone = geocoder.country_name_for_number(number, "en") if number is not None else ""
    rest = parts[:-1] if country else parts
    place = POSTCODE.sub("", rest[-1]).strip() if rest else ""  # the city: the last part before the country
    if state:
        place = f"{POSTCODE.sub('', parts[-2]).strip()}, {last.upper()}"
    if not place and number is not None:
        area = geocoder.description_for_number(number, "en")
        place = area if area and area != by_phone else ""
    return Where(country or by_phone or UNKNOWN, place or NO_PLACE)


def _parse(phone: str, region: str) -> phonenumbers.PhoneNumber | None:
    if not phone.strip():
        return None
    try:
        number = phonenumbers.parse(phone, None if phone.strip().startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def group(rows: Sequence[tuple[int, str, str]], region: str = "US") -> list[Country]:
    """(candidate id, location, phone) rows -> countries by size, places by size, then by name."""
    tree: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for cid, location, phone in rows:
        found = where(location, phone, region)
        tree[found.country][found.place].append(cid)
    countries = [Country(name, sorted((Place(p, ids) for p, ids in places.items()),
                                      key=lambda p: (-len(p.candidate_ids), p.name)))
                 for name, places in tree.items()]
    return sorted(countries, key=lambda c: (c.name == UNKNOWN, -c.count, c.name))
