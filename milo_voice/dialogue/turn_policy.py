"""End-of-turn policy: has the candidate finished answering? Pure: no clock, no tasks, no audio.

The caller feeds speech edges, Smart Turn probabilities and the live transcript, each stamped
with media time, and asks `decide(now)`. How long a pause must last before the answer ends
(`silence_limit`), from the evidence at that pause:

- an explicit closing ("that's it", "so yeah") or a question back: `closing_silence` (a question
  only when Smart Turn has answered and P >= `question_min_p`: Whisper's question marks mislead);
- an unfinished answer: shorter than the question's expected length (`expected_words`: a
  six-word reply to "tell me about a time..." is a candidate still thinking), or text that ends
  on a filler, conjunction or function word: `max_silence`;
- otherwise Smart Turn decides: `min_silence` when it hears a finished turn (P >=
  `turn_threshold`), `unsure_silence` when it does not or has not answered yet, raised by the
  candidate's own rhythm (`Rhythm`: the pauses after which they went on, in this answer and
  earlier ones) to just above their usual long pause, up to `rhythm_cap`;
- all of it scaled by the question's `patience` (its answer shape), never below `min_silence`.

Before any speech the candidate is thinking and gets `thinking_silence` before a check-in. A
speech run shorter than `min_run` after a pause (a breath, a click) does not restart the clock.
More hesitation evidence never shortens the wait (property-tested).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from milo_voice.dialogue.text_cues import Cue, trailing_cue, words_of
from milo_voice.errors import ConfigError
from milo_voice.media.types import SpeechEdge


@dataclass(frozen=True, slots=True)
class TurnParams:
    """Patience settings, in seconds of silence after the candidate's last speech."""

    min_silence: float = 1.55
    """Ends an answer that sounds finished (Smart Turn P >= turn_threshold, nothing unfinished)."""
    unsure_silence: float = 1.6
    """Ends an answer with no evidence either way (Smart Turn below the threshold, or not in yet)."""
    max_silence: float = 4.0
    """Ends any answer, whatever the evidence: the wait for an answer that sounds unfinished."""
    closing_silence: float = 1.55
    """Ends an answer that closes explicitly ("that's it") or asks a question back."""
    question_min_p: float = 0.3
    """A question back counts only when Smart Turn has answered and does not hear the pause as
    plainly unfinished (P >= this): Whisper puts a question mark on a mid-answer "was it"."""
    rhythm_quantile: float = 0.8
    """Which of the candidate's own resumed pauses sets their floor (0.8: all but the longest fifth)."""
    rhythm_margin: float = 0.4
    """Seconds added to that pause: the wait is just longer than their usual long pause."""
    rhythm_min_pauses: int = 3
    """Resumed pauses (>= 0.5 s) needed before the rhythm counts."""
    rhythm_cap: float = 0.0
    """The rhythm raises the wait to at most this (s): a candidate who pauses 4 s between sentences
    is still answered within this, and then resumes the answer if they were not done."""
    thinking_silence: float = 12.0
    """Silence before any speech, before the interviewer checks in (then again, each time)."""
    turn_threshold: float = 0.7
    """Smart Turn probability at or above which a pause sounds like a finished turn."""
    min_run: float = 0.1
    """Speech runs shorter than this, after a pause, count as noise. The default is below the
    shortest run the VAD confirms (0.12 s), so every run counts: a one-syllable "so" after a pause
    is speech, and a noise run is undone by its transcript instead (`on_noise`)."""
    max_answer: float = 240.0
    """An answer ends after this long whatever else happens (a noisy room must not stall the call)."""
    heard_delay: float = 0.0
    """Seconds the channel's buffers add, outside media time, between the candidate's speech and their
    hearing the reply (WebRTC: the server's receive buffer and the browser's playout buffer). Every wait
    that ends an answer ends this much sooner, so the candidate hears the reply after the same silence
    on every channel; 0 where media time is what the candidate hears (a file, the phone harness)."""

    def __post_init__(self) -> None:
        if not 0 < self.min_silence <= self.unsure_silence <= self.max_silence:
            raise ConfigError(f"min_silence={self.min_silence}, unsure_silence={self.unsure_silence}, "
                              f"max_silence={self.max_silence}: expected 0 < min <= unsure <= max")
        if not 0 <= self.turn_threshold <= 1:
            raise ConfigError(f"turn_threshold={self.turn_threshold}: expected 0..1")
        if not 0 <= self.question_min_p <= 1:
            raise ConfigError(f"question_min_p={self.question_min_p}: expected 0..1")
        if self.closing_silence <= 0:
            raise ConfigError(f"closing_silence={self.closing_silence}: expected > 0")
        if not 0 <= self.heard_delay < self.min_silence / 2:
            raise ConfigError(f"heard_delay={self.heard_delay}: expected 0 <= delay < min_silence / 2")
        if self.rhythm_cap < 0:
            raise ConfigError(f"rhythm_cap={self.rhythm_cap}: expected >= 0")
        if not 0 <= self.rhythm_quantile <= 1:
            raise ConfigError(f"rhythm_quantile={self.rhythm_quantile}: expected 0..1")

    def with_patience(self, *, max_silence: float | None = None,
                      thinking_silence: float | None = None) -> TurnParams:
        """These settings with an interview's own patience (None keeps the server's). A pause
        patience below the other waits lowers them with it: no wait exceeds the longest."""
        changes: dict[str, float] = {}
        if thinking_silence is not None:
            changes["thinking_silence"] = thinking_silence
        if max_silence is not None:
            changes.update(
                max_silence=max_silence,
                unsure_silence=min(self.unsure_silence, max_silence),
                min_silence=min(self.min_silence, max_silence),
                rhythm_cap=min(self.rhythm_cap, max_silence),
            )
        return replace(self, **changes)

    def heard_after(self, delay: float) -> TurnParams:
        """These settings on a channel whose buffers add `delay` seconds (`heard_delay`), at most a
        quarter of the shortest wait (a misreported delay must not make the interviewer hasty)."""
        return replace(self, heard_delay=min(max(delay, 0.0), self.min_silence / 4))

    def extended(self, multiplier: float) -> TurnParams:
        """These settings with extra time (a candidate's accommodation): every wait times `multiplier`
        (>= 1; 1 changes nothing): the silences that end an answer, the thinking time before a check-in,
        the rhythm cap and the longest answer. Thresholds and the noise rules stay as they are."""
        if not multiplier >= 1.0 or multiplier == float("inf"):
            raise ConfigError(f"extra time multiplier={multiplier}: expected a finite number >= 1")
        if multiplier == 1.0:
            return self
        return replace(
            self, min_silence=self.min_silence * multiplier, unsure_silence=self.unsure_silence * multiplier,
            max_silence=self.max_silence * multiplier, closing_silence=self.closing_silence * multiplier,
            rhythm_cap=self.rhythm_cap * multiplier, thinking_silence=self.thinking_silence * multiplier,
            max_answer=self.max_answer * multiplier,
        )


