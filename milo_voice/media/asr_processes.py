"""Whisper in worker processes (`MILO_ASR_PROCESSES`): the same decodes as `WhisperEngine`, run in
child processes that each load the model once.

Why: a decode is not all native code. faster-whisper's feature extraction, its word-timestamp
alignment and the result handling are Python and hold the interpreter lock; so does the event loop,
which carries every live call's media (VAD, resampling, JSON, base64). With many calls on one
process, ASR jobs queue for the lock while cores stand idle. In child processes they do not.

`WhisperProcesses.decode_live`/`decode` block the calling thread (the ASR thread pool) until a child
has answered; the thread waits without the lock. Whole-answer decodes (seconds of beam search) take
at most all children but one, so a live decode, which ends a candidate's turn, never waits behind
them all. A child that dies (killed, out of memory) fails the jobs it held with `EngineUnavailable`;
the pool is rebuilt for the next job. Children use the "spawn" start method (the server is
multithreaded: forking it is unsafe) and exit when the server does, however it ends (each watches its
parent's sentinel), so a killed server leaves none behind.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import numpy as np

from milo_voice import observability as metrics
from milo_voice.errors import EngineUnavailable
from milo_voice.media.types import Decoded

log = logging.getLogger(__name__)

WAIT_LABEL = "asr_process"
"""`milo_pool_wait_seconds{pool="asr_process"}`: from a decode's submission to a child starting it."""
_engine: Any = None
"""The child's `WhisperEngine` (set by `_load`, the pool's initializer)."""


@dataclass(frozen=True, slots=True)
class EngineSpec:
    model_dir: str
    threads: int
    beam_size: int


def _load(spec: EngineSpec) -> None:
    global _engine
    _exit_with_parent()
    from milo_voice.media.asr import WhisperEngine  # the child imports the model code, not the parent's copy

    _engine = WhisperEngine(spec.model_dir, threads=spec.threads, workers=1, beam_size=spec.beam_size)


def _exit_with_parent() -> None:
    """A killed server cannot stop its children: each watches its parent's sentinel (a pipe that
    closes when the parent dies, however it dies) and exits with it."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(0)

    threading.Thread(target=watch, name="asr-parent-watch", daemon=True).start()


def _measures_cpu() -> bool:
    return bool(_engine.measures_cpu)


def _decode_live(audio: np.ndarray, prompt: str) -> tuple[Decoded, float]:
    """The decode, and when the child started it (CLOCK_MONOTONIC: the same clock in every process)."""
    started = time.monotonic()
    return _engine.decode_live(audio, prompt=prompt), started


def _decode(audio: np.ndarray, offset: float) -> tuple[Decoded, float]:
    started = time.monotonic()
    return _engine.decode(audio, offset=offset), started


class WhisperProcesses:
    """`WhisperEngine`'s decoding interface, served by `processes` child processes."""

    def __init__(self, model_dir: str, *, processes: int, threads: int = 1, beam_size: int = 5) -> None:
        if processes < 1:
            raise ValueError(f"processes={processes}: expected 1 or more")
        self.spec = EngineSpec(str(model_dir), threads, beam_size)
        self.processes, self.threads, self.beam_size = processes, threads, beam_size
        self._lock = threading.Lock()
        self._finals = threading.BoundedSemaphore(max(1, processes - 1))
        self._pool = self._start()
        self._measures_cpu = self._warm()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_load, initargs=(self.spec,))

    def _warm(self) -> bool:
        """Load the model in every child now (a missing or broken model fails at start, not mid-call)."""
        checks = [self._pool.submit(_measures_cpu) for _ in range(self.processes)]
        try:
            return all(check.result(timeout=300) for check in checks)
        except BrokenProcessPool as exc:
            self._pool.shutdown(wait=False, cancel_futures=True)
            why = f"the ASR worker processes did not start ({exc}); see the log above"
            raise EngineUnavailable(why) from exc

    def pids(self) -> list[int]:
        """The children's process ids (for the log and the tests)."""
        with self._lock:
            return [p.pid for p in (self._pool._processes or {}).values() if p.pid is not None]

    @property
    def measures_cpu(self) -> bool:
        return self._measures_cpu

    def decode_live(self, audio: np.ndarray, *, prompt: str = "") -> Decoded:
        return self._run(lambda pool: pool.submit(_decode_live, np.ascontiguousarray(audio), prompt))

    def decode(self, audio: np.ndarray, *, offset: float = 0.0) -> Decoded:
        """A whole answer (seconds of beam search): at most all children but one run these at once, so a
        live decode, which a candidate's turn waits for, always finds a child free soon."""
        with self._finals:
            return self._run(lambda pool: pool.submit(_decode, np.ascontiguousarray(audio), offset))

    def _run(self, submit: Any) -> Decoded:
        with self._lock:
            pool = self._pool
        queued = time.monotonic()
        try:
            future: Future[tuple[Decoded, float]] = submit(pool)
            decoded, started = future.result()
            metrics.POOL_WAIT.labels(WAIT_LABEL).observe(max(0.0, started - queued))
            return decoded
        except BrokenProcessPool as exc:
            self._replace(pool)
            why = f"an ASR worker process died ({exc}); the next decode starts a new one"
            raise EngineUnavailable(why) from exc

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is not broken:
                return  # another thread replaced it already
            log.error("asr.worker_process_died", extra={"processes": self.processes})
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()

    def close(self) -> None:
        with self._lock:
            self._pool.shutdown(wait=False, cancel_futures=True)
