"""Runs one interview session over any transport and stores it: the seam every channel uses.

`run_session` is what a channel calls once it has a candidate and a `Transport` (a WebRTC peer,
a phone websocket, or a file for simulation). It opens the session row, the crash-safe recorder
and the persistence observer, runs the dialogue to its end, and closes everything whatever
happens: a dropped call or a crash keeps the recording and the turns so far.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from milo_voice.calls.engines import Runtime, make_planner
from milo_voice.calls.persist import SessionWriter
from milo_voice.calls.recording_upload import upload_after_session
from milo_voice.calls.reply_timing import TimedObserver, observe_channel
from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue import events as ev
from milo_voice.dialogue.script import InterviewScript
from milo_voice.dialogue.session import InterviewSession
from milo_voice.dialogue.session_types import SessionObserver
from milo_voice.dialogue.turn_policy import TurnParams
from milo_voice.media.recorder import Recorder
from milo_voice.media.types import Transport
from milo_voice.media.vad import FrameVad, SpeechSegmenter
from milo_voice.scoring.service import enqueue_scoring, notify_started
from milo_voice.settings import Settings
from milo_voice.store.recordings import recordings_for
from milo_voice.workspace.accommodations import Accommodations
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.escalate import Escalations
from milo_voice.workspace.interviews import Interviews

log = logging.getLogger(__name__)


def server_turn_params(settings: Settings) -> TurnParams:
    """The server's turn-taking settings (`MILO_*_SILENCE` and friends) as the policy takes them."""
    return TurnParams(
        min_silence=settings.min_silence, unsure_silence=settings.unsure_silence,
        max_silence=settings.max_silence, closing_silence=settings.closing_silence,
        rhythm_cap=settings.rhythm_cap, thinking_silence=settings.thinking_silence,
        turn_threshold=settings.turn_threshold,
    )


def turn_params_for(settings: Settings, script: InterviewScript) -> TurnParams:
    """The server's turn-taking settings with the interview's own patience, when the editor set it."""
    return server_turn_params(settings).with_patience(
        max_silence=script.max_silence, thinking_silence=script.thinking_silence
    )


def turn_params_for_candidate(settings: Settings, store: SessionStore, script: InterviewScript,
                              candidate_id: int) -> TurnParams:
    """The turn-taking of this candidate's session (web and phone alike): the interview's, with the extra
    time a person granted them (`workspace/accommodations.py`: every wait times their multiplier)."""
    multiplier = Accommodations(store.engine, now=store.now).multiplier(candidate_id)
    if multiplier != 1.0:
        log.info("live.extra_time", extra={"candidate_id": candidate_id, "multiplier": multiplier,
                                           "reason": "an accommodation a person granted"})
    return turn_params_for(settings, script).extended(multiplier)


def settings_record(settings: Settings, params: TurnParams) -> dict[str, object]:
    """The settings in force, stored with the session (JSON-safe, no secrets)."""
    return {
        "turn": {name: getattr(params, name) for name in params.__dataclass_fields__},
        "asr_model": settings.asr_model,
        "tts_engine": settings.tts_engine,
        "vad_mode": settings.vad_mode,
        "planner": "llm" if settings.llm_enabled else "offline",
        "llm_model": settings.llm_model if settings.llm_enabled else "",
    }


@dataclass(slots=True)
class SessionOutcome:
    session_id: int
    status: str
    """A `SessionStatus` value: completed, interrupted (call ended early) or failed."""
    writer: SessionWriter
    recording: Path | None
    duration_s: float


async def run_session(
    settings: Settings,
    runtime: Runtime,
    store: SessionStore,
    transport: Transport,
    *,
    candidate_id: int,
    interview_id: int,
    channel: str,
    on_started: Callable[[int], None] | None = None,
) -> SessionOutcome:
    """Run one interview to its end over `transport` and store it; never loses what was recorded.

    `on_started(session_id)` is called once the session row exists (channels use it to tell the
    candidate's client which session it is in).
    """
    loop = asyncio.get_running_loop()
    script = await loop.run_in_executor(None, _script, store, interview_id)
    await loop.run_in_executor(None, runtime.prepare, script)
    params = await loop.run_in_executor(None, turn_params_for_candidate, settings, store, script,
                                        candidate_id)
    directory = settings.recordings_dir / f"session-{uuid.uuid4().hex[:12]}"
    session_id = await loop.run_in_executor(None, lambda: store.start_session(
        candidate_id=candidate_id, interview_id=interview_id, channel=channel,
        recording_dir=str(directory), settings=settings_record(settings, params),
    ))
    if on_started is not None:
        on_started(session_id)
    try:  # the interview.started webhook: a failure is logged and must never stop the interview
        await loop.run_in_executor(None, notify_started, settings, store.engine, session_id)
    except Exception:
        log.exception("live.notify_started_failed", extra={"session_id": session_id})
    recorder = Recorder(directory)
    writer = SessionWriter(store, session_id)
    timed = TimedObserver(writer, observe_channel(channel))  # live dead air and latency: /metrics
    session = _interview(settings, runtime, script, transport, recorder, timed, params)
    flusher = asyncio.ensure_future(_flush_periodically(recorder))
    completed, error = False, None
    try:
        completed = await session.run()
    except Exception as exc:  # task root: the recording and turns so far are kept
        log.exception("live.session_failed", extra={"session_id": session_id, "channel": channel})
        error = repr(exc)
    finally:
        flusher.cancel()
        status = "completed" if completed else ("failed" if error else "interrupted")
        recording = await _finish(settings, store, transport, recorder, writer, session_id, status, error,
                                  session_cpu_s(session.state.asr_cpu_s))
    return SessionOutcome(session_id, status, writer, recording, recorder.duration)


