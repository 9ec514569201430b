"""One answer in progress: its audio, its turn policy and its live transcript.

Owned by the session; knows nothing of transports, planners or storage. At each pause it asks
for a live decode of the new audio and Smart Turn's verdict, both off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Protocol

import numpy as np

from milo_voice.dialogue.turn_policy import Decision, Rhythm, TurnParams, TurnPolicy
from milo_voice.media.types import (
    FRAME_SECONDS,
    SAMPLE_RATE,
    STRONG_DB,
    AudioChunk,
    SpeechEdge,
    Transcriber,
    is_noise_text,
)

log = logging.getLogger(__name__)

VOICED_FRAMES = 3
"""Frames in a row at `STRONG_DB` above the noise floor that make a speech run a voice: its live decode
coming back empty ("Lincoln." alone after a 1 s pause) does not wind it back as noise. On the corpus, no
run in the room-noise tails after the answers has three such frames (19 runs on the phone, 33
wide-band); most speech runs do."""



class TurnDetector(Protocol):
    """Smart Turn or any model that says whether a pause ends the turn."""

    def predict(self, samples: np.ndarray) -> float: ...


class Answer:
    """Audio and evidence for the candidate's reply to one prompt."""

    def __init__(
        self,
        *,
        listening_since: float,
        params: TurnParams,
        asr: Transcriber,
        detector: TurnDetector | None,
        detector_executor: Executor,
        on_probability: Callable[[float, float], None],
        expected_words: int = 0,
        patience: float = 1.0,
        rhythm: Rhythm | None = None,
        on_text: Callable[[Answer], None] | None = None,
    ) -> None:
        self.start = listening_since
        """Media time of the answer buffer's first sample."""
        self.policy = TurnPolicy(params, listening_since=listening_since, expected_words=expected_words,
                                 patience=patience, rhythm=rhythm)
        self._run_start: float | None = None
        self.live = asr.live(on_decoded=lambda _: self._on_decoded(), paused=lambda: self._run_start is None)
        self.turn_index: int | None = None
        """Turn index, reserved when the answer first had live text to store or first ended."""
        self.resumed_chars = 0
        """Length of the live text when the answer was last resumed: what came after is new."""
        self.first_speech: float | None = None
        self.last_speech_end: float | None = None
        self._noise: list[tuple[float, float]] = []
        """Stretches (media time) whose live decode came back as noise."""
        self._runs: list[tuple[float, float]] = []
        """Speech runs the VAD heard (media times)."""
        self._strong_in_row = 0
        self._voiced: list[float] = []
        """Ends of the frames that made `VOICED_FRAMES` in a row at `STRONG_DB` above the noise floor."""
        self._chunks: list[bytes] = []
        self._detector = detector
        self._detector_executor = detector_executor
        self._on_probability = on_probability
        self._on_text = on_text
        """Called after each live decode that added text (the session stores the answer so far)."""
        self._reported = ""
        self._tasks: set[asyncio.Task[None]] = set()

    # -- audio -------------------------------------------------------------------------
    def append(self, chunk: AudioChunk, above_floor_db: float = 0.0) -> None:
        """One frame of the answer's audio, with its level above the room's noise floor (dB)."""
        self._chunks.append(chunk.pcm)
        self._strong_in_row = self._strong_in_row + 1 if above_floor_db >= STRONG_DB else 0
        if self._strong_in_row == VOICED_FRAMES:
            self._voiced.append(chunk.end)

    def _voiced_run(self, pause_at: float) -> bool:
        """The speech run that ended at `pause_at` had a voice's level (see `VOICED_FRAMES`)."""
        run = next((r for r in reversed(self._runs) if abs(r[1] - pause_at) < 1e-6), None)
        return run is not None and any(run[0] <= t <= run[1] + FRAME_SECONDS + 1e-6 for t in self._voiced)

    def prepend(self, pcm: bytes, start: float) -> None:
        """Audio heard before listening began (a barge-in's first words)."""
        self._chunks.insert(0, pcm)
        self.start = start

    def resume(self, turn_index: int, text_chars: int) -> None:
        """The candidate went on after the turn was ended: same answer, same turn."""
        self.turn_index = turn_index
        self.resumed_chars = text_chars

    def samples(self) -> np.ndarray:
        return np.frombuffer(b"".join(self._chunks), dtype="<i2")

    def sample_at(self, media_time: float) -> int:
        return max(0, round((media_time - self.start) * SAMPLE_RATE))

    @property
    def has_speech(self) -> bool:
        return self.first_speech is not None

    # -- evidence ------------------------------------------------------------------------
    def on_edge(self, edge: SpeechEdge) -> None:
        self.policy.on_edge(edge)
        if edge.speaking:
            if self.first_speech is None:
                self.first_speech = edge.at
            self._run_start = edge.at
            return
        if self._run_start is not None:
            self._runs.append((self._run_start, edge.at))
            self._run_start = None
        if self.policy.pause_started == edge.at and self.first_speech is not None:
            self.last_speech_end = edge.at
            self._spawn(self._analyse_pause(edge.at))

    def _on_decoded(self) -> None:
        text = self.live.text
        self.policy.on_text(text)
        if self._on_text is None or not text or text == self._reported:
            return
        self._reported = text
        try:  # storing the text so far must never stop the answer's decodes
            self._on_text(self)
        except Exception:
            log.exception("answer.on_text_failed")

    def text_end(self) -> float:
        """Media time where the speech the live text covers ends: the end of the last speech run in
        the decoded audio (the answer's start before any decode)."""
        covered = self.start + self.live.done_upto / SAMPLE_RATE
        return max((b for _, b in self._runs if b <= covered + 1e-6), default=self.start)

    def speech_between(self, start: float, end: float) -> float:
        """Seconds of VAD speech between two media times."""
        return sum(max(0.0, min(b, end) - max(a, start)) for a, b in self._runs)

    def decide(self, now: float) -> Decision:
        return self.policy.decide(now)

    async def _analyse_pause(self, pause_at: float) -> None:
        audio = self.samples()
        upto = self.sample_at(pause_at)
        segment_start = self.start + self.live.decoded_upto / SAMPLE_RATE
        decode = self.live.on_pause(audio, upto, speech_s=self.speech_between(segment_start, pause_at))
        if self._detector is not None:
            loop = asyncio.get_running_loop()
            window = audio[: upto + SAMPLE_RATE // 10]
            detector, policy = self._detector, self.policy

            def verdict() -> float | None:  # on the model's thread, when its turn comes
                if policy.pause_started != pause_at:
                    return None  # the candidate went on while this waited: the verdict could change nothing
                return detector.predict(window)

            p = await loop.run_in_executor(self._detector_executor, verdict)
            if p is not None:
                self.policy.on_turn_probability(p, pause_started=pause_at)
                self._on_probability(p, pause_at)
        text = await decode if decode is not None else None
        if text is None or not is_noise_text(text):  # None: the decode failed, which is not noise
            return
        if self._voiced_run(pause_at):  # "Lincoln." alone after a pause: tiny.en hears nothing, it was said
            log.info("answer.noise_verdict_overruled", extra={"pause_at": round(pause_at, 3),
                                                              "reason": "the run had a voice's level"})
            return
        self.policy.on_noise(pause_started=pause_at)
        self._noise.append((segment_start, pause_at))

    async def finish_live(self) -> str:
        """End of turn: the live text up to the end of speech (decodes only what is left)."""
        end = self.last_speech_end if self.last_speech_end is not None else self.start
        return await self.live.finish(self.samples(), self.sample_at(end))

    def undecoded_s(self) -> float:
        """Seconds of speech up to the last pause that no live decode has finished yet: the text
        evidence at this moment does not cover them."""
        end = self.last_speech_end if self.last_speech_end is not None else self.start
        return max(0.0, (self.sample_at(end) - self.live.done_upto) / SAMPLE_RATE)

    def speech_audio(self) -> tuple[np.ndarray, float]:
        """The answer's audio from shortly before its first speech to shortly after its last."""
        audio = self.samples()
        if self.first_speech is None:
            return audio[:0], self.start
        begin = max(0.0, self.first_speech - 0.3 - self.start)
        end = self._last_real_end() + 0.3 - self.start
        return audio[int(begin * SAMPLE_RATE) : int(end * SAMPLE_RATE)], self.start + begin

    def _last_real_end(self) -> float:
        """The end of the last speech run the live decode did not find to be noise: room noise
        that kept an answer open is not sent to the stored transcript's decode, where Whisper
        would loop on it ("the French, the French, ...")."""
        last = self.last_speech_end or self.start
        ends = [b for _, b in self._runs if b <= last and not any(a < b <= z for a, z in self._noise)]
        return max(ends) if ends else last

    def _spawn(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("answer.pause_analysis_failed", exc_info=task.exception())

    async def settle(self) -> None:
        """Wait until every pause analysis started so far is done (benchmarks replay evidence)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks))

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self.live.cancel()
