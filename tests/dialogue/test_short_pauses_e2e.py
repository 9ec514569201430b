"""Pauses under 1.5 s are never talked into, on the three real answers where real time once did
(bench/turns.py --realtime, 2026-11-22): a sentence the candidate says twice ("Tear down the
fence! Tear down the fence!") that was taken for Whisper parroting its prompt, which wound the
silence clock back over it; a short run Whisper hears as nothing just before a 0.53 s pause;
and a 1.36 s pause resumed just as the 1.4 s wait ran out, before the VAD had confirmed the
onset (real tiny.en, Smart Turn v3.2, Piper, webrtcvad; the shipped defaults)."""

from __future__ import annotations

import pytest
from conftest import manifest
from helpers import simulated_interview

from milo_voice.calls.session_store import SessionStore
from milo_voice.calls.simulate import SimulationResult
from milo_voice.dialogue import events as ev
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question

ANSWERS = ["librispeech_3005_a01", "librispeech_3331_a01", "librispeech_533_a01"]
SHORT = 1.5
SCRIPT = InterviewScript(
    title="E2E: short pauses",
    questions=tuple(
        Question(f"Question {i + 1}: tell me about it.", AnswerShape.EXPLANATION, max_follow_ups=0)
        for i in range(len(ANSWERS))
    ),
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[SimulationResult, SessionStore]:
    return simulated_interview(tmp_path_factory.mktemp("short"), SCRIPT, ANSWERS, slug="short-pauses")


@pytest.mark.e2e
def test_no_interviewer_audio_inside_a_pause_under_one_and_a_half_seconds(
    run: tuple[SimulationResult, SessionStore],
) -> None:
    result, store = run
    assert result.completed
    events = store.events(result.session_id)
    audio_out = [float(e.data["at"]) for e in events if e.name == ev.AUDIO_OUT_FIRST_FRAME]
    entries = manifest()
    short_holds = 0
    assert len(result.answers) == len(ANSWERS)
    for name, played in zip(ANSWERS, result.answers, strict=True):
        for a, b in entries[name]["holds"]:  # type: ignore[union-attr]
            if b - a >= SHORT:
                continue
            short_holds += 1
            lo, hi = played.start + a, played.start + b
            inside = [at for at in audio_out if lo + 0.05 <= at <= hi + 0.2]
            assert inside == [], f"{name}: interviewer audible in the {b - a:.2f} s pause at {a} s"
    assert short_holds == 21
    answers = [t for t in result.turns if t.speaker == "candidate" and t.kind == "answer"]
    assert sorted({t.question_index for t in answers}) == [0, 1, 2]
