"""Which phone number reaches which interview: the one service behind the settings page, the
`milo-voice phone numbers` command and the `/api/phone-numbers` routes.

A number reaches one interview *version* (a candidate belongs to the version they were added to,
and the keypad looks codes up among that version's candidates). Mapping by slug picks the newest
published version; the listing says when a newer version has been published since, because
candidates added after that cannot be found through the number until it is mapped again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from milo_voice.calls.phone.e164 import display, to_e164
from milo_voice.calls.phone.numbers import PhoneStore, normalise_number
from milo_voice.store.repo import Clock, Invalid, NotFound
from milo_voice.store.tables import Interview, InterviewStatus, PhoneNumber, utc_now
from milo_voice.workspace.interviews import Interviews


@dataclass(frozen=True, slots=True)
class MappedNumber:
    """One number and the interview version a call to it reaches."""

    number: str
    """E.164."""
    interview_id: int
    slug: str
    title: str
    version: int
    newest_version: int | None
    """The slug's newest published version when it is newer than `version` (else None)."""
    created_at: datetime

    @property
    def display(self) -> str:
        return display(self.number)

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "interview": self.slug,
            "interview_version": self.version,
            "interview_title": self.title,
            "newer_version": self.newest_version,
            "created_at": self.created_at.isoformat(),
        }


class PhoneNumbers:
    """Map, list and unmap numbers (blocking; callers on an event loop use a thread)."""

    def __init__(self, engine: Engine, *, now: Clock = utc_now) -> None:
        self.phones = PhoneStore(engine, now=now)
        self.interviews = Interviews(engine, now=now)

    def mapped(self) -> list[MappedNumber]:
        rows = self.phones.numbers()
        newest: dict[str, int | None] = {}
        for _, interview in rows:
            if interview.slug not in newest:
                newest[interview.slug] = self._newest_published(interview.slug)
        return [_mapped(number, interview, newest[interview.slug]) for number, interview in rows]

    def add(self, number: str, slug: str, version: int | None = None) -> MappedNumber:
        """Map `number` (any readable form with its country code) to `slug`'s newest published version,
        or to `version` of it; `Invalid` for a malformed or taken number or an unpublished interview,
        `NotFound` for an unknown interview or version."""
        e164 = to_e164(number)
        taken = next((m for m in self.mapped() if m.number == e164), None)
        if taken is not None:
            reaches = f"{taken.title} ({taken.slug} version {taken.version})"
            raise Invalid(f"{e164} is already mapped to {reaches}; remove it first")
        interview = self._version(slug.strip(), version)
        assert interview.id is not None
        self.phones.add_number(e164, interview.id)
        return self._one(e164)

    def remove(self, number: str) -> MappedNumber:
        """Unmap a number; returns what it reached. `NotFound` when it is not mapped."""
        found = self._one(normalise_number(number), missing=number)
        self.phones.remove_number(found.number)
        return found

    def choices(self) -> list[Interview]:
        """What a number can be mapped to: the newest published version of each active interview."""
        out = []
        for summary in self.interviews.summaries(templates=False):
            published = self.interviews.latest_published(summary.interview.slug)
            if published is not None:
                out.append(published)
        return out

    def _one(self, e164: str, *, missing: str = "") -> MappedNumber:
        found = next((m for m in self.mapped() if m.number == e164), None)
        if found is None:
            raise NotFound(f"{(missing or e164).strip() or '(empty)'} is not mapped to any interview")
        return found

    def _version(self, slug: str, version: int | None) -> Interview:
        if not slug:
            raise Invalid("choose the interview the number should reach")
        versions = self.interviews.versions(slug)  # NotFound for an unknown slug
        published = [v for v in versions if v.status == InterviewStatus.PUBLISHED.value]
        if version is None:
            if not published:
                raise Invalid(f"interview {slug!r} has no published version; publish it first")
            return published[0]
        chosen = next((v for v in published if v.version == version), None)
        if chosen is None:
            raise NotFound(f"interview {slug!r} has no published version {version}")
        return chosen

    def _newest_published(self, slug: str) -> int | None:
        row = self.interviews.latest_published(slug)
        return row.version if row is not None else None


def _mapped(number: PhoneNumber, interview: Interview, newest: int | None) -> MappedNumber:
    return MappedNumber(
        number=number.number,
        interview_id=interview.id or 0,
        slug=interview.slug,
        title=interview.title,
        version=interview.version,
        newest_version=newest if newest is not None and newest > interview.version else None,
        created_at=number.created_at,
    )
