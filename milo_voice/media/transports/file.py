"""A simulated call: the candidate is a list of answer recordings, paced in real time.

The candidate starts each answer `human_delay` seconds after the interviewer has stopped
speaking (a line the interviewer cut short with `clear()` does not count as a prompt), and
falls silent when the interviewer starts again after the answer's speech is over (the answer's
room-noise tail is cut). Interviewer audio is "played" one 20 ms frame per inbound frame, so
playout, `clear()` and what was heard follow the same media clock as a real call.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import numpy as np

from milo_voice.errors import BadMedia
from milo_voice.media.ducking import Ducker
from milo_voice.media.types import FRAME_SAMPLES, FRAME_SECONDS, SAMPLE_RATE, AudioChunk


@dataclass(frozen=True, slots=True)
class SimAnswer:
    """One recorded answer."""

    samples: np.ndarray
    """16 kHz mono int16."""
    speech_end: float
    """Seconds into the recording where the candidate's speech truly ends."""
    name: str = ""

    def room_noise(self) -> np.ndarray:
        """The recording's own noise after the speech (a real microphone is never digitally silent)."""
        tail = self.samples[int((self.speech_end + 0.3) * SAMPLE_RATE) :]
        return tail if len(tail) >= FRAME_SAMPLES * 10 else np.zeros(FRAME_SAMPLES * 10, np.int16)


@dataclass(slots=True)
class AnswerPlayed:
    """Where an answer landed on the call's timeline (for latency and talk-over measurement)."""

    index: int
    name: str
    start: float
    speech_end: float
    """Media time of the true end of speech."""
    stopped: float | None = None
    """Media time the candidate stopped sounding (tail cut or file end)."""


@dataclass(slots=True)
class _Outbound:
    frames: deque[bytes] = field(default_factory=deque)
    played_in_utterance: int = 0
    fade: bytes | None = None
    """After `clear()`: one frame fading to silence, played next but not counted as speech."""


class FileTransport:
    """Implements the `Transport` protocol for `milo-voice simulate` and the benchmarks."""

    def __init__(
        self,
        answers: list[SimAnswer],
        *,
        human_delay: float = 0.6,
        realtime: bool = True,
        max_duration: float = 1800.0,
    ) -> None:
        if not answers:
            raise BadMedia("a simulated interview needs at least one answer recording")
        self.call_id = f"sim-{uuid.uuid4().hex[:8]}"
        self.answers = answers
        self.human_delay = human_delay
        self.realtime = realtime
        self.max_duration = max_duration
        self.log: list[AnswerPlayed] = []
        self.on_played: Callable[[AudioChunk], None] | None = None
        self._out = _Outbound()
        self._ducker = Ducker()
        self._closed = asyncio.Event()
        self._media_time = 0.0
        self._idle_since: float | None = 0.0
        self._current: tuple[SimAnswer, int] | None = None  # answer, next sample
        self._next_answer = 0
        self._prompted = False  # the interviewer spoke since the last answer began
        self._noise_pos = 0

    # -- Transport -----------------------------------------------------------------------
    async def inbound(self) -> AsyncIterator[AudioChunk]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        n = 0
        while not self._closed.is_set() and self._media_time < self.max_duration:
            if self.realtime:
                delay = started + n * FRAME_SECONDS - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:
                await asyncio.sleep(0)
            at = n * FRAME_SECONDS
            self._media_time = at
            self._play_one(at)
            yield AudioChunk(self._candidate_frame(at), SAMPLE_RATE, at)
            n += 1

    async def play(self, chunk: AudioChunk) -> None:
        if chunk.sample_rate != SAMPLE_RATE:
            raise BadMedia(f"playout of {chunk.sample_rate} Hz audio; expected {SAMPLE_RATE} Hz")
        pcm = chunk.pcm
        if len(pcm) % (2 * FRAME_SAMPLES):
            pcm += b"\x00" * (2 * FRAME_SAMPLES - len(pcm) % (2 * FRAME_SAMPLES))
        step = 2 * FRAME_SAMPLES
        self._out.frames.extend(pcm[i : i + step] for i in range(0, len(pcm), step))
        self._idle_since = None

    async def clear(self) -> float:
        if self._out.frames:
            self._prompted = False  # a line cut short asked nothing: the candidate waits for one heard whole
            self._out.fade = self._ducker.fade(self._out.frames[0])  # played next: no click at the cut
        self._out.frames.clear()
        heard = self._out.played_in_utterance * FRAME_SECONDS
        self._out.played_in_utterance = 0
        self._idle_since = self._media_time
        return heard

    def playing_until(self) -> float:
        return self._media_time + FRAME_SECONDS + len(self._out.frames) * FRAME_SECONDS

    def duck(self, gain: float) -> None:
        self._ducker.duck(gain)

    async def close(self) -> None:
        self._closed.set()

    # -- simulation ----------------------------------------------------------------------
    @property
    def answers_left(self) -> int:
        return len(self.answers) - self._next_answer

    def _play_one(self, at: float) -> None:
        if not self._out.frames:
            if self._idle_since is None:
                self._idle_since = at
                self._out.played_in_utterance = 0
            fade, self._out.fade = self._out.fade, None
            if fade is not None and self.on_played is not None:
                self.on_played(AudioChunk(fade, SAMPLE_RATE, at))
            return
        frame = self._ducker.apply(self._out.frames.popleft())
        self._out.played_in_utterance += 1
        self._prompted = True
        self._cut_tail(at)
        if self.on_played is not None:
            self.on_played(AudioChunk(frame, SAMPLE_RATE, at))

    def _cut_tail(self, at: float) -> None:
        """The interviewer speaks: a candidate whose speech is over falls silent."""
        if self._current is None:
            return
        answer, pos = self._current
        if pos / SAMPLE_RATE >= answer.speech_end:
            self.log[-1].stopped = at
            self._current = None

    def _candidate_frame(self, at: float) -> bytes:
        if self._current is None and self._should_start(at):
            answer = self.answers[self._next_answer]
            self._current = (answer, 0)
            speech_end = at + answer.speech_end
            self.log.append(AnswerPlayed(self._next_answer, answer.name, at, speech_end))
            self._next_answer += 1
            self._prompted = False
        if self._current is None:
            return self._noise_frame()
        answer, pos = self._current
        piece = answer.samples[pos : pos + FRAME_SAMPLES]
        if len(piece) < FRAME_SAMPLES:
            piece = np.concatenate([piece, np.zeros(FRAME_SAMPLES - len(piece), np.int16)])
        pos += FRAME_SAMPLES
        if pos >= len(answer.samples):
            self.log[-1].stopped = at + FRAME_SECONDS
            self._current = None
        else:
            self._current = (answer, pos)
        return piece.astype("<i2").tobytes()

    def _noise_frame(self) -> bytes:
        """Between answers: the room noise of the speaker's next (or last) answer, looped."""
        answer = self.answers[min(self._next_answer, len(self.answers) - 1)]
        noise = answer.room_noise()
        start = self._noise_pos % len(noise)
        piece = noise[start : start + FRAME_SAMPLES]
        if len(piece) < FRAME_SAMPLES:
            piece = np.concatenate([piece, noise[: FRAME_SAMPLES - len(piece)]])
        self._noise_pos = start + FRAME_SAMPLES
        return piece.astype("<i2").tobytes()

    def _should_start(self, at: float) -> bool:
        if self._next_answer >= len(self.answers) or self._idle_since is None:
            return False
        return self._prompted and at - self._idle_since >= self.human_delay - 1e-9
