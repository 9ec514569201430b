"""End-of-turn policy: has the candidate finished answering? Pure: no clock, no tasks, no audio.

The caller feeds speech edges and Smart Turn probabilities stamped with media time, and asks
`decide(now)`. Foundation rules (issue 4 refines them): a pause ends the answer after
`min_silence` when Smart Turn says the turn sounds complete, after `max_silence` otherwise (and
while its verdict is still being computed); before any speech the candidate is thinking and
gets `thinking_silence` before a check-in. An answer shorter than the question's expected
length (`expected_words`, from the live transcript) always gets `max_silence`: a six-word reply
to "tell me about a time..." is a candidate still thinking, whatever Smart Turn hears. A speech
run shorter than `min_run` after a pause (a breath, a click) does not restart the silence clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from milo_voice.errors import ConfigError
from milo_voice.media.vad import SpeechEdge


@dataclass(frozen=True, slots=True)
class TurnParams:
    """Patience settings, in seconds of silence after the candidate's last speech."""

    min_silence: float = 1.7
    """Ends an answer that sounds finished (Smart Turn P >= turn_threshold)."""
    max_silence: float = 2.8
    """Ends any answer, whatever the evidence."""
    thinking_silence: float = 12.0
    """Silence before any speech, before the interviewer checks in (then again, each time)."""
    turn_threshold: float = 0.7
    """Smart Turn probability at or above which a pause sounds like a finished turn."""
    min_run: float = 0.25
    """Speech runs shorter than this, after a pause, count as noise."""
    max_answer: float = 240.0
    """An answer ends after this long whatever else happens (a noisy room must not stall the call)."""

    def __post_init__(self) -> None:
        if not 0 < self.min_silence <= self.max_silence:
            raise ConfigError(f"min_silence={self.min_silence}, max_silence={self.max_silence}")
        if not 0 <= self.turn_threshold <= 1:
            raise ConfigError(f"turn_threshold={self.turn_threshold}: expected 0..1")


class Decision(StrEnum):
    WAIT = "wait"
    END_OF_TURN = "end_of_turn"
    CHECK_IN = "check_in"


@dataclass(slots=True)
class _Pause:
    since: float
    probability: float | None = None


class TurnPolicy:
    """One answer's end-of-turn decisions. Create one per prompt the candidate answers."""

    def __init__(self, params: TurnParams, *, listening_since: float, expected_words: int = 0) -> None:
        self.params = params
        self.listening_since = listening_since
        self.started = listening_since
        self.expected_words = expected_words
        self.words = 0
        self.speaking = False
        self.heard_speech = False
        self._run_start = 0.0
        self._pause: _Pause | None = None
        self._previous_pause: _Pause | None = None
        self._history: list[_Pause] = []

    def on_edge(self, edge: SpeechEdge) -> None:
        if edge.speaking:
            self.speaking = True
            self._run_start = edge.at
            return
        self.speaking = False
        short = edge.at - self._run_start < self.params.min_run
        if short and self._previous_pause is not None:
            self._pause = self._previous_pause  # a blip: the earlier pause goes on
        else:
            self.heard_speech = self.heard_speech or not short
            if self.heard_speech:
                self._pause = _Pause(edge.at)
                self._history.append(self._pause)
        self._previous_pause = self._pause

    def on_noise(self, *, pause_started: float) -> None:
        """The speech run that ended at `pause_started` transcribed to nothing (noise, a breath):
        the silence before it goes on, as if the run had not happened."""
        if self._pause is None or abs(self._pause.since - pause_started) > 1e-6 or self.speaking:
            return
        self._history.pop()
        if self._history:
            self._pause = self._history[-1]
        else:
            self._pause, self.heard_speech = None, False
        self._previous_pause = self._pause

    @property
    def pause_started(self) -> float | None:
        """Media time the current pause began (None while speaking or before any speech)."""
        return None if self.speaking or self._pause is None else self._pause.since

    def on_turn_probability(self, probability: float, *, pause_started: float) -> None:
        """Smart Turn's verdict for the pause that began at `pause_started` (stale ones ignored)."""
        if self._pause is not None and abs(self._pause.since - pause_started) < 1e-6:
            self._pause.probability = probability

    def on_words(self, words: int) -> None:
        """Words in the live transcript so far."""
        self.words = words

    def silence_limit(self) -> float:
        p = self._pause.probability if self._pause else None
        if self.words < self.expected_words:
            return self.params.max_silence
        if p is not None and p >= self.params.turn_threshold:
            return self.params.min_silence
        return self.params.max_silence

    def decide(self, now: float) -> Decision:
        if now - self.started >= self.params.max_answer:
            return Decision.END_OF_TURN
        if self.speaking:
            return Decision.WAIT
        if self._pause is None:
            if now - self.listening_since >= self.params.thinking_silence - 1e-9:
                self.listening_since = now
                return Decision.CHECK_IN
            return Decision.WAIT
        if now - self._pause.since >= self.silence_limit() - 1e-9:
            return Decision.END_OF_TURN
        return Decision.WAIT
