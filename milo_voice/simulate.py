"""`milo-voice simulate`: a whole interview where the candidate is a list of answer recordings.

Runs the real pipeline (VAD, turn policy, ASR, planner, TTS, recorder) over a `FileTransport`
paced in real time, and stores everything like a live interview. The harness for tests and
benchmarks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from milo_voice.dialogue import events as ev
from milo_voice.dialogue.session import InterviewSession, TurnRecord
from milo_voice.engines import Runtime, make_planner
from milo_voice.errors import BadMedia
from milo_voice.latency import Latencies, TrueAnswer, measure
from milo_voice.media.file_transport import FileTransport, SimAnswer
from milo_voice.media.pcm import frames, read_wav
from milo_voice.media.recorder import Recorder
from milo_voice.media.turn_policy import TurnParams
from milo_voice.media.types import SAMPLE_RATE
from milo_voice.media.vad import FrameVad, SpeechSegmenter
from milo_voice.persist import SessionWriter
from milo_voice.settings import Settings
from milo_voice.store import Store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SimulationResult:
    session_id: int
    completed: bool
    turns: list[TurnRecord]
    transcripts: dict[int, str]
    """Stored (whole-answer) transcript per candidate turn index."""
    latencies: Latencies
    answers: list[TrueAnswer]
    recording: Path | None
    duration_s: float


def turn_params(settings: Settings) -> TurnParams:
    return TurnParams(
        min_silence=settings.min_silence,
        max_silence=settings.max_silence,
        thinking_silence=settings.thinking_silence,
        turn_threshold=settings.turn_threshold,
    )


def estimate_speech_end(samples: np.ndarray) -> float:
    """Last end of speech in a recording, by the same VAD the session uses; 0.0 if it has none.

    Speech still running at the end of the file ends with the file. A recording without speech
    ends its speech at 0, so all of it counts as the candidate's room noise (`SimAnswer.room_noise`).
    """
    vad, segmenter = FrameVad(), SpeechSegmenter()
    end = 0.0
    for chunk in frames(samples):
        edge = segmenter.push(vad.is_speech(chunk.pcm), chunk.start)
        if edge is not None and not edge.speaking:
            end = edge.at
    return len(samples) / SAMPLE_RATE if segmenter.speaking else end


def load_answers(paths: Sequence[Path], manifest: Path | None = None) -> list[SimAnswer]:
    """Read answer WAVs (any rate or channel count); true speech ends from a manifest if given."""
    known: dict[str, float] = {}
    if manifest is not None and manifest.is_file():
        for line in manifest.read_text().splitlines():
            if line.strip():
                entry = json.loads(line)
                known[Path(entry["audio"]).stem] = float(entry["speech_end_s"])
    answers = []
    for path in paths:
        samples = read_wav(path)
        if len(samples) == 0:
            raise BadMedia(f"{path}: holds no audio samples; expected a recorded answer")
        end = known.get(Path(path).stem)
        answers.append(SimAnswer(samples, end if end is not None else estimate_speech_end(samples),
                                 Path(path).stem))
    return answers


async def simulate(
    settings: Settings,
    runtime: Runtime,
    store: Store,
    answers: list[SimAnswer],
    *,
    interview_id: int | None = None,
) -> SimulationResult:
    """Run one simulated interview end to end and store it."""
    loop = asyncio.get_running_loop()
    if interview_id is None:
        interview_id, _ = await loop.run_in_executor(None, store.seed_demo)
    script = await loop.run_in_executor(None, store.script_for, interview_id)
    await loop.run_in_executor(None, runtime.prepare, script)
    candidate = await loop.run_in_executor(
        None, lambda: store.add_candidate(interview_id=interview_id, name="Simulated candidate")
    )
    params = turn_params(settings)
    directory = settings.recordings_dir / f"session-{uuid.uuid4().hex[:12]}"
    session_id = await loop.run_in_executor(None, lambda: store.start_session(
        candidate_id=candidate.id, interview_id=interview_id, channel="simulate",
        recording_dir=str(directory), settings=_settings_record(settings, params),
    ))
    recorder = Recorder(directory)
    transport = FileTransport(answers, human_delay=settings.human_delay)
    writer = SessionWriter(store, session_id)
    holder: list[InterviewSession] = []
    planner = make_planner(
        settings,
        on_first_token=lambda: holder[0].emit(ev.PLAN_FIRST_TOKEN),
        on_fallback=lambda reason: holder[0].emit(ev.PLAN_FALLBACK, reason=reason[:200]),
    )
    session = InterviewSession(script, transport, runtime.engines, planner, recorder, writer,
                               params=params, vad_mode=settings.vad_mode)
    holder.append(session)
    flusher = asyncio.ensure_future(_flush_periodically(recorder))
    completed, error = False, None
    try:
        completed = await session.run()
    except Exception as exc:  # task root: the recording and turns so far are kept
        log.exception("simulate.session_failed", extra={"session_id": session_id})
        error = repr(exc)
    finally:
        flusher.cancel()
        recording = await loop.run_in_executor(None, recorder.finalize)
        status = "completed" if completed else ("failed" if error else "interrupted")
        await loop.run_in_executor(None, writer.close)
        await loop.run_in_executor(None, lambda: store.end_session(
            session_id=session_id, status=status, duration_s=recorder.duration,
            recording_path=str(recording), error=error,
        ))
    truth = [TrueAnswer(a.start, a.speech_end) for a in transport.log]
    return SimulationResult(
        session_id=session_id,
        completed=completed,
        turns=writer.turns,
        transcripts={i: text for i, (text, _) in writer.transcripts.items()},
        latencies=measure(writer.events, truth),
        answers=truth,
        recording=recording,
        duration_s=recorder.duration,
    )


async def _flush_periodically(recorder: Recorder) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(recorder.flush_every)
        await loop.run_in_executor(None, recorder.flush)


def _settings_record(settings: Settings, params: TurnParams) -> dict[str, object]:
    return {
        "turn": {name: getattr(params, name) for name in params.__dataclass_fields__},
        "asr_model": settings.asr_model,
        "tts_engine": settings.tts_engine,
        "vad_mode": settings.vad_mode,
        "planner": "llm" if settings.llm_enabled else "offline",
        "llm_model": settings.llm_model if settings.llm_enabled else "",
    }


def format_transcript(result: SimulationResult) -> str:
    lines = []
    for turn in result.turns:
        text = result.transcripts.get(turn.index, turn.text) if turn.speaker == "candidate" else turn.text
        who = "Candidate  " if turn.speaker == "candidate" else "Interviewer"
        lines.append(f"[{turn.start_s:7.2f}-{turn.end_s:7.2f}] {who}: {text}")
    return "\n".join(lines)
