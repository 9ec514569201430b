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
from milo_voice.calls.live_mirror import LiveMirror, Rebuilt, drop
from milo_voice.calls.persist import SessionWriter
from milo_voice.calls.recording_upload import upload_after_session
from milo_voice.calls.reply_timing import TimedObserver, observe_channel
from milo_voice.calls.session_store import SessionStore
from milo_voice.calls.takeover import Takeover, adopt
from milo_voice.calls.timeline_offset import OffsetObserver, OffsetSink
from milo_voice.dialogue import events as ev
from milo_voice.dialogue.planner import close_planner
from milo_voice.dialogue.resume import ResumePoint
from milo_voice.dialogue.script import InterviewScript
from milo_voice.dialogue.session import InterviewSession
from milo_voice.dialogue.session_types import SessionObserver
from milo_voice.dialogue.turn_policy import TurnParams
from milo_voice.media.recorder import Recorder
from milo_voice.media.types import AudioChunk, RecordingSink, Transport
from milo_voice.media.vad import FrameVad, SpeechSegmenter
from milo_voice.scoring.service import enqueue_scoring, notify_started
from milo_voice.settings import Settings
from milo_voice.store.objects import StorageError
from milo_voice.store.recordings import recordings_for
from milo_voice.workspace.accommodations import Accommodations
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.escalate import Escalations
from milo_voice.workspace.interviews import Interviews

log = logging.getLogger(__name__)

MIRROR_FLUSH_S = 0.5
"""Seconds between two flushes (and mirrors to the object store) of a live recording when a store is
configured: a node's death loses at most about this much audio of a call another node takes over."""


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
    takeover: Takeover | None = None,
) -> SessionOutcome:
    """Run one interview to its end over `transport` and store it; never loses what was recorded.

    `on_started(session_id)` is called once the session row exists (channels use it to tell the
    candidate's client which session it is in). With `takeover`, the session is a dead node's live one
    and goes on where it was (`calls/takeover.py`) instead of a new one starting.
    """
    loop = asyncio.get_running_loop()
    script = await loop.run_in_executor(None, _script, store, interview_id)
    await loop.run_in_executor(None, runtime.prepare, script)
    params = (await loop.run_in_executor(None, turn_params_for_candidate, settings, store, script,
                                         candidate_id)).heard_after(getattr(transport, "heard_delay", 0.0))
    directory = settings.recordings_dir / f"session-{uuid.uuid4().hex[:12]}"
    opened = await loop.run_in_executor(None, lambda: _open(
        settings, store, script, params, directory, takeover,
        candidate_id=candidate_id, interview_id=interview_id, channel=channel))
    session_id = opened.session_id
    if on_started is not None:
        on_started(session_id)
    if takeover is None:
        await _notify_started(settings, store, session_id)
    mirrored = recordings_for(settings).objects is not None  # then flushed twice as often: see live_mirror
    recorder = Recorder(directory, flush_every=MIRROR_FLUSH_S if mirrored else 1.0)
    if opened.audio is not None:
        await loop.run_in_executor(None, _prefill, recorder, opened.audio)
    writer = SessionWriter(store, session_id)
    shifted = OffsetObserver(writer, opened.offset_s) if opened.offset_s else writer
    sink = OffsetSink(recorder, opened.offset_s) if opened.offset_s else recorder
    timed = TimedObserver(shifted, observe_channel(channel))  # live dead air and latency: /metrics
    session = _interview(settings, runtime, script, transport, sink, timed, params, opened.point)
    mirror = _mirror(settings, opened, directory)
    flusher = asyncio.ensure_future(_flush_periodically(recorder, mirror))
    completed, error = False, None
    try:
        completed = await session.run()
    except Exception as exc:  # task root: the recording and turns so far are kept
        log.exception("live.session_failed", extra={"session_id": session_id, "channel": channel})
        error = repr(exc)
    finally:
        flusher.cancel()
        await _release_planner(session, session_id)
        status = "completed" if completed else ("failed" if error else "interrupted")
        recording = await _finish(settings, store, transport, recorder, writer, session_id, status, error,
                                  session_cpu_s(session.state.asr_cpu_s))
        if mirror is not None:
            await loop.run_in_executor(None, _drop_mirror, mirror)
    return SessionOutcome(session_id, status, writer, recording, recorder.duration)


