"""Whisper in worker processes (`MILO_ASR_PROCESSES`): the same decodes as `WhisperEngine`, run in
child processes that each load the model once.

Why: a decode is not all native code. faster-whisper's feature extraction, its word-timestamp
alignment and the result handling are Python and hold the interpreter lock; so does the event loop,
which carries every live call's media (VAD, resampling, JSON, base64). With many calls on one
process, ASR jobs queue for the lock while cores stand idle. In child processes they do not.

`WhisperProcesses.decode_live`/`decode` block the calling thread (the ASR thread pool) until a child
has answered; the thread waits without the lock. Live decodes (a candidate's turn waits for them) and
whole-answer decodes (seconds of beam search, for the stored transcript) run on separate children, the
latter at a lower CPU priority (`FINAL_NICE`), so they use what the calls leave idle and never hold up
a turn. When a child dies (killed, out of memory), its pool is rebuilt and the job runs once more
there; a job that breaks a second pool fails with `EngineUnavailable`. Children use the "spawn" start
method (the server is multithreaded: forking it is unsafe) and exit when the server does, however it
ends (each watches its parent's sentinel), so a killed server leaves none behind.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from milo_voice import observability as metrics
from milo_voice.errors import EngineUnavailable
from milo_voice.media.types import Decoded

log = logging.getLogger(__name__)

FINAL_NICE = 19
"""Niceness added to the whole-answer children: under Linux's scheduler a nice-19 process gets about
1.5% of a core that a nice-0 process wants, and all of an idle one."""
WAIT_LABEL = "asr_process"
"""`milo_pool_wait_seconds{pool="asr_process"}`: from a decode's submission to a child starting it."""
_engine: Any = None
"""The child's `WhisperEngine` (set by `_load`, the pool's initializer)."""


@dataclass(frozen=True, slots=True)
class EngineSpec:
    model_dir: str
    threads: int
    beam_size: int
    nice: int = 0
    """Added to the child's scheduling niceness (the whole-answer children run at FINAL_NICE)."""


def _load(spec: EngineSpec) -> None:
    global _engine
    _exit_with_parent()
    if spec.nice:
        os.nice(spec.nice)
    from milo_voice.media.asr import WhisperEngine  # the child imports the model code, not the parent's copy
    from milo_voice.media.blas_threads import one_blas_thread

    one_blas_thread()

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


class Children:
    """One pool of child processes with the model loaded; rebuilt when a child dies."""

    def __init__(self, spec: EngineSpec, processes: int) -> None:
        self.spec, self.processes = spec, processes
        self._lock = threading.Lock()
        self._pool = self._start()
        self.measures_cpu = self._warm()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_load, initargs=(self.spec,))

    def _load_all(self) -> bool:
        """Start every child and load its model (spawned one by one on demand, a job would wait)."""
        checks = [self._pool.submit(_measures_cpu) for _ in range(self.processes)]
        return all(check.result(timeout=300) for check in checks)

    def _warm(self) -> bool:
        """`_load_all` at start: a missing or broken model fails now, not mid-call."""
        try:
            return self._load_all()
        except BrokenProcessPool as exc:
            self._pool.shutdown(wait=False, cancel_futures=True)
            why = f"the ASR worker processes did not start ({exc}); see the log above"
            raise EngineUnavailable(why) from exc

    def pids(self) -> list[int]:
        with self._lock:
            return [p.pid for p in (self._pool._processes or {}).values() if p.pid is not None]

    def run(self, job: Callable[..., tuple[Decoded, float]], *args: Any) -> Decoded:
        """The job on a child; when a child has died (before or during it), once more on a new pool."""
        for attempt in (1, 2):
            with self._lock:
                pool = self._pool
            queued = time.monotonic()
            try:
                decoded, started = pool.submit(job, *args).result()
            except BrokenProcessPool as exc:
                self._replace(pool)
                if attempt == 2:
                    why = f"an ASR worker process died twice on this job ({exc}); the next job starts anew"
                    raise EngineUnavailable(why) from exc
                continue
            metrics.POOL_WAIT.labels(WAIT_LABEL).observe(max(0.0, started - queued))
            return decoded
        raise AssertionError("unreachable")

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is not broken:
                return  # another thread replaced it already
            log.error("asr.worker_process_died", extra={"processes": self.processes, "nice": self.spec.nice})
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()
            with contextlib.suppress(BrokenProcessPool):  # broken again: the next job replaces it again
                self._load_all()

    def close(self) -> None:
        with self._lock:
            self._pool.shutdown(wait=False, cancel_futures=True)


class WhisperProcesses:
    """`WhisperEngine`'s decoding interface on child processes: `processes` for live decodes, as many
    again, at a lower CPU priority, for whole-answer decodes."""

    def __init__(self, model_dir: str, *, processes: int, threads: int = 1, beam_size: int = 5) -> None:
        if processes < 1:
            raise ValueError(f"processes={processes}: expected 1 or more")
        self.processes, self.threads, self.beam_size = processes, threads, beam_size
        spec = EngineSpec(str(model_dir), threads, beam_size)
        self.live = Children(spec, processes)
        try:
            self.finals = Children(replace(spec, nice=FINAL_NICE), processes)
        except EngineUnavailable:
            self.live.close()
            raise

    @property
    def live_slots(self) -> int:
        """Live decodes run at once: one per live child."""
        return self.processes

    def pids(self) -> list[int]:
        """The children's process ids, live ones first (for the log and the tests)."""
        return self.live.pids() + self.finals.pids()

    @property
    def measures_cpu(self) -> bool:
        return self.live.measures_cpu and self.finals.measures_cpu

    def decode_live(self, audio: np.ndarray, *, prompt: str = "") -> Decoded:
        return self.live.run(_decode_live, np.ascontiguousarray(audio), prompt)

    def decode(self, audio: np.ndarray, *, offset: float = 0.0) -> Decoded:
        """A whole answer (seconds of beam search) on the low-priority children: it takes the CPU that
        live decodes and the calls' media leave idle, and never delays a candidate's turn."""
        return self.finals.run(_decode, np.ascontiguousarray(audio), offset)

    def close(self) -> None:
        self.live.close()
        self.finals.close()
