"""A live decode that fails (its ASR child died twice) costs that piece of live text, not the answer:
the later decodes of the answer go on, and the end of the turn still gets the text around it."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from milo_voice.errors import EngineUnavailable
from milo_voice.media.asr import LiveTranscript
from milo_voice.media.types import Decoded

SECOND = 16000


class Scripted:
    """Decodes whose text is the call's number, except the ones told to fail."""

    measures_cpu = False

    def __init__(self, failing: set[int]) -> None:
        self.failing, self.calls = failing, 0

    def decode_live(self, audio: np.ndarray, *, prompt: str = "") -> Decoded:
        self.calls += 1
        if self.calls in self.failing:
            raise EngineUnavailable("an ASR worker process died twice on this job")
        return Decoded(f"piece{self.calls}", (), 0.01, audio.size / SECOND)

    def decode(self, audio: np.ndarray, *, offset: float = 0.0) -> Decoded:
        raise AssertionError("not used")


def test_a_failed_live_decode_skips_its_piece_and_the_answer_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = Scripted(failing={2})
    audio = np.zeros(6 * SECOND, np.int16)

    async def answer() -> tuple[list[str | None], str]:
        with ThreadPoolExecutor(1) as pool:
            live = LiveTranscript(engine, pool)
            pending = [live.on_pause(audio, pause * SECOND) for pause in (1, 2, 3)]
            pieces = [await p for p in pending if p is not None]
            return pieces, await live.finish(audio, 5 * SECOND)

    pieces, text = asyncio.run(answer())
    assert pieces == ["piece1", None, "piece3"]  # None, not "": a failed decode must not read as noise
    assert text == "piece1 piece3 piece4" and engine.calls == 4
    assert [r.getMessage() for r in caplog.records] == ["asr.live_decode_failed"]
