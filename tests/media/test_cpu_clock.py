"""CPU accounting for work done in threads Python does not own (Whisper's CTranslate2 workers)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from milo_voice.media import model_files
from milo_voice.media.asr import WhisperEngine
from milo_voice.media.cpu_clock import ThreadCpu, new_threads, thread_cpu_s, thread_ids
from milo_voice.media.live_transcript import LiveTranscript, as_float
from tests.conftest import REPO, SPEECH

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")


class Worker:
    """A thread that spins while `busy` is set and sleeps otherwise, like a compute pool."""

    def __init__(self) -> None:
        self.busy, self.done, self.stop = threading.Event(), threading.Event(), False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop:
            if not self.busy.wait(0.01):
                continue
            end = time.thread_time() + 0.2
            while time.thread_time() < end:
                pass
            self.busy.clear()
            self.done.set()

    def job(self) -> None:
        self.done.clear()
        self.busy.set()
        self.done.wait(5)


def test_new_threads_finds_the_threads_a_call_starts() -> None:
    worker, made = new_threads(Worker)
    try:
        assert made == {worker.thread.native_id}
        assert made <= thread_ids()
    finally:
        worker.stop = True


def test_work_in_a_worker_thread_is_counted_and_sleeping_is_not() -> None:
    worker, made = new_threads(Worker)
    meter = ThreadCpu(made)
    try:
        assert meter.available
        _, busy = meter.measure(worker.job)  # the worker spins 0.2 CPU-s; the caller only waits
        _, idle = meter.measure(lambda: time.sleep(0.2))
        assert busy is not None and 0.15 < busy < 0.4
        assert idle is not None and idle < 0.05
    finally:
        worker.stop = True


def test_unreadable_counters_say_so() -> None:
    meter = ThreadCpu([])
    assert not meter.available
    assert meter.measure(lambda: 7) == (7, None)
    assert thread_cpu_s(2**31 - 1) is None


def test_whisper_decode_reports_cpu_not_waiting() -> None:
    """A decode that has to share the cores reports about what it costs alone, not its wall time."""
    engine = WhisperEngine(str(model_files.resolve_whisper("tiny.en", REPO / "models")), threads=1, workers=1)
    assert engine.measures_cpu
    with wave.open(str(SPEECH / "clips" / "librispeech_1088-134315-0000.wav")) as w:
        audio = as_float(np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"))[: 16000 * 6]
    engine.decode_live(audio[:16000])  # warm up
    alone = engine.decode_live(audio)
    assert alone.text
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(4)]
    try:
        time.sleep(0.2)
        started = time.perf_counter()
        busy = engine.decode_live(audio)
        wall = time.perf_counter() - started
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert busy.text == alone.text
    assert busy.cpu_s < 0.8 * wall, "waiting for a core was counted as compute"
    assert 0.5 * alone.cpu_s < busy.cpu_s < 2.0 * alone.cpu_s


def test_a_resumed_answer_counts_each_live_decode_once() -> None:
    """An answer resumed after a false end finishes twice; its first decodes are not counted again."""
    engine = WhisperEngine(str(model_files.resolve_whisper("tiny.en", REPO / "models")), threads=1, workers=1)
    with wave.open(str(SPEECH / "clips" / "librispeech_1088-134315-0000.wav")) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")[: 16000 * 6]

    async def run() -> tuple[float, float, float]:
        with ThreadPoolExecutor(1) as pool:
            live = LiveTranscript(engine, pool)
            await live.finish(pcm, 16000 * 3)
            first = live.take_cpu()
            await live.finish(pcm, 16000 * 6)  # resumed, then ended again
            second = live.take_cpu()
            return first, second, live.cpu_s

    first, second, total = asyncio.run(run())
    assert first > 0 and second > 0
    assert abs(first + second - total) < 1e-9
