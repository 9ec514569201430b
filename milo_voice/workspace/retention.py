"""Retention windows (issue 20 item 3): which data is past its window, decided on a clock. Pure: no
database, no files; `retention_sweep` does the removing and `retention_store` keeps the windows.

Four windows, in whole days, one per kind of data (`Category`); None keeps that kind until it is
erased. No saved row (`compliance_settings`) and no MILO_* default: every window is None, so a new
install keeps everything until an admin sets a window on Settings > Retention.

A window counts from when the data was finished:
- recordings and transcripts: when the interview session ended (`interview_session.ended_at`; a live
  session has not ended and is never due); stage answers (forms, SMS, assessments) from when the
  stage finished (`candidate_stage.finished_at`);
- scores: when the score was made (`score.created_at`); stage scores from when the stage finished;
- messages: when a message was sent (`outreach_message.sent_at`; one never sent, failed or
  suppressed, from when it was due), when a reply was received (`inbound_message.received_at`).

Data is due once it is strictly older than its window: with 30 days, a session that ended 30 days
ago to the second is kept, one that ended 30 days and 1 s ago is removed. `cutoff` is the same rule
as a timestamp for SQL: due exactly when `at < cutoff`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

MIN_DAYS, MAX_DAYS = 1, 3650
"""The windows an admin may set (one day to ten years)."""


class Category(StrEnum):
    RECORDINGS = "recordings"
    """The session's audio and video files (the session row stays, marked)."""
    TRANSCRIPTS = "transcripts"
    """Turns' text and word timings; stage answers (what the candidate typed or texted)."""
    SCORES = "scores"
    """Score runs with their quoted evidence; stage scores, evidence and judgement details."""
    MESSAGES = "messages"
    """Outreach message subjects and bodies; the text of inbound replies."""


LABELS: dict[Category, str] = {
    Category.RECORDINGS: "Recordings (audio and video)",
    Category.TRANSCRIPTS: "Transcripts and stage answers",
    Category.SCORES: "Scores and evidence",
    Category.MESSAGES: "Messages (email and SMS text)",
}


class RetentionRow(Protocol):
    """The columns of `compliance_settings` a policy is read from."""

    recordings_days: int | None
    transcripts_days: int | None
    scores_days: int | None
    messages_days: int | None


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """The workspace's windows in days; None keeps that kind of data until it is erased."""

    recordings_days: int | None = None
    transcripts_days: int | None = None
    scores_days: int | None = None
    messages_days: int | None = None

    def __post_init__(self) -> None:
        for category in Category:
            days = self.days(category)
            if days is not None and not MIN_DAYS <= days <= MAX_DAYS:
                raise ValueError(f"{category.value}: {days} days; expected {MIN_DAYS} to {MAX_DAYS}, or None")

    @classmethod
    def from_row(cls, row: RetentionRow | None) -> RetentionPolicy:
        """The saved windows; no row: keep everything."""
        if row is None:
            return cls()
        return cls(row.recordings_days, row.transcripts_days, row.scores_days, row.messages_days)

    def days(self, category: Category) -> int | None:
        value: int | None = getattr(self, f"{category.value}_days")
        return value

    def window(self, category: Category) -> timedelta | None:
        days = self.days(category)
        return None if days is None else timedelta(days=days)

    def cutoff(self, category: Category, now: datetime) -> datetime | None:
        """Data of `category` finished before this instant is due; None: the category is kept."""
        window = self.window(category)
        return None if window is None else now - window

    @property
    def keeps_everything(self) -> bool:
        return all(self.days(c) is None for c in Category)

    def as_dict(self) -> dict[str, int | None]:
        """JSON-safe, for the audit trail: {"recordings": 30, "transcripts": None, ...}."""
        return {c.value: self.days(c) for c in Category}


MARK = "retention"
"""The key, in a row's JSON (a session's `settings`, a stage's `detail`), of what retention removed
and when: {"retention": {"recording": "2027-01-31T10:00:00+00:00", "transcript": ...}}."""
RECORDING, TRANSCRIPT, ANSWERS, SCORES = "recording", "transcript", "answers", "scores"
REMOVED_REASON = "Removed by retention"
"""A stage's reason once retention removed its score and evidence (the status, the decision, stays)."""


def with_mark(record: Mapping[str, Any] | None, what: str, at: datetime) -> dict[str, Any]:
    """A copy of `record` noting that retention removed `what` at `at`."""
    out = dict(record or {})
    marks = out.get(MARK)
    out[MARK] = {**(marks if isinstance(marks, dict) else {}), what: at.isoformat()}
    return out


def has_mark(record: Mapping[str, Any] | None, what: str) -> bool:
    marks = (record or {}).get(MARK)
    return isinstance(marks, dict) and what in marks


def expired(now: datetime, at: datetime | None, days: int | None) -> bool:
    """Whether data finished at `at` is past a window of `days` at `now` (never when either is None)."""
    if at is None or days is None:
        return False
    return now - at > timedelta(days=days)


K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Dated(Generic[K]):
    """One piece of data as retention sees it: what it is, which window applies, when it finished."""

    key: K
    category: Category
    at: datetime | None
    """When its window starts counting; None: not finished (a live session), never due."""


def due(now: datetime, policy: RetentionPolicy, items: Iterable[Dated[K]]) -> list[Dated[K]]:
    """The items past their category's window at `now`, in the order given."""
    return [item for item in items if expired(now, item.at, policy.days(item.category))]


def parse_days(raw: str, label: str) -> tuple[int | None, str]:
    """A window as typed on the settings page: blank keeps (None); else a whole number of days from
    `MIN_DAYS` to `MAX_DAYS`. Returns (days, "") or (None, the error to show)."""
    text = raw.strip()
    if not text:
        return None, ""
    if not text.isdigit() or not MIN_DAYS <= int(text) <= MAX_DAYS:
        return None, (
            f"{label}: a whole number of days from {MIN_DAYS} to {MAX_DAYS}, "
            "or leave it blank to keep it until it is erased"
        )
    return int(text), ""


def parse_policy(fields: dict[str, str]) -> tuple[RetentionPolicy | None, dict[str, str]]:
    """The policy from the page's fields (`<category>_days`), or the errors by field name."""
    values: dict[str, int | None] = {}
    errors: dict[str, str] = {}
    for category in Category:
        name = f"{category.value}_days"
        days, error = parse_days(fields.get(name, ""), LABELS[category])
        if error:
            errors[name] = error
        values[name] = days
    if errors:
        return None, errors
    return RetentionPolicy(**values), {}


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep removed, by category: counts only (no ids, names or text), for the audit trail."""

    at: datetime
    windows: dict[str, int | None]
    removed: dict[str, dict[str, int]]
    errors: Sequence[str] = ()
    """What failed this round (left for the next one): kinds of failure, never personal data."""

    @property
    def total(self) -> int:
        return sum(n for counts in self.removed.values() for name, n in counts.items() if name != "bytes")

    def detail(self) -> dict[str, Any]:
        return {
            "job": "retention",
            "windows": dict(self.windows),
            "removed": dict(self.removed),
            "total": self.total,
            "errors": list(self.errors),
        }
