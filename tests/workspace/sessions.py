"""A stored interview session for review tests, written through the real SessionStore and the real Recorder
(a real speech clip as the candidate's track, so the Ogg/Opus file is genuine)."""

from __future__ import annotations

from pathlib import Path

from conftest import SPEECH  # tests/conftest.py

from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.events import TimedEvent
from milo_voice.media.pcm import frames, read_wav
from milo_voice.media.recorder import Recorder

CLIP = SPEECH / "answers" / "librispeech_367_a03.wav"
ANSWER = "I make a <script>alert('x')</script> soup & bread."


def store_session(store: SessionStore, *, candidate_id: int, interview_id: int, directory: Path) -> int:
    """A completed session: greeting, question, the candidate's answer (offset 4 s), closing."""
    session_id = store.start_session(
        candidate_id=candidate_id,
        interview_id=interview_id,
        channel="simulate",
        recording_dir=str(directory),
        settings={},
    )
    recorder = Recorder(directory)
    samples = read_wav(CLIP)[: 16000 * 6]
    for chunk in frames(samples, start=4.0):
        recorder.write_candidate(chunk)
    recording = recorder.finalize()
    turns = [
        ("interviewer", "Hello, thanks for joining.", 0.0, 1.5, 0, "greeting"),
        ("interviewer", "What is your favourite recipe?", 1.6, 3.6, 0, "question"),
        ("candidate", ANSWER, 4.0, 9.5, 0, "answer"),
        ("interviewer", "Thank you, goodbye.", 10.2, 11.5, 0, "closing"),
    ]
    for index, (speaker, text, start, end, position, kind) in enumerate(turns):
        store.add_turn(
            session_id=session_id,
            index=index,
            speaker=speaker,
            text=text,
            start_s=start,
            end_s=end,
            question_position=position,
            is_follow_up=False,
            kind=kind,
        )
    store.add_events(
        session_id,
        [
            TimedEvent("speech_end", 9.5, 0.0, 2),
            TimedEvent("eot_decided", 10.0, 0.0, 2),
            TimedEvent("audio_out_first_frame", 10.2, 0.0, 3, {"at": 10.2}),
            TimedEvent("barge_in", 6.0, 0.0, 2),
        ],
    )
    store.end_session(
        session_id=session_id, status="completed", duration_s=recorder.duration, recording_path=str(recording)
    )
    return session_id
