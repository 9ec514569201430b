"""What interviews cost and what they save, as simple formulas over session rows. Pure.

- Interview minutes: the sum of `duration_s` (the recording's length) of the sessions that have
  ended, / 60. A session still live has neither length nor CPU yet; it is left out until it ends.
- Compute: the sum of `cpu_s` of those sessions (the CPU seconds their speech work cost, as
  `calls.session_store.SessionStore.end_session` stores it). A session without `cpu_s` (ended
  before it was measured, or by a crash recovery) counts 0 and is reported as not measured.
  Cost (USD) = CPU seconds / 3600 x `MILO_CPU_PRICE_PER_HOUR`.
- Recruiter hours saved (an estimate): completed interviews x `MILO_MINUTES_PER_SCREEN` / 60.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from milo_voice.store.tables import InterviewSession, SessionStatus


@dataclass(frozen=True, slots=True)
class Spend:
    sessions: int
    """Sessions that have ended (the ones counted)."""
    interview_s: float
    """Their summed length (s)."""
    cpu_s: float
    """Their summed measured CPU (s)."""
    measured_s: float
    """Summed length (s) of the sessions that carry a CPU measurement."""
    not_measured: int
    """Of them, sessions without a CPU measurement (counted as 0 CPU)."""
    price_per_cpu_hour: float
    """USD per CPU-hour the cost was computed with."""

    @property
    def interview_minutes(self) -> float:
        return self.interview_s / 60

    @property
    def cpu_hours(self) -> float:
        return self.cpu_s / 3600

    @property
    def cost_usd(self) -> float:
        return self.cpu_hours * self.price_per_cpu_hour

    @property
    def cpu_s_per_interview_minute(self) -> float | None:
        """Measured CPU seconds per minute of the measured sessions (None when nothing is measured)."""
        return None if self.measured_s <= 0 else self.cpu_s / (self.measured_s / 60)


def spend_of(sessions: Sequence[InterviewSession], *, cpu_price_per_hour: float) -> Spend:
    """Minutes, CPU and cost of the sessions in `sessions` that have ended."""
    ended = [s for s in sessions if s.status != SessionStatus.LIVE.value]
    measured = [s for s in ended if s.cpu_s is not None]
    return Spend(
        sessions=len(ended),
        interview_s=sum(s.duration_s or 0.0 for s in ended),
        cpu_s=sum(s.cpu_s or 0.0 for s in measured),
        measured_s=sum(s.duration_s or 0.0 for s in measured),
        not_measured=len(ended) - len(measured),
        price_per_cpu_hour=cpu_price_per_hour,
    )


@dataclass(frozen=True, slots=True)
class Savings:
    """Recruiter time the completed interviews stood in for: an estimate, not a measurement."""

    completed: int
    minutes_per_screen: float

    @property
    def hours(self) -> float:
        return self.completed * self.minutes_per_screen / 60


def hours_saved(completed: int, *, minutes_per_screen: float) -> Savings:
    return Savings(completed, minutes_per_screen)
