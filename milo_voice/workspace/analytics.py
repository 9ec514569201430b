"""Analytics of one interview or the whole workspace: the funnel and a per-UTC-day series. Pure.

Input is plain rows (candidates and their sessions); the repository gathers them. The funnel
counts candidates over all time: "started" means at least one session, "completed" a completed
session. The series counts over the last `days` UTC days (`Window`, today included): candidates
by the day they were added, sessions (attempts, retakes included) by the day they started. Of
the sessions started on a day, "completed" are those that completed (whenever they ended, so a
session that crosses midnight counts on the day it started), the completion rate is completed
over started (a session still live counts as started), and the median duration is over the
completed ones. Spend and savings over the same sessions are in `workspace/spend.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import median

from milo_voice.store.repo import Invalid
from milo_voice.store.tables import Candidate, InterviewSession, SessionStatus
from milo_voice.workspace.spend import Savings, Spend, hours_saved, spend_of

DEFAULT_DAYS = 30
MIN_DAYS, MAX_DAYS = 7, 365
"""Bounds of `?days=`: a week at least, a year at most (365 bars still fit the chart)."""


def parse_days(raw: str | None) -> int:
    """The `days` query parameter: absent means `DEFAULT_DAYS`; anything but 7..365 is `Invalid`."""
    if raw is None or raw == "":
        return DEFAULT_DAYS
    text = raw.strip()
    if not text.isdigit() or not MIN_DAYS <= int(text) <= MAX_DAYS:
        raise Invalid(f"days={raw!r}: expected a whole number of days from {MIN_DAYS} to {MAX_DAYS}")
    return int(text)


def utc_day(moment: datetime) -> date:
    """The UTC calendar day of `moment` (a naive datetime is taken to be UTC already)."""
    return moment.date() if moment.tzinfo is None else moment.astimezone(UTC).date()


@dataclass(frozen=True, slots=True)
class Window:
    """The last `days` UTC days, `last` (today) included."""

    first: date
    last: date

    @classmethod
    def ending(cls, today: datetime, days: int) -> Window:
        last = utc_day(today)
        return cls(last - timedelta(days=days - 1), last)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def since(self) -> datetime:
        """Midnight UTC at the start of the first day (what the repository filters from)."""
        return datetime.combine(self.first, time(), UTC)

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]

    def holds(self, moment: datetime) -> bool:
        return self.first <= utc_day(moment) <= self.last


def _completed(s: InterviewSession) -> bool:
    return s.status == SessionStatus.COMPLETED.value


def _median_duration(sessions: Iterable[InterviewSession]) -> float | None:
    durations = [s.duration_s for s in sessions if _completed(s) and s.duration_s is not None]
    return median(durations) if durations else None


@dataclass(frozen=True, slots=True)
class Day:
    """One UTC day of the series."""

    day: date
    added: int = 0
    """Candidates added that day."""
    started: int = 0
    """Sessions started that day."""
    completed: int = 0
    """Of those, the ones that completed."""
    median_duration_s: float | None = None
    """Median length (s) of those completed sessions; None when there are none."""

    @property
    def completion_rate(self) -> float | None:
        """Completed over started (None on a day nobody started)."""
        return self.completed / self.started if self.started else None


def daily(candidates: Sequence[Candidate], sessions: Sequence[InterviewSession], window: Window) -> list[Day]:
    """One `Day` per day of `window`, oldest first, zeros included; rows outside it are ignored."""
    added: dict[date, int] = {}
    for c in candidates:
        added[utc_day(c.created_at)] = added.get(utc_day(c.created_at), 0) + 1
    by_day: dict[date, list[InterviewSession]] = {}
    for s in sessions:
        by_day.setdefault(utc_day(s.started_at), []).append(s)
    out = []
    for d in window.dates():
        started = by_day.get(d, [])
        out.append(
            Day(d, added.get(d, 0), len(started), sum(map(_completed, started)), _median_duration(started))
        )
    return out


@dataclass(frozen=True, slots=True)
class Period:
    """The series over a window, its totals, and the spend and savings of its sessions."""

    window: Window
    days: list[Day]
    spend: Spend
    saved: Savings
    median_duration_s: float | None
    """Median length (s) of all completed sessions started in the window."""

    @property
    def added(self) -> int:
        return sum(d.added for d in self.days)

    @property
    def started(self) -> int:
        return sum(d.started for d in self.days)

    @property
    def completed(self) -> int:
        return sum(d.completed for d in self.days)

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.started if self.started else None

    @property
    def empty(self) -> bool:
        return self.added == 0 and self.started == 0


def period(
    candidates: Sequence[Candidate],
    sessions: Sequence[InterviewSession],
    *,
    today: datetime,
    days: int = DEFAULT_DAYS,
    cpu_price_per_hour: float,
    minutes_per_screen: float,
) -> Period:
    """The last `days` UTC days up to `today`: series, totals, spend and hours saved."""
    window = Window.ending(today, days)
    inside = [s for s in sessions if window.holds(s.started_at)]
    series = daily([c for c in candidates if window.holds(c.created_at)], inside, window)
    completed = sum(d.completed for d in series)
    return Period(
        window,
        series,
        spend_of(inside, cpu_price_per_hour=cpu_price_per_hour),
        hours_saved(completed, minutes_per_screen=minutes_per_screen),
        _median_duration(inside),
    )


@dataclass(slots=True)
class Analytics:
    """One interview's funnel over all time, and its newest candidates."""

    candidates: int = 0
    started: int = 0
    completed: int = 0
    median_duration_s: float | None = None
    recent: list[Candidate] = field(default_factory=list)

    @property
    def completion_rate(self) -> float | None:
        """Completed over started (None before anyone started)."""
        return self.completed / self.started if self.started else None

    @property
    def empty(self) -> bool:
        return self.candidates == 0


def compute(
    candidates: Sequence[Candidate], sessions: Sequence[InterviewSession], *, recent: int = 10
) -> Analytics:
    """The funnel: candidates, those who started, those who completed, median completed length."""
    out = Analytics(candidates=len(candidates))
    out.started = len({s.candidate_id for s in sessions})
    out.completed = len({s.candidate_id for s in sessions if _completed(s)})
    out.median_duration_s = _median_duration(sessions)
    out.recent = sorted(candidates, key=lambda c: (c.created_at, c.id or 0), reverse=True)[:recent]
    return out
