"""The default turn-taking on real recordings with real pauses of a second and more: the
interviewer says nothing until each answer is over, then replies (real tiny.en, Smart Turn v3.2,
Piper, webrtcvad; the shipped defaults, not a patient test policy)."""

from __future__ import annotations

import pytest
from helpers import simulated_interview

from milo_voice.calls.session_store import SessionStore
from milo_voice.calls.simulate import SimulationResult
from milo_voice.dialogue import events as ev
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.settings import Settings

ANSWERS = ["librispeech_367_a03", "librispeech_2412_a01"]
"""Pauses the VAD measures at 1.1 s (after "one half pint of": unfinished), and 1.0 s and 1.04 s
(after finished sentences that Smart Turn calls complete at the second): a plain 1 s silence
threshold would talk into all three."""
SCRIPT = InterviewScript(
    title="E2E: default turn-taking",
    questions=(
        Question("What is your favourite recipe?", AnswerShape.EXPLANATION, max_follow_ups=0),
        Question("Tell me about a book you read recently.", AnswerShape.STORY, max_follow_ups=0),
    ),
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[SimulationResult, SessionStore]:
    return simulated_interview(tmp_path_factory.mktemp("turns"), SCRIPT, ANSWERS, slug="turn-defaults")


@pytest.mark.e2e
def test_the_interviewer_waits_out_every_pause_and_replies_once_each_answer_is_over(
    run: tuple[SimulationResult, SessionStore],
) -> None:
    result, store = run
    assert result.completed
    events = store.events(result.session_id)
    audio_out = [float(e.data["at"]) for e in events if e.name == ev.AUDIO_OUT_FIRST_FRAME]
    assert not [e for e in events if e.name in (ev.FALSE_END, ev.BARGE_IN)]
    for played in result.answers:
        inside = [at for at in audio_out if played.start < at < played.speech_end]
        assert inside == [], f"the interviewer spoke inside {played.name} at {inside}"
        reply = min(at for at in audio_out if at >= played.speech_end)
        assert reply - played.speech_end < 4.5  # then it replied (the longest default wait is 4 s)
    answers = [t for t in result.turns if t.speaker == "candidate" and t.kind == "answer"]
    assert [t.question_index for t in answers] == [0, 1]  # one whole answer per question
    session = store.get_session(result.session_id)
    assert session is not None
    assert session.settings["turn"]["min_silence"] == Settings().min_silence  # the shipped defaults ran
