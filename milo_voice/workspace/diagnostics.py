"""Timing diagnostics of one interview for the recruiter, from its stored timed events. Pure.

What a reviewer needs to judge the conversation rather than the system: how long the candidate
waited after each answer (dead air), how often they talked over the interviewer (barge-ins, and
those that turned out to be noise), and how often the interviewer ended a turn too early and
recovered (false ends). Event names are `milo_voice.dialogue.events`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Protocol

from milo_voice.dialogue import events as ev


class EventLike(Protocol):
    name: str
    media_time: float
    data: dict[str, float | int | str]


@dataclass(frozen=True, slots=True)
class Wait:
    """One reply: the candidate stopped at `speech_end` (s into the recording) and waited `dead_air` s."""

    speech_end: float
    dead_air: float


@dataclass(slots=True)
class Diagnostics:
    waits: list[Wait] = field(default_factory=list)
    barge_ins: int = 0
    noise_barge_ins: int = 0
    """Barge-ins that were only noise: the interviewer repeated what it had been saying."""
    false_ends: int = 0
    """The candidate resumed right after the end of turn; the reply was stopped and the answer merged."""
    planner_fallbacks: int = 0

    @property
    def median_dead_air(self) -> float | None:
        return median(w.dead_air for w in self.waits) if self.waits else None

    @property
    def longest_dead_air(self) -> Wait | None:
        return max(self.waits, key=lambda w: w.dead_air) if self.waits else None

    @property
    def empty(self) -> bool:
        return not self.waits and not (self.barge_ins or self.false_ends or self.planner_fallbacks)


def diagnose(events: Sequence[EventLike]) -> Diagnostics:
    """Pair each end-of-turn decision with the last speech end before it and the first audio after it."""
    out = Diagnostics()
    ordered = sorted(events, key=lambda e: e.media_time)
    last_speech_end: float | None = None
    waiting_since: float | None = None
    for event in ordered:
        if event.name == ev.SPEECH_END:
            last_speech_end = event.media_time
        elif event.name == ev.EOT_DECIDED and last_speech_end is not None:
            waiting_since = last_speech_end
        elif event.name == ev.AUDIO_OUT_FIRST_FRAME and waiting_since is not None:
            started = float(event.data.get("at", event.media_time))
            if started >= waiting_since:
                out.waits.append(Wait(round(waiting_since, 3), round(started - waiting_since, 3)))
            waiting_since = None
        elif event.name == ev.BARGE_IN:
            out.barge_ins += 1
        elif event.name == ev.BARGE_IN_IGNORED:
            out.noise_barge_ins += 1
        elif event.name == ev.FALSE_END:
            out.false_ends += 1
            waiting_since = None
        elif event.name == ev.PLAN_FALLBACK:
            out.planner_fallbacks += 1
    return out
