"""Per-interview analytics: funnel counts, completion rate, median duration, activity per day. Pure.

Input is plain rows (candidates and their sessions); the repository gathers them. "Started" means
at least one session; "completed" means a completed session. Activity counts candidates added and
sessions completed per UTC day over the last `days` days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median

from milo_voice.store.tables import Candidate, InterviewSession, SessionStatus


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    added: int
    completed: int


@dataclass(slots=True)
class Analytics:
    candidates: int = 0
    started: int = 0
    completed: int = 0
    median_duration_s: float | None = None
    activity: list[Day] = field(default_factory=list)
    recent: list[Candidate] = field(default_factory=list)

    @property
    def completion_rate(self) -> float | None:
        """Completed over started (None before anyone started)."""
        return self.completed / self.started if self.started else None

    @property
    def empty(self) -> bool:
        return self.candidates == 0


def compute(
    candidates: Sequence[Candidate],
    sessions: Sequence[InterviewSession],
    *,
    today: datetime,
    days: int = 30,
    recent: int = 10,
) -> Analytics:
    out = Analytics(candidates=len(candidates))
    started = {s.candidate_id for s in sessions}
    done = [s for s in sessions if s.status == SessionStatus.COMPLETED.value]
    out.started = len(started)
    out.completed = len({s.candidate_id for s in done})
    durations = [s.duration_s for s in done if s.duration_s is not None]
    out.median_duration_s = median(durations) if durations else None
    first = today.date() - timedelta(days=days - 1)
    added: dict[date, int] = {}
    for c in candidates:
        added[c.created_at.date()] = added.get(c.created_at.date(), 0) + 1
    finished: dict[date, int] = {}
    for s in done:
        when = (s.ended_at or s.started_at).date()
        finished[when] = finished.get(when, 0) + 1
    out.activity = [
        Day(d, added.get(d, 0), finished.get(d, 0)) for d in (first + timedelta(days=i) for i in range(days))
    ]
    out.recent = sorted(candidates, key=lambda c: (c.created_at, c.id or 0), reverse=True)[:recent]
    return out


def chart_points(activity: Sequence[Day], *, width: int = 600, height: int = 120) -> dict[str, object]:
    """Geometry of the inline SVG activity chart: one bar pair per day, scaled to the busiest day."""
    peak = max((max(d.added, d.completed) for d in activity), default=0) or 1
    step = width / max(len(activity), 1)
    bars = []
    for i, d in enumerate(activity):
        x = i * step
        for j, (value, kind) in enumerate(((d.added, "added"), (d.completed, "completed"))):
            h = value / peak * (height - 20)
            bars.append(
                {
                    "x": round(x + j * step / 2 + 1, 1),
                    "y": round(height - h, 1),
                    "w": round(step / 2 - 2, 1),
                    "h": round(h, 1),
                    "kind": kind,
                    "label": f"{d.day.isoformat()}: {value} {kind}",
                }
            )
    return {"width": width, "height": height, "bars": bars, "peak": peak}
