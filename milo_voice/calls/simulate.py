"""`milo-voice simulate`: a whole interview where the candidate is a list of answer recordings.

Runs the real pipeline (VAD, turn policy, ASR, planner, TTS, recorder) over a `FileTransport`
paced in real time, and stores everything like a live interview. The harness for tests and
benchmarks.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from milo_voice.calls.engines import Runtime
from milo_voice.calls.latency import Latencies, TrueAnswer, measure
from milo_voice.calls.run import run_session
from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.session_types import TurnRecord
from milo_voice.errors import BadMedia
from milo_voice.media.pcm import frames, read_wav
from milo_voice.media.transports.file import FileTransport, SimAnswer
from milo_voice.media.types import SAMPLE_RATE
from milo_voice.media.vad import FrameVad, SpeechSegmenter
from milo_voice.settings import Settings
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.demo import Demo

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
    store: SessionStore,
    answers: list[SimAnswer],
    *,
    interview_id: int | None = None,
) -> SimulationResult:
    """Run one simulated interview end to end and store it."""
    loop = asyncio.get_running_loop()
    if interview_id is None:
        interview_id, _ = await loop.run_in_executor(None, Demo(store.engine, now=store.now).seed)
    candidate = await loop.run_in_executor(
        None, lambda: Candidates(store.engine, now=store.now).enrol(
            interview_id=interview_id, name="Simulated candidate")
    )
    assert candidate.id is not None
    transport = FileTransport(answers, human_delay=settings.human_delay)
    outcome = await run_session(settings, runtime, store, transport, candidate_id=candidate.id,
                                interview_id=interview_id, channel="simulate")
    truth = [TrueAnswer(a.start, a.speech_end) for a in transport.log]
    writer = outcome.writer
    return SimulationResult(
        session_id=outcome.session_id,
        completed=outcome.status == "completed",
        turns=sorted(writer.turns, key=lambda t: t.index),  # answers are stored once their reply is heard
        transcripts={i: text for i, (text, _) in writer.transcripts.items()},
        latencies=measure(writer.events, truth),
        answers=truth,
        recording=outcome.recording,
        duration_s=outcome.duration_s,
    )


def format_transcript(result: SimulationResult) -> str:
    lines = []
    for turn in result.turns:
        text = result.transcripts.get(turn.index, turn.text) if turn.speaker == "candidate" else turn.text
        who = "Candidate  " if turn.speaker == "candidate" else "Interviewer"
        lines.append(f"[{turn.start_s:7.2f}-{turn.end_s:7.2f}] {who}: {text}")
    return "\n".join(lines)