def _interview(settings: Settings, runtime: Runtime, script: InterviewScript, transport: Transport,
               recorder: Recorder, writer: SessionObserver, params: TurnParams) -> InterviewSession:
    """The dialogue session, with a planner whose timing events land in that session's log."""
    holder: list[InterviewSession] = []
    planner = make_planner(
        settings,
        on_first_token=lambda: holder[0].emit(ev.PLAN_FIRST_TOKEN),
        on_fallback=lambda reason: holder[0].emit(ev.PLAN_FALLBACK, reason=reason[:200]),
    )
    session = InterviewSession(script, transport, runtime.engines, planner, recorder, writer, params=params,
                               vad=FrameVad(settings.vad_mode), segmenter=SpeechSegmenter())
    holder.append(session)
    return session


def session_cpu_s(asr_cpu_s: float) -> float | None:
    """The CPU seconds stored as the session's cost (`interview_session.cpu_s`): Whisper ASR only.

    Counted: the live segment decodes and the whole-answer (stored transcript) decodes the dialogue
    added to `DialogueState.asr_cpu_s` by the session's end, each measured from the kernel's
    per-thread counters of the calling and CTranslate2 threads (`media/cpu_clock.py`; an upper
    bound when two sessions decode at once), or wall time x `MILO_ASR_THREADS` where those are
    unreadable. Not counted, because nothing measures them yet: Smart Turn, TTS (Piper or espeak),
    VAD, the LLM planner, recording and Opus encoding; nor the live decodes of an answer the call's
    end cut off, nor whole-answer decodes that outlast the wind-down's wait. A value that is not a
    finite count >= 0 is stored as None (not measured)."""
    return asr_cpu_s if math.isfinite(asr_cpu_s) and asr_cpu_s >= 0 else None


async def _finish(settings: Settings, store: SessionStore, transport: Transport, recorder: Recorder,
                  writer: SessionWriter, session_id: int, status: str, error: str | None,
                  cpu_s: float | None) -> Path | None:
    """Close the recording and the session row, queue scoring if it completed, close the transport."""
    loop = asyncio.get_running_loop()
    recording = await loop.run_in_executor(None, recorder.finalize)
    await loop.run_in_executor(None, writer.close)
    await loop.run_in_executor(None, lambda: store.end_session(
        session_id=session_id, status=status, duration_s=recorder.duration,
        recording_path=str(recording) if recording else None, error=error, cpu_s=cpu_s,
    ))
    try:  # a line asking for a person flags the candidate; a failure here must not lose the session
        await loop.run_in_executor(None, _escalate, settings, store, session_id)
    except Exception:
        log.exception("live.escalation_failed", extra={"session_id": session_id})
    if status == "completed":
        try:  # scoring runs in the background worker; a failure here must not lose the session
            await loop.run_in_executor(None, _enqueue_scoring, settings, store, session_id)
        except Exception:
            log.exception("live.enqueue_scoring_failed", extra={"session_id": session_id})
    try:
        await transport.close()
    except Exception:  # closing a dead peer must not hide the outcome
        log.exception("live.transport_close_failed", extra={"session_id": session_id})
    if recording is not None and settings.storage_url:  # after the close: a camera video is finished too
        await loop.run_in_executor(None, upload_after_session, recordings_for(settings), store, session_id)
    return recording


def _script(store: SessionStore, interview_id: int) -> InterviewScript:
    """The interview version as the dialogue runs it (the workspace owns interviews)."""
    return Interviews(store.engine, now=store.now).script(interview_id)


def _escalate(settings: Settings, store: SessionStore, session_id: int) -> None:
    """Whatever the session's status: a candidate who asked for a person and then hung up needs one most."""
    Escalations(store.engine, settings, now=store.now).after_session(session_id)


def _enqueue_scoring(settings: Settings, store: SessionStore, session_id: int) -> int:
    """Queue scoring, with the workspace's candidate writer for the status changes scoring makes."""
    candidates = Candidates(store.engine, now=store.now)
    return enqueue_scoring(settings, store.engine, session_id, candidates=candidates)


async def _flush_periodically(recorder: Recorder) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(recorder.flush_every)
        await loop.run_in_executor(None, recorder.flush)
