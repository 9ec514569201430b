"""The interviewer's voice: planner lines -> TTS (off the loop) -> transport playout, sentence by sentence.

Each sentence is queued as soon as it is synthesised, so the next one renders while the first
plays. Emits the plan/TTS/playout timing events of a reply.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import Executor
from typing import Protocol

import numpy as np

from milo_voice.dialogue import events as ev
from milo_voice.dialogue.planner import Line, MoveKind
from milo_voice.media.types import SAMPLE_RATE, AudioChunk, Transport


class Synthesizer(Protocol):
    """Text -> 16 kHz mono int16 speech, with a cache for fixed lines (sync; runs in an executor)."""

    def get(self, text: str) -> np.ndarray | None: ...
    def render(self, text: str) -> np.ndarray: ...


SPLIT_WORDS = 10
"""Lines longer than this are synthesised clause by clause, so the first audio comes sooner."""
_CLAUSE_END = re.compile(r"(?<=[,;:.!?])\s+")


def clauses(text: str) -> list[str]:
    """Cut a long line after sentence or clause punctuation into pieces of at least three words."""
    if len(text.split()) <= SPLIT_WORDS:
        return [text]
    pieces: list[str] = []
    for part in _CLAUSE_END.split(text):
        if pieces and (len(pieces[-1].split()) < 3 or len(part.split()) < 3):
            pieces[-1] = f"{pieces[-1]} {part}"
        else:
            pieces.append(part)
    return pieces


def turn_kind(line: Line) -> str:
    if line.kind is MoveKind.CLOSE:
        return "closing" if line.is_prompt else "acknowledgement"
    if line.is_prompt:
        return "follow_up" if line.kind is MoveKind.FOLLOW_UP else "question"
    return "greeting" if line.source == "script" else "acknowledgement"


class Speaker:
    """Speaks lines over a transport and reports each line's place on the timeline."""

    def __init__(
        self,
        transport: Transport,
        tts: Synthesizer,
        executor: Executor,
        emit: Callable[..., None],
        on_line_played: Callable[[Line, str, float, float], None],
    ) -> None:
        self.transport = transport
        self.tts = tts
        self.executor = executor
        self.emit = emit
        self.on_line_played = on_line_played
        self.muted = False
        self._awaiting_first_frame = False

    def audible(self, now: float) -> bool:
        return self.transport.playing_until() > now + 1e-6

    async def say_lines(self, lines: Iterable[Line], kind: str | None = None) -> list[Line]:
        async def stream() -> AsyncIterator[Line]:
            for line in lines:
                yield line

        return await self.say_stream(stream(), kind=kind)

    async def say_stream(self, lines: AsyncIterator[Line], kind: str | None = None) -> list[Line]:
        """Speak every line as it arrives; returns the lines spoken."""
        spoken: list[Line] = []
        loop = asyncio.get_running_loop()
        async for line in lines:
            if not spoken:
                self.emit(ev.PLAN_FIRST_SENTENCE, source=line.source)
            start = self.transport.playing_until()
            for piece in clauses(line.text):
                audio, cached = await loop.run_in_executor(self.executor, self._synthesize, piece)
                if not spoken and not self._awaiting_first_frame:
                    seconds = round(len(audio) / SAMPLE_RATE, 3)
                    self.emit(ev.TTS_FIRST_AUDIO, cached=int(cached), audio_s=seconds)
                    self._awaiting_first_frame = True
                if self.muted:
                    return spoken
                at = self.transport.playing_until()
                await self.transport.play(AudioChunk(audio.astype("<i2").tobytes(), SAMPLE_RATE, at))
            self.on_line_played(line, kind or turn_kind(line), start, self.transport.playing_until())
            spoken.append(line)
        return spoken

    def _synthesize(self, text: str) -> tuple[np.ndarray, bool]:
        cached = self.tts.get(text)
        if cached is not None:
            return cached, True
        return self.tts.render(text), False

    def on_played(self, chunk: AudioChunk) -> None:
        if self._awaiting_first_frame:
            self._awaiting_first_frame = False
            self.emit(ev.AUDIO_OUT_FIRST_FRAME, at=round(chunk.start, 3))
