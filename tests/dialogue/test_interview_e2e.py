"""A whole interview over the real pipeline (real tiny.en in child processes, Smart Turn, Piper,
webrtcvad, SQLite): the session is tests/three_answers.py's, shared with the scoring test."""

from __future__ import annotations

from pathlib import Path

import jiwer
import pytest
from conftest import manifest
from helpers import words
from three_answers import ANSWERS, SCRIPT, ThreeAnswers

from milo_voice.calls.session_store import SessionStore
from milo_voice.calls.simulate import SimulationResult
from milo_voice.media.recorder import probe_duration
from milo_voice.settings import Settings


@pytest.fixture(scope="module")
def run(three_answers: ThreeAnswers) -> tuple[SimulationResult, SessionStore, Settings]:
    return three_answers.result, three_answers.store, three_answers.settings


@pytest.mark.e2e
def test_the_interview_completes_and_asks_every_question_in_order(
    run: tuple[SimulationResult, SessionStore, Settings],
) -> None:
    result, _, _ = run
    assert result.completed
    asked = [t.text for t in result.turns if t.speaker == "interviewer" and t.kind == "question"]
    assert asked == [q.text for q in SCRIPT.questions]
    assert result.turns[-1].kind == "closing"
    answers = [t for t in result.turns if t.speaker == "candidate"]
    assert [t.question_index for t in answers] == [0, 1, 2]


@pytest.mark.e2e
def test_the_stored_transcript_matches_the_reference(
    run: tuple[SimulationResult, SessionStore, Settings]
) -> None:
    result, _, _ = run
    refs = manifest()
    answers = [t for t in result.turns if t.speaker == "candidate"]
    hypothesis = " ".join(words(result.transcripts[t.index]) for t in answers)
    reference = " ".join(words(str(refs[a]["transcript"])) for a in ANSWERS)
    assert jiwer.wer(reference, hypothesis) < 0.15


@pytest.mark.e2e
def test_the_interviewer_never_speaks_inside_an_answer(
    run: tuple[SimulationResult, SessionStore, Settings]
) -> None:
    result, _, _ = run
    assert len(result.answers) == len(ANSWERS)
    for answer in result.answers:
        inside = [
            t
            for t in result.turns
            if t.speaker == "interviewer" and answer.start < t.start_s < answer.speech_end
        ]
        assert inside == [], f"interviewer spoke inside the answer that ended at {answer.speech_end}"
    assert result.latencies.talk_over == 0
    assert all(d > 0 for d in result.latencies.dead_air)


@pytest.mark.e2e
def test_the_recording_covers_the_session(run: tuple[SimulationResult, SessionStore, Settings]) -> None:
    result, store, _ = run
    assert result.recording is not None and result.recording.suffix == ".ogg"
    duration = probe_duration(result.recording)
    last_turn_end = max(t.end_s for t in result.turns)
    assert abs(duration - result.duration_s) < 0.1
    assert last_turn_end <= duration + 0.05
    row = store.get_session(result.session_id)
    assert row is not None and row.status == "completed"
    assert row.recording_path == str(result.recording) and Path(row.recording_path).is_file()
    assert abs((row.duration_s or 0) - duration) < 0.1


@pytest.mark.e2e
def test_turns_and_events_are_in_the_database(run: tuple[SimulationResult, SessionStore, Settings]) -> None:
    result, store, _ = run
    stored = store.turns(result.session_id)
    assert [(t.index, t.speaker, t.kind) for t in stored] == [
        (t.index, t.speaker, t.kind) for t in result.turns
    ]
    for turn in stored:
        if turn.speaker == "candidate":
            assert words(turn.text) == words(result.transcripts[turn.index])
            assert turn.words and turn.words[0]["start"] >= turn.start_s - 1.0
    names = {e.name for e in store.events(result.session_id)}
    for expected in (
        "session_start",
        "speech_end",
        "turn_prob",
        "eot_decided",
        "asr_final",
        "plan_first_sentence",
        "tts_first_audio",
        "audio_out_first_frame",
        "transcript_stored",
        "session_end",
    ):
        assert expected in names
