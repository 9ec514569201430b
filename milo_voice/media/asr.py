"""Speech recognition with faster-whisper: cheap live decodes at pauses, one accurate final decode.

`WhisperEngine` is sync (it runs in the ASR executor). `LiveTranscript` keeps one answer's
text current: at each pause it decodes only the audio since the previous decode, prompted with
the text so far, so at end of turn little or nothing is left to decode. After the answer, the
whole answer is decoded once more (beam search, word timestamps) for the stored transcript.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
from faster_whisper import WhisperModel

from milo_voice.media.types import SAMPLE_RATE

SEGMENT_PAD = 0.15
"""Seconds of audio past a pause edge included in a live segment (VAD ends can be early)."""
MIN_SEGMENT = 0.6
"""Live decodes of less new audio than this (s) are deferred to the next pause."""
PROMPT_CHARS = 200
"""Characters of earlier text given to Whisper as the prompt for a live segment."""


@dataclass(frozen=True, slots=True)
class Word:
    """A recognised word with its place on the recording's timeline (s)."""

    text: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    words: tuple[Word, ...]
    cpu_s: float
    """CPU seconds the decode used (thread time of the decoding thread and its helpers)."""
    audio_s: float


class WhisperEngine:
    """A loaded Whisper model (CTranslate2 int8 on CPU). Thread-safe for concurrent decodes."""

    def __init__(self, model_dir: str, *, threads: int = 2, workers: int = 1, beam_size: int = 5) -> None:
        self.model = WhisperModel(
            str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads, num_workers=workers
        )
        self.beam_size = beam_size
        self.multilingual = bool(self.model.model.is_multilingual)

    def decode(
        self, audio: np.ndarray, *, prompt: str = "", final: bool = False, offset: float = 0.0
    ) -> Decoded:
        """Decode float32 16 kHz audio. `final`: beam search with word timestamps at `offset`."""
        started = time.process_time()
        if audio.size < SAMPLE_RATE // 10:
            return Decoded("", (), 0.0, audio.size / SAMPLE_RATE)
        segments, _ = self.model.transcribe(
            audio,
            language="en",
            beam_size=self.beam_size if final else 1,
            temperature=[0.0, 0.4] if final else 0.0,
            condition_on_previous_text=final,
            initial_prompt=prompt[-PROMPT_CHARS:] or None,
            without_timestamps=not final,
            word_timestamps=final,
            vad_filter=False,
        )
        texts: list[str] = []
        words: list[Word] = []
        for segment in segments:
            texts.append(segment.text.strip())
            for w in segment.words or ():
                start, end = round(offset + float(w.start), 3), round(offset + float(w.end), 3)
                words.append(Word(w.word.strip(), start, end))
        # process_time covers all of this process's threads: an upper bound when decodes overlap.
        cpu = time.process_time() - started
        return Decoded(" ".join(t for t in texts if t), tuple(words), cpu, audio.size / SAMPLE_RATE)


def as_float(samples: np.ndarray) -> np.ndarray:
    return samples.astype(np.float32) / 32768.0


class LiveTranscript:
    """One answer's live text. Decodes run one at a time, in order, in the ASR executor."""

    def __init__(
        self,
        engine: WhisperEngine,
        executor: Executor,
        *,
        on_decoded: Callable[[Decoded], None] | None = None,
    ) -> None:
        self.engine = engine
        self.executor = executor
        self.on_decoded = on_decoded
        self.pieces: list[str] = []
        self.decoded_upto = 0
        """Samples of the answer buffer already decoded."""
        self.cpu_s = 0.0
        self._chain: asyncio.Future[None] | None = None

    @property
    def text(self) -> str:
        return " ".join(p for p in self.pieces if p)

    def on_pause(self, audio: np.ndarray, pause_at_sample: int) -> asyncio.Future[None] | None:
        """Decode the answer audio up to a pause; returns the pending decode (or None if too short)."""
        upto = min(len(audio), pause_at_sample + int(SEGMENT_PAD * SAMPLE_RATE))
        if upto - self.decoded_upto < MIN_SEGMENT * SAMPLE_RATE:
            return None
        return self._schedule(audio[self.decoded_upto : upto], upto)

    def _schedule(self, segment: np.ndarray, upto: int) -> asyncio.Future[None]:
        self.decoded_upto = upto
        previous = self._chain
        loop = asyncio.get_running_loop()

        async def run() -> None:
            if previous is not None:
                await asyncio.shield(previous)
            prompt = self.text
            result = await loop.run_in_executor(
                self.executor, lambda: self.engine.decode(as_float(segment), prompt=prompt)
            )
            self.pieces.append(result.text)
            self.cpu_s += result.cpu_s
            if self.on_decoded:
                self.on_decoded(result)

        self._chain = asyncio.ensure_future(run())
        return self._chain

    async def finish(self, audio: np.ndarray, speech_end_sample: int) -> str:
        """End of turn: decode whatever remains up to the end of speech; return the full text."""
        upto = min(len(audio), speech_end_sample + int(SEGMENT_PAD * SAMPLE_RATE))
        if upto - self.decoded_upto >= SAMPLE_RATE // 5:
            self._schedule(audio[self.decoded_upto : upto], upto)
        if self._chain is not None:
            await self._chain
        return self.text

    def cancel(self) -> None:
        if self._chain is not None and not self._chain.done():
            self._chain.cancel()


async def decode_final(
    engine: WhisperEngine, executor: Executor, audio: np.ndarray, *, offset: float
) -> Decoded:
    """The stored transcript: the whole answer decoded once, words placed on the recording timeline."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        executor, lambda: engine.decode(as_float(audio), final=True, offset=offset)
    )