RHYTHM_MIN_PAUSE = 0.5
"""Pauses shorter than this (s) are ordinary gaps between words, not a speaker's rhythm."""


@dataclass(slots=True)
class Rhythm:
    """The pauses after which this candidate went on speaking, across the session's answers."""

    pauses: list[float] = field(default_factory=list)

    def observe(self, seconds: float) -> None:
        if seconds >= RHYTHM_MIN_PAUSE:
            self.pauses.append(seconds)

    def floor(self, params: TurnParams) -> float:
        """Silence (s) this candidate has shown they can pause and go on; 0 until known."""
        if len(self.pauses) < params.rhythm_min_pauses:
            return 0.0
        ordered = sorted(self.pauses)
        rank = params.rhythm_quantile * (len(ordered) - 1)
        low, high = int(rank), min(int(rank) + 1, len(ordered) - 1)
        value = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
        return value + params.rhythm_margin


class Decision(StrEnum):
    WAIT = "wait"
    END_OF_TURN = "end_of_turn"
    CHECK_IN = "check_in"


@dataclass(slots=True)
class _Pause:
    since: float
    probability: float | None = None
    after_noise: bool = False
    """The run before this pause transcribed to nothing, but only once the next run had begun."""


class TurnPolicy:
    """One answer's end-of-turn decisions. Create one per prompt the candidate answers."""

    def __init__(
        self,
        params: TurnParams,
        *,
        listening_since: float,
        expected_words: int = 0,
        patience: float = 1.0,
        rhythm: Rhythm | None = None,
    ) -> None:
        if patience <= 0:
            raise ConfigError(f"patience={patience}: expected > 0")
        self.params = params
        self.listening_since = listening_since
        self.started = listening_since
        self.expected_words = expected_words
        self.patience = patience
        """Multiplies every silence limit: the question's answer shape sets it."""
        self.rhythm = rhythm if rhythm is not None else Rhythm()
        self.words = 0
        self.cue = Cue.NONE
        self.speaking = False
        self.heard_speech = False
        self._run_start = 0.0
        self._pause: _Pause | None = None
        self._previous_pause: _Pause | None = None
        self._history: list[_Pause] = []

    def on_edge(self, edge: SpeechEdge) -> None:
        if edge.speaking:
            if self._pause is not None and not self.speaking:
                self.rhythm.observe(edge.at - self._pause.since)  # they paused this long and went on
            self.speaking = True
            self._run_start = edge.at
            return
        self.speaking = False
        short = edge.at - self._run_start < self.params.min_run - 1e-9
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
        the silence before it goes on, as if the run had not happened. A verdict that comes after
        the next run has begun is kept: if that run is noise too, both are wound back (bursts of
        room noise a few tenths of a second apart must not keep an answer open)."""
        pause = next((p for p in reversed(self._history) if abs(p.since - pause_started) < 1e-6), None)
        if pause is None:
            return
        if pause is not self._pause or self.speaking:
            pause.after_noise = True
            return
        self._history.pop()
        while self._history and self._history[-1].after_noise:
            self._history.pop()
        if self._history:
            self._pause = self._history[-1]
        else:
            self._pause, self.heard_speech = None, False
        self._previous_pause = self._pause

    @property
    def probability(self) -> float | None:
        """Smart Turn's verdict on the current pause, if it has come."""
        return self._pause.probability if self._pause is not None else None

    @property
    def pause_started(self) -> float | None:
        """Media time the current pause began (None while speaking or before any speech)."""
        return None if self.speaking or self._pause is None else self._pause.since

    def on_turn_probability(self, probability: float, *, pause_started: float) -> None:
        """Smart Turn's verdict for the pause that began at `pause_started` (stale ones ignored)."""
        if self._pause is not None and abs(self._pause.since - pause_started) < 1e-6:
            self._pause.probability = probability

    def on_words(self, words: int) -> None:
        """Words in the live transcript so far (when only a count is known)."""
        self.words = words

    def on_text(self, text: str) -> None:
        """The live transcript so far: its length and how it ends."""
        self.words = len(words_of(text))
        self.cue = trailing_cue(text)

    def silence_limit(self) -> float:
        """Silence (media time) after which the current pause ends the answer: the wait the evidence
        calls for (`_limit`), less what the channel's buffers add before the candidate hears the reply."""
        return self._limit() - self.params.heard_delay

    def _limit(self) -> float:
        params = self.params
        p = self._pause.probability if self._pause else None
        asked = self.cue is Cue.QUESTION and p is not None and p >= params.question_min_p
        if self.cue is Cue.CLOSING or asked:  # never longer than a finished-sounding pause
            return self._scaled(min(params.closing_silence, params.min_silence))
        unfinished = self.words < self.expected_words or self.cue is Cue.HESITATION
        if unfinished:
            limit = params.max_silence
        elif p is not None and p >= params.turn_threshold:
            limit = params.min_silence
        else:  # no verdict either way: wait as long as this candidate has shown they pause
            cap = min(params.rhythm_cap, params.max_silence)
            limit = max(params.unsure_silence, min(self.rhythm.floor(params), cap))
        return self._scaled(limit)

    def _scaled(self, limit: float) -> float:
        """`limit` times the question's patience; a patience below 1 (a short-fact question) shortens
        the longer waits but never takes one below `min_silence`: a 1.16 s natural pause after "...my
        room upstairs." was talked into at 0.8 x 1.55 s over the phone."""
        if self.patience >= 1.0:
            return limit * self.patience
        return max(limit * self.patience, min(limit, self.params.min_silence))

    def capped(self, now: float) -> bool:
        """The answer has run `max_answer`: it ends now, and for good (it cannot be resumed)."""
        return now - self.started >= self.params.max_answer

    def decide(self, now: float) -> Decision:
        if self.capped(now):
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
