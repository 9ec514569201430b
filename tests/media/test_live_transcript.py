"""A live decode that fails (its ASR child died twice) costs that piece of live text, not the answer:
the later decodes of the answer go on, and the end of the turn still gets the text around it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from milo_voice.errors import EngineUnavailable
from milo_voice.media.live_queue import LiveQueue
from milo_voice.media.live_transcript import LiveTranscript
from milo_voice.media.types import Decoded

SECOND = 16000


class Scripted:
    """Decodes whose text is the call's number, except the ones told to fail."""

    measures_cpu = False
    live_slots = 1

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
            pieces = []
            for pause in (1, 2, 3):  # each decode done before the next pause
                pending = live.on_pause(audio, pause * SECOND)
                assert pending is not None
                pieces.append(await pending)
            return pieces, await live.finish(audio, 5 * SECOND)

    pieces, text = asyncio.run(answer())
    assert pieces == ["piece1", None, "piece3"]  # None, not "": a failed decode must not read as noise
    assert text == "piece1 piece3 piece4" and engine.calls == 4
    assert [r.getMessage() for r in caplog.records] == ["asr.live_decode_failed"]


class Held:
    """Decodes that block until the test lets them go; records the audio each one got."""

    measures_cpu = False
    live_slots = 1

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.lengths: list[float] = []
        self.prompts: list[str] = []

    def decode_live(self, audio: np.ndarray, *, prompt: str = "") -> Decoded:
        self.gate.wait(10)
        self.lengths.append(round(audio.size / SECOND, 2))
        self.prompts.append(prompt)
        return Decoded(f"piece{len(self.lengths)}", (), 0.01, audio.size / SECOND)

    def decode(self, audio: np.ndarray, *, offset: float = 0.0) -> Decoded:
        raise AssertionError("not used")


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


def test_pauses_that_come_while_a_decode_waits_are_folded_into_it() -> None:
    """Behind a running decode, the next pause's decode waits; a third pause adds its audio to that
    waiting decode instead of queueing another encoder pass."""
    engine = Held()
    audio = np.zeros(8 * SECOND, np.int16)

    async def answer() -> tuple[list[str | None], str, int]:
        with ThreadPoolExecutor(2) as pool:
            live = LiveTranscript(engine, pool)
            first = live.on_pause(audio, 2 * SECOND)
            await _until(lambda: live.decodes == 1)  # running, blocked in the engine
            second = live.on_pause(audio, 4 * SECOND)
            third = live.on_pause(audio, 6 * SECOND)
            assert second is third and live.decoded_upto == int(6.15 * SECOND)
            engine.gate.set()
            assert first is not None and second is not None
            got = [await first, await second]
            return got, await live.finish(audio, 6 * SECOND), live.decodes

    got, text, decodes = asyncio.run(answer())
    assert got == ["piece1", "piece2"] and text == "piece1 piece2" and decodes == 2
    assert engine.lengths == [2.15, 4.0]  # the second decode covers both later pauses, from 2.15 s on
    assert engine.prompts == ["", "piece1"]


def test_an_answer_whose_turn_ended_is_decoded_before_answers_still_going() -> None:
    """Two answers share one worker: the one whose reply waits for its text goes first, though it
    asked later; among the rest, a candidate in a pause goes before one speaking."""
    engine = Held()
    audio = np.zeros(4 * SECOND, np.int16)
    queue = LiveQueue(1)
    order: list[str] = []

    async def calls() -> None:
        with ThreadPoolExecutor(4) as pool:
            def live(name: str, speaking: bool) -> LiveTranscript:
                return LiveTranscript(engine, pool, queue=queue, paused=lambda: not speaking,
                                      on_decoded=lambda _: order.append(name))

            busy, speaking, silent, ended = (live("busy", False), live("speaking", True),
                                             live("silent", False), live("ended", True))
            blocker = busy.on_pause(audio, SECOND)
            await _until(lambda: busy.decodes == 1)
            waits = [speaking.on_pause(audio, SECOND), silent.on_pause(audio, SECOND)]
            finished = asyncio.ensure_future(ended.finish(audio, SECOND))
            await _until(lambda: queue.waiting == 3)
            engine.gate.set()
            await asyncio.gather(blocker, *waits, finished)  # type: ignore[arg-type]

    asyncio.run(calls())
    assert order == ["busy", "ended", "silent", "speaking"]
