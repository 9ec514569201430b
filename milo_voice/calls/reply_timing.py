"""Live dead air and system latency, from a session's timed events as they happen.

`ReplyTimer` follows one session's events (pure): after each end-of-turn decision, the first
interviewer audio frame gives two samples: dead air, the candidate's last speech end -> that frame
(media time, as the recruiter's diagnostics count it: `workspace/diagnostics.py`), and system
latency, the decision -> that frame (monotonic clock, as `calls/latency.py` counts it). A false
end (the candidate went on) cancels the wait. `TimedObserver` puts a timer in front of the
session's writer and feeds `milo_dead_air_seconds` and `milo_system_latency_seconds`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from milo_voice import observability as metrics
from milo_voice.dialogue import events as ev
from milo_voice.dialogue.session_types import SessionObserver, TurnRecord
from milo_voice.media.types import Word

Sample = Callable[[float, float], None]
"""(dead air s, system latency s) of one reply."""


@dataclass(slots=True)
class ReplyTimer:
    """Pairs each end of turn with the first interviewer audio after it. Pure."""

    last_speech_end: float | None = None
    waiting: tuple[float, float] | None = None
    """(the candidate's speech end, media s; the decision, monotonic s) while a reply is awaited."""

    def see(self, event: ev.TimedEvent) -> tuple[float, float] | None:
        """The (dead air, system latency) this event completes, if it completes one."""
        if event.name == ev.SPEECH_END:
            self.last_speech_end = event.media_time
        elif event.name == ev.EOT_DECIDED and self.last_speech_end is not None:
            self.waiting = (self.last_speech_end, event.mono)
        elif event.name == ev.FALSE_END:
            self.waiting = None
        elif event.name == ev.AUDIO_OUT_FIRST_FRAME and self.waiting is not None:
            speech_end, decided = self.waiting
            self.waiting = None
            started = float(event.data.get("at", event.media_time))
            if started >= speech_end:
                return started - speech_end, max(0.0, event.mono - decided)
        return None


def observe_channel(channel: str) -> Sample:
    """What feeds the histograms for one channel (`webrtc` is counted as `web`)."""
    label = "web" if channel == "webrtc" else channel

    def sample(dead_air: float, system: float) -> None:
        metrics.DEAD_AIR.labels(label).observe(dead_air)
        metrics.SYSTEM_LATENCY.labels(label).observe(system)

    return sample


class TimedObserver:
    """A `SessionObserver` that times replies, then passes everything on to `inner` (the writer)."""

    def __init__(self, inner: SessionObserver, sample: Sample) -> None:
        self.inner = inner
        self.sample = sample
        self.timer = ReplyTimer()

    def on_event(self, event: ev.TimedEvent) -> None:
        found = self.timer.see(event)
        if found is not None:
            self.sample(*found)
        self.inner.on_event(event)

    def on_turn(self, turn: TurnRecord) -> None:
        self.inner.on_turn(turn)

    def on_partial(self, turn: TurnRecord) -> None:
        self.inner.on_partial(turn)

    def on_transcript(self, index: int, text: str, words: tuple[Word, ...]) -> None:
        self.inner.on_transcript(index, text, words)
