"""One answer's live text: at each pause, a cheap decode of the audio since the previous decode,
prompted with the text so far, so that at the end of the turn little or nothing is left to decode.

Decodes of one answer run one at a time, in order. A decode that has not started yet (it waits for
the one before it, or for a worker in the `LiveQueue` that all calls share) takes in the audio of
any later pause instead of queueing a second decode behind it: Whisper's encoder costs the same for
1 s of new audio as for 10 s (it always encodes the 20 s context), so when the workers fall behind
(many calls pausing at once) each answer's backlog is decoded in one pass, not one pass per pause.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from milo_voice.errors import EngineUnavailable
from milo_voice.media.live_queue import LiveQueue, Urgency
from milo_voice.media.types import SAMPLE_RATE, Decoded, Decoder, is_noise_text

log = logging.getLogger(__name__)

SEGMENT_PAD = 0.15
"""Seconds of audio past a pause edge included in a live segment (VAD ends can be early)."""
MIN_SEGMENT = 0.6
"""Live decodes of less new audio than this (s) are deferred to the next pause."""
PARROT_WORDS_PER_S = 4.0
"""A repeat of the previous piece with more words per second of heard speech than this (brisk
speech is about 3) is Whisper parroting its prompt, not the candidate repeating themselves."""


def as_float(samples: np.ndarray) -> np.ndarray:
    return samples.astype(np.float32) / 32768.0


def is_parroted(text: str, previous: str | None, speech_s: float | None) -> bool:
    """The text repeats the previous piece and holds more words than the speech heard could:
    Whisper echoing its prompt on a noise, not "Tear down the fence! Tear down the fence!"."""
    if previous is None or text != previous:
        return False
    return speech_s is None or len(text.split()) > PARROT_WORDS_PER_S * speech_s


@dataclass(eq=False)
class _Segment:
    """One live decode: answer samples [start, upto), not yet fixed while `started` is False."""

    start: int
    upto: int
    speech_s: float | None
    started: bool = False
    done: asyncio.Future[str | None] | None = field(default=None, repr=False)


class LiveTranscript:
    """One answer's live text. Decodes run one at a time, in order, in the ASR executor."""

    def __init__(
        self,
        engine: Decoder,
        executor: Executor,
        *,
        on_decoded: Callable[[Decoded], None] | None = None,
        queue: LiveQueue | None = None,
        paused: Callable[[], bool] | None = None,
    ) -> None:
        self.engine = engine
        self.executor = executor
        self.on_decoded = on_decoded
        self.queue = queue if queue is not None else LiveQueue(1)
        """Shared by every answer on this engine (a private one when none is given)."""
        self._paused = paused
        """True while the candidate is silent (the answer's VAD state); None: taken as silent."""
        self.pieces: list[str] = []
        self.decoded_upto = 0
        """Samples of the answer buffer already decoded or being decoded."""
        self.done_upto = 0
        """Samples of the answer buffer whose decode has finished (the text covers them)."""
        self.cpu_s = 0.0
        """CPU seconds of this answer's live decodes so far."""
        self.decodes = 0
        """Live decodes run for this answer (later pauses folded into a waiting decode do not count)."""
        self._cpu_taken = 0.0
        self._audio: np.ndarray = np.zeros(0, np.int16)
        self._last: _Segment | None = None
        """The newest decode (its `done` is the end of the chain: every decode before it has finished)."""
        self._finishing = False

    @property
    def text(self) -> str:
        return " ".join(p for p in self.pieces if p)

    def on_pause(self, audio: np.ndarray, pause_at_sample: int, *,
                 speech_s: float | None = None) -> asyncio.Future[str | None] | None:
        """Decode the answer audio up to a pause; returns the pending decode (or None if too short).

        `speech_s`, the seconds of speech the VAD heard in the new audio, tells a candidate who
        repeats themselves from Whisper parroting its prompt."""
        upto = min(len(audio), pause_at_sample + int(SEGMENT_PAD * SAMPLE_RATE))
        if upto - self.decoded_upto < MIN_SEGMENT * SAMPLE_RATE:
            return None
        return self._schedule(audio, upto, speech_s)

    def urgency(self) -> Urgency:
        if self._finishing:
            return Urgency.WAITED_FOR
        if self._paused is None or self._paused():
            return Urgency.IN_PAUSE
        return Urgency.SPEAKING

    def _schedule(self, audio: np.ndarray, upto: int,
                  speech_s: float | None = None) -> asyncio.Future[str | None]:
        self._audio = audio  # the newest buffer holds every segment's audio
        start, self.decoded_upto = self.decoded_upto, upto
        last = self._last
        if last is not None and last.done is not None and not (last.started or last.done.done()):
            last.upto = upto  # not started yet: it decodes this pause's audio too
            last.speech_s = None if speech_s is None or last.speech_s is None else last.speech_s + speech_s
            return last.done
        segment = _Segment(start, upto, speech_s)
        segment.done = asyncio.ensure_future(self._run(segment, last.done if last is not None else None))
        self._last = segment
        return segment.done

    async def _run(self, segment: _Segment, previous: asyncio.Future[str | None] | None) -> str | None:
        if previous is not None:
            await asyncio.shield(previous)
        loop = asyncio.get_running_loop()
        async with self.queue.turn(self.urgency):
            segment.started = True
            samples, speech_s, prompt = self._audio[segment.start : segment.upto], segment.speech_s, self.text
            self.decodes += 1
            try:
                result = await loop.run_in_executor(
                    self.executor, lambda: self.engine.decode_live(as_float(samples), prompt=prompt)
                )
            except EngineUnavailable as exc:  # the answer goes on; the stored transcript decodes it all
                log.warning("asr.live_decode_failed", extra={"error": str(exc), "samples": samples.size})
                self.done_upto = segment.upto
                return None  # not "": an empty text would read as noise
        last = self.pieces[-1] if self.pieces else None
        noise = is_noise_text(result.text) or is_parroted(result.text, last, speech_s)
        if not noise:  # "you" in room noise, or the prompt's last sentence parroted back
            self.pieces.append(result.text)
        self.cpu_s += result.cpu_s
        self.done_upto = segment.upto
        if self.on_decoded:
            self.on_decoded(result)
        return "" if noise else result.text

    async def finish(self, audio: np.ndarray, speech_end_sample: int) -> str:
        """End of turn: decode whatever remains up to the end of speech; return the full text."""
        self._finishing = True  # from now on the reply waits for these decodes: they go first
        upto = min(len(audio), speech_end_sample + int(SEGMENT_PAD * SAMPLE_RATE))
        if upto - self.decoded_upto >= SAMPLE_RATE // 5:
            self._schedule(audio, upto)
        try:
            if self._last is not None and self._last.done is not None:
                await self._last.done
        finally:
            self._finishing = False  # an answer resumed after a false end decodes as before
        return self.text

    def take_cpu(self) -> float:
        """CPU seconds of live decodes since the last call (an answer resumed after a false end
        finishes more than once; each decode must be counted once)."""
        new, self._cpu_taken = self.cpu_s - self._cpu_taken, self.cpu_s
        return new

    def cancel(self) -> None:
        if self._last is not None and self._last.done is not None and not self._last.done.done():
            self._last.done.cancel()
