"""Loads the shared engines (ASR, Smart Turn, TTS) and their executors once per process.

Also builds a session's planner: the offline planner, or the LLM planner with the offline one
as its fallback when `MILO_LLM_BASE_URL` is set.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from milo_voice.calls.pools import TimedPool
from milo_voice.dialogue.fallback import FallbackPlanner
from milo_voice.dialogue.llm_planner import LlmPlanner
from milo_voice.dialogue.planner import OfflinePlanner, Planner
from milo_voice.dialogue.script import InterviewScript
from milo_voice.dialogue.session_types import Engines
from milo_voice.dialogue.speaker import clauses
from milo_voice.errors import ModelMissing
from milo_voice.media import model_files
from milo_voice.media.asr import WhisperEngine, WhisperTranscriber
from milo_voice.media.asr_processes import WhisperProcesses
from milo_voice.media.blas_threads import one_blas_thread
from milo_voice.media.smart_turn import SmartTurn
from milo_voice.media.tts import TtsCache, make_tts
from milo_voice.settings import Settings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Runtime:
    """What a process loads once and shares between sessions."""

    settings: Settings
    engines: Engines
    tts: TtsCache
    executors: tuple[ThreadPoolExecutor, ...]
    asr: WhisperEngine | WhisperProcesses
    """The Whisper engine behind `engines.asr`, for benches that decode outside a session."""

    def close(self) -> None:
        for executor in self.executors:
            executor.shutdown(wait=False, cancel_futures=True)
        if isinstance(self.asr, WhisperProcesses):
            self.asr.close()

    def prepare(self, script: InterviewScript) -> int:
        """Render an interview version's fixed lines into the TTS cache (blocking)."""
        return self.tts.prerender([piece for line in script.fixed_lines() for piece in clauses(line)])


def load_runtime(settings: Settings) -> Runtime:
    """Load every engine from local files; raises ModelMissing naming what to install."""
    one_blas_thread()  # spinning BLAS threads would take the models' CPU (media/blas_threads.py)
    whisper_dir = model_files.resolve_whisper(settings.asr_model, settings.models_dir)
    asr: WhisperEngine | WhisperProcesses
    if settings.asr_processes:
        asr = WhisperProcesses(str(whisper_dir), processes=settings.asr_processes,
                               threads=settings.asr_threads, beam_size=settings.asr_beam_size)
    else:
        asr = WhisperEngine(str(whisper_dir), threads=settings.asr_threads, workers=settings.asr_workers,
                            beam_size=settings.asr_beam_size)
    try:
        detector: SmartTurn | None = SmartTurn(model_files.resolve_smart_turn(settings.models_dir))
    except ModelMissing as exc:
        log.warning("engines.smart_turn_missing", extra={"detail": str(exc)})
        detector = None
    engine, engine_id = make_tts(settings)
    tts = TtsCache(settings.models_dir / "tts-cache", engine, engine_id)
    # each job's wait: milo_pool_wait_seconds; with child processes the threads only wait for a child
    # (the children's own queue is the one that counts, pool="asr_process"), so there are enough of them
    asr_threads = settings.asr_workers if not settings.asr_processes else 2 * settings.asr_processes + 2
    asr_pool = TimedPool("asr", asr_threads)
    tts_pool = TimedPool("tts", settings.tts_workers)
    turn_pool = TimedPool("turn", 1)
    engines = Engines(WhisperTranscriber(asr, asr_pool), tts, tts_pool, detector, turn_pool)
    return Runtime(settings, engines, tts, (asr_pool, tts_pool, turn_pool), asr)


def make_planner(
    settings: Settings,
    *,
    on_first_token: Callable[[], None] | None = None,
    on_fallback: Callable[[str], None] | None = None,
) -> Planner:
    offline = OfflinePlanner()
    if not settings.llm_enabled:
        return offline
    llm = LlmPlanner(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=str(settings.llm_api_key),
        timeout=settings.llm_total_timeout,
        on_first_token=on_first_token,
    )
    return FallbackPlanner(
        llm,
        OfflinePlanner(source="offline-fallback"),
        first_timeout=settings.llm_timeout,
        total_timeout=settings.llm_total_timeout,
        on_fallback=on_fallback,
    )


class LazyRuntime:
    """Loads the `Runtime` on first use (off the event loop) and shares it; for the web app.

    Pages that need no models never pay for loading them; the first live session does, once.
    """

    def __init__(self, settings: Settings, runtime: Runtime | None = None) -> None:
        self.settings = settings
        self._runtime = runtime
        self._lock = asyncio.Lock()

    @property
    def loaded(self) -> Runtime | None:
        return self._runtime

    async def get(self) -> Runtime:
        async with self._lock:
            if self._runtime is None:
                loop = asyncio.get_running_loop()
                self._runtime = await loop.run_in_executor(None, load_runtime, self.settings)
            return self._runtime

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
