"""Smart Turn is not asked about a pause that ended while its request waited for the model's worker:
a verdict on a pause that is over changes nothing (TurnPolicy ignores it), and under load the queue of
such requests is what delayed the verdicts that still mattered (README, Capacity)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from milo_voice.dialogue.answer import Answer
from milo_voice.dialogue.turn_policy import TurnParams
from milo_voice.media.types import SpeechEdge
from tests.dialogue.test_answer_noise import Asr, frames


class CountingDetector:
    def __init__(self) -> None:
        self.asked: list[int] = []

    def predict(self, samples: np.ndarray) -> float:
        self.asked.append(samples.size)
        return 0.9


async def pause_then(resume: bool) -> tuple[CountingDetector, list[tuple[float, float]]]:
    pool = ThreadPoolExecutor(1)
    gate = threading.Event()
    pool.submit(gate.wait)  # the model's one worker is busy with another call's request
    detector, heard = CountingDetector(), []
    answer = Answer(listening_since=10.0, params=TurnParams(), asr=Asr(), detector=detector,  # type: ignore[arg-type]
                    detector_executor=pool, on_probability=lambda p, at: heard.append((p, at)))
    frames(answer, 10.0, 12.0, 30.0)
    answer.on_edge(SpeechEdge(True, 10.0))
    answer.on_edge(SpeechEdge(False, 11.0))
    await asyncio.sleep(0)
    if resume:
        answer.on_edge(SpeechEdge(True, 11.4))  # the candidate goes on before the worker is free
    gate.set()
    await answer.settle()
    pool.shutdown()
    return detector, heard


def test_a_pause_that_ended_while_its_request_waited_is_not_sent_to_the_model() -> None:
    detector, heard = asyncio.run(pause_then(resume=True))
    assert detector.asked == [] and heard == []


def test_a_pause_still_going_on_when_the_worker_is_free_gets_its_verdict() -> None:
    detector, heard = asyncio.run(pause_then(resume=False))
    assert len(detector.asked) == 1 and heard == [(0.9, 11.0)]
