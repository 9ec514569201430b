"""Scoring real transcripts: one simulated interview on real speech (tiny.en, Smart Turn, Piper),
scored by the offline scorer and by the LLM scorer against a real llama.cpp server on loopback.

SmolLM2-135M is a plumbing model: whatever it writes, every quote shown must be a verbatim span
of the stored transcript, and every criterion with a rejected quote must be flagged.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, SPEECH
from fakes.llm_server import llama_server
from helpers import run

from milo_voice.calls.engines import Runtime, load_runtime
from milo_voice.calls.session_store import SessionStore
from milo_voice.calls.simulate import SimulationResult, load_answers, simulate
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.scoring.quotes import normalise
from milo_voice.scoring.result import ScoreCard
from milo_voice.scoring.rubric import Criterion, CriterionKind, QuestionRubric
from milo_voice.scoring.service import build
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.store.tables import CandidateStatus
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews

ANSWERS = ["librispeech_367_a03", "librispeech_2412_a01", "librispeech_3331_a02"]
SCRIPT = InterviewScript(
    title="E2E scoring: three questions",
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


@pytest.fixture(scope="module")
def interview(
    tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SimulationResult, Settings, SessionStore]]:
    tmp = tmp_path_factory.mktemp("scoring-e2e")
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'milo.db'}", recordings_dir=tmp / "rec", models_dir=REPO / "models"
    )
    migrate(settings.database_url)
    store = SessionStore(create_engine(settings.database_url))
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="scoring-e2e")
    for position, rubric in RUBRICS.items():
        Interviews(store.engine).set_rubric_at(interview_id, position, rubric)
    answers = load_answers([SPEECH / "answers" / f"{a}.wav" for a in ANSWERS], SPEECH / "manifest.jsonl")
    runtime: Runtime = load_runtime(settings)
    try:

        async def go() -> SimulationResult:
            async with asyncio.timeout(400):
                return await simulate(settings, runtime, store, answers, interview_id=interview_id)

        result = asyncio.run(go())
    finally:
        runtime.close()
    assert result.completed
    yield result, settings, store


def check_quotes(card: ScoreCard, store: SessionStore, session_id: int) -> None:
    """Every quote shown is a verbatim span of a stored candidate turn, timed inside that turn."""
    turns = {t.index: t for t in store.turns(session_id)}
    for question in card.questions:
        for c in question.criteria:
            for quote in c.quotes:
                turn = turns[quote.turn_index]
                assert turn.speaker == "candidate"
                assert normalise(quote.text) in normalise(turn.text) and quote.text in turn.text
                assert turn.start_s - 1.0 <= quote.start_s <= quote.end_s <= turn.end_s + 1.0
            if c.rejected_quotes:
                assert c.needs_review and card.needs_review


@pytest.mark.e2e
def test_the_offline_scorer_scores_the_real_transcript_with_timed_evidence(
    interview: tuple[SimulationResult, Settings, SessionStore],
) -> None:
    result, settings, store = interview
    runtime = build(settings, store.engine, Candidates(store.engine))
    before = ScoringStore(store.engine).context(result.session_id).candidate.status
    assert before == CandidateStatus.EVALUATING
    assert run(runtime.worker.run_until_idle) == 1  # the job the session runner queued when it ended
    card = ScoringStore(store.engine).latest_card(result.session_id)
    assert card is not None and card.scorer == "offline"
    check_quotes(card, store, result.session_id)
    ingredients = card.questions[0].criteria[0]
    assert ingredients.score is not None and ingredients.score >= 4, ingredients.rationale
    assert re.search(r"lobster", " ".join(q.text for q in ingredients.quotes), re.IGNORECASE)
    assert not any(q.estimated_timing for q in ingredients.quotes), "offsets come from the word timestamps"
    assert card.knockout is None and card.questions[2].criteria[0].passed is True
    candidate = ScoringStore(store.engine).context(result.session_id).candidate
    assert candidate.status == CandidateStatus.COMPLETED


@pytest.mark.e2e
@pytest.mark.llm
def test_the_llm_scorer_on_llama_cpp_only_shows_verified_quotes(
    interview: tuple[SimulationResult, Settings, SessionStore], tmp_path: Path
) -> None:
    result, settings, store = interview
    with llama_server(threads=2) as (base_url, _proc):  # nothing else runs meanwhile: both cores
        llm = settings.with_overrides(
            scorer="llm",
            scoring_llm_base_url=base_url,
            scoring_llm_model="smollm2",
            scoring_json_mode="json_object",
            # the card takes ~110 s on this 2-core machine alone and one request passed 120 s in CI: this
            # test checks the quotes, not the speed, so a slow machine must not turn it into the offline card
            scoring_timeout=600.0,
        )
        runtime = build(llm, store.engine, Candidates(store.engine))
        card = run(lambda: runtime.service.score(result.session_id), timeout=1500)
    assert card.scorer == "llm" and card.model == "smollm2" and len(card.prompt_hash) == 64
    assert [q.position for q in card.questions] == [0, 1, 2]
    check_quotes(card, store, result.session_id)
    decided = [c for q in card.questions for c in q.criteria if c.score is not None or c.passed is not None]
    undecided = [c for q in card.questions for c in q.criteria if c not in decided]
    assert all(c.needs_review for c in undecided)
