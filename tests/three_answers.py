"""One real-time interview on three real answers, simulated once per test run and shared.

The pipeline test (tests/dialogue/test_interview_e2e.py) and the scoring test
(tests/scorer/test_scoring_e2e.py) read the same session: simulating it takes ~85 s on a 2-core
machine, and each used to simulate its own. It runs Whisper in child processes
(MILO_ASR_PROCESSES=2), the one mode no other real-time test covers; the default, in the server's
process, runs in every other dialogue e2e test (short pauses, false end, noise barge-in, turn-taking).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from milo_voice.calls.engines import load_runtime
from milo_voice.calls.session_store import SessionStore
from milo_voice.calls.simulate import SimulationResult, load_answers, simulate
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.scoring.rubric import Criterion, CriterionKind, QuestionRubric
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.workspace.interviews import Interviews

ANSWERS = ["librispeech_367_a03", "librispeech_2412_a01", "librispeech_3331_a02"]
PATIENT = {"min_silence": 2.0, "unsure_silence": 2.8, "closing_silence": 2.0}
"""The test checks the pipeline end to end, so it runs a policy that waits out these answers'
pauses (the longest: 1.1, 1.9 and 1.6 s). The tuned defaults reply sooner and may cut a 1.6 s pause,
then recover: tests/dialogue/test_false_end_e2e.py; their trade-off is measured in bench/turns.py."""

SCRIPT = InterviewScript(
    title="E2E: three questions",
    questions=(
        Question("What is your favourite recipe?", AnswerShape.EXPLANATION, max_follow_ups=0),
        Question("Tell me about a book you read recently.", AnswerShape.STORY, max_follow_ups=0),
        Question("What would you do for the people at home?", AnswerShape.EXPLANATION, max_follow_ups=0),
    ),
)
RUBRICS = {
    0: QuestionRubric(
        criteria=(
            Criterion(
                id="ingredients",
                name="Names the ingredients",
                anchors={1: "Names no ingredient.", 5: "Lists lobster meat, butter, cream, eggs and sherry."},
                weight=2,
            ),
        )
    ),
    1: QuestionRubric(
        criteria=(
            Criterion(
                id="outcome",
                name="Says how it ended",
                kind=CriterionKind.PASS_FAIL,
                anchors={5: "Says the design did not succeed and brought no pecuniary advantage."},
            ),
        )
    ),
    2: QuestionRubric(
        criteria=(
            Criterion(
                id="home",
                name="Commits to helping at home",
                kind=CriterionKind.DEALBREAKER,
                required_answer="I could do so much for all at home",
            ),
        )
    ),
}


@dataclass(frozen=True)
class ThreeAnswers:
    result: SimulationResult
    settings: Settings
    store: SessionStore


def simulate_three_answers(tmp: Path, models_dir: Path, speech: Path) -> ThreeAnswers:
    """Enrol a candidate on SCRIPT (with RUBRICS) and run the interview in real time to its end."""
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'milo.db'}", recordings_dir=tmp / "rec", models_dir=models_dir,
        asr_processes=2, **PATIENT,
    )
    migrate(settings.database_url)
    store = SessionStore(create_engine(settings.database_url))
    interviews = Interviews(store.engine)
    interview_id = interviews.add_script(SCRIPT, slug="e2e")
    for position, rubric in RUBRICS.items():
        interviews.set_rubric_at(interview_id, position, rubric)
    answers = load_answers([speech / "answers" / f"{a}.wav" for a in ANSWERS], speech / "manifest.jsonl")
    runtime = load_runtime(settings)
    try:

        async def go() -> SimulationResult:
            async with asyncio.timeout(400):
                return await simulate(settings, runtime, store, answers, interview_id=interview_id)

        result = asyncio.run(go())
    finally:
        runtime.close()
    return ThreeAnswers(result, settings, store)
