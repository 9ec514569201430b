"""A speech run whose live decode comes back empty is wound back as noise, unless it had a voice's
level: three frames in a row 20 dB above the room's noise floor ("Lincoln." alone after a 1 s pause,
which tiny.en decodes to nothing). A fake live transcript stands in for Whisper."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from milo_voice.dialogue.answer import VOICED_FRAMES, Answer
from milo_voice.dialogue.turn_policy import TurnParams
from milo_voice.media.types import FRAME_SAMPLES, FRAME_SECONDS, STRONG_DB, AudioChunk, Decoded, SpeechEdge

POOL = ThreadPoolExecutor(1)


class ScriptedLive:
    """The pauses' decodes come back with the given texts, in order."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = list(texts)
        self.decoded_upto = self.done_upto = 0
        self.text = ""

    def on_pause(self, audio: np.ndarray, pause_at_sample: int, *, speech_s: float | None = None
                 ) -> asyncio.Future[str | None]:
        done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        done.set_result(self.texts.pop(0))
        return done

    def cancel(self) -> None:
        pass


class Asr:
    def live(self, on_decoded: Callable[[Decoded], None], *, paused: Callable[[], bool] | None = None
             ) -> ScriptedLive:
        return ScriptedLive(["We moved the whole team", ""])  # the answer, then the run that follows it


def frames(answer: Answer, start: float, end: float, db: float) -> None:
    """20 ms frames from `start` to `end` (media time) at `db` above the noise floor."""
    t = start
    while t < end - 1e-9:
        answer.append(AudioChunk(np.zeros(FRAME_SAMPLES, np.int16).tobytes(), start=t), db)
        t = round(t + FRAME_SECONDS, 6)


async def pause_after_a_run(run_db: float, *, strong_frames: int = 10) -> Answer:
    """Speech 10.0-11.0 s (a decoded answer), a pause, a 0.46 s run at 12.0 s whose decode is empty."""
    answer = Answer(listening_since=10.0, params=TurnParams(), asr=Asr(), detector=None,  # type: ignore[arg-type]
                    detector_executor=POOL, on_probability=lambda p, at: None)
    frames(answer, 10.0, 11.0, 30.0)
    frames(answer, 11.0, 12.0, 3.0)
    answer.on_edge(SpeechEdge(True, 10.0))
    answer.on_edge(SpeechEdge(False, 11.0))
    await asyncio.sleep(0)
    answer.on_edge(SpeechEdge(True, 12.0))
    strong_end = 12.0 + strong_frames * FRAME_SECONDS
    frames(answer, 12.0, strong_end, run_db)
    frames(answer, strong_end, 12.46, 12.0)
    answer.on_edge(SpeechEdge(False, 12.46))
    for _ in range(3):
        await asyncio.sleep(0)
    return answer


def test_an_empty_decode_of_a_run_at_a_voices_level_is_not_wound_back() -> None:
    answer = asyncio.run(pause_after_a_run(STRONG_DB + 6))
    assert answer.policy.pause_started == pytest.approx(12.46)  # the wait counts from the word's end


def test_an_empty_decode_of_a_run_at_room_noise_level_is_wound_back() -> None:
    answer = asyncio.run(pause_after_a_run(STRONG_DB - 6))  # LJ's noise bursts: 12-15 dB above the floor
    assert answer.policy.pause_started == pytest.approx(11.0)  # the silence before it goes on


def test_fewer_strong_frames_in_a_row_than_a_voice_has_do_not_count() -> None:
    answer = asyncio.run(pause_after_a_run(STRONG_DB + 6, strong_frames=VOICED_FRAMES - 1))
    assert answer.policy.pause_started == pytest.approx(11.0)