async def _notify_started(settings: Settings, store: SessionStore, session_id: int) -> None:
    """The interview.started webhook: a failure is logged and must never stop the interview."""
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, notify_started, settings, store.engine, session_id)
    except Exception:
        log.exception("live.notify_started_failed", extra={"session_id": session_id})


async def _release_planner(session: InterviewSession, session_id: int) -> None:
    """The LLM's connections close with the session; a failure here must not lose the session."""
    try:
        await close_planner(session.planner)
    except Exception:
        log.exception("live.planner_close_failed", extra={"session_id": session_id})


@dataclass(frozen=True, slots=True)
class _Opened:
    session_id: int
    point: ResumePoint | None = None
    audio: Rebuilt | None = None
    offset_s: float = 0.0
    generation: int = 1


def _open(settings: Settings, store: SessionStore, script: InterviewScript, params: TurnParams,
          directory: Path, takeover: Takeover | None, *, candidate_id: int, interview_id: int,
          channel: str) -> _Opened:
    """A new session row, or the dead node's session adopted (blocking)."""
    if takeover is not None:
        adopted = adopt(store, recordings_for(settings).objects, takeover, node=settings.node, script=script,
                        directory=directory)
        return _Opened(adopted.session_id, adopted.point, adopted.audio, adopted.offset_s, adopted.generation)
    return _Opened(store.start_session(
        candidate_id=candidate_id, interview_id=interview_id, channel=channel, recording_dir=str(directory),
        settings=settings_record(settings, params), node=settings.node))


def _prefill(recorder: Recorder, audio: Rebuilt) -> None:
    """The dead node's part of the recording, first on the timeline (blocking)."""
    if audio.candidate:
        recorder.write_candidate(AudioChunk(audio.candidate, audio.sample_rate, 0.0))
    if audio.interviewer:
        recorder.write_interviewer(AudioChunk(audio.interviewer, audio.sample_rate, 0.0))
    recorder.flush()


def _mirror(settings: Settings, opened: _Opened, directory: Path) -> LiveMirror | None:
    """With an object store, the live recording is mirrored to it as it is flushed (another node can go
    on); the part a dead node mirrored already (`opened.audio`) is not sent again."""
    objects = recordings_for(settings).objects
    if objects is None:
        return None
    audio = opened.audio
    mirrored = (len(audio.candidate) // 2, len(audio.interviewer) // 2) if audio is not None else (0, 0)
    return LiveMirror(objects, opened.session_id, opened.generation, directory, mirrored=mirrored)


def _drop_mirror(mirror: LiveMirror) -> None:
    """The session ended: its mirror goes, after the upload in flight, if any (blocking)."""
    mirror.close()
    try:
        drop(mirror.objects, mirror.session_id)
    except StorageError as exc:  # leftovers under live/ cost space only; logged for the operator
        log.warning("live.mirror_drop_failed", extra={"session_id": mirror.session_id, "error": str(exc)})


def _interview(settings: Settings, runtime: Runtime, script: InterviewScript, transport: Transport,
               recorder: RecordingSink, writer: SessionObserver, params: TurnParams,
               resume: ResumePoint | None) -> InterviewSession:
    """The dialogue session, with a planner whose timing events land in that session's log."""
    holder: list[InterviewSession] = []
    planner = make_planner(
        settings,
        on_first_token=lambda: holder[0].emit(ev.PLAN_FIRST_TOKEN),
        on_fallback=lambda reason: holder[0].emit(ev.PLAN_FALLBACK, reason=reason[:200]),
    )
    session = InterviewSession(script, transport, runtime.engines, planner, recorder, writer, params=params,
                               vad=FrameVad(settings.vad_mode), segmenter=SpeechSegmenter(), resume=resume)
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


async def _flush_periodically(recorder: Recorder, mirror: LiveMirror | None) -> None:
    """Flush the recording to disk on time; mirror it to the store beside, never holding the flushes up
    (a slow store skips mirrors: the next one sends everything since)."""
    loop = asyncio.get_running_loop()
    syncing: asyncio.Future[int] | None = None
    while True:
        await asyncio.sleep(recorder.flush_every)
        await loop.run_in_executor(None, recorder.flush)
        if mirror is not None and (syncing is None or syncing.done()):
            syncing = loop.run_in_executor(None, mirror.sync)  # never raises on a store's failure
