"""Scoring a stored session end to end on real SQLite: statuses, knockouts, kept runs, flagged quotes."""

from __future__ import annotations

from helpers import run
from scoring_builders import RUBRICS, build_session

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring.job_table import JobTable
from milo_voice.scoring.result import Judgement
from milo_voice.scoring.rubric import Criterion
from milo_voice.scoring.scorer import QuestionInput
from milo_voice.scoring.service import SCORE_JOB, build
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.store.tables import CandidateStatus, JobStatus
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews

GOOD = {
    0: "Yes, I am a citizen here.",
    1: "First I listen and acknowledge the frustration. I apologise, then I propose a concrete next step.",
}


def status(store: SessionStore, candidate_id: int) -> str:
    return next(c.status for c in ScoringStore(store.engine).candidates(1) if c.id == candidate_id)


def test_a_finished_session_is_evaluating_until_its_job_runs_then_completed(
    settings: Settings, store: SessionStore
) -> None:
    built = build_session(store, GOOD)
    runtime = build(settings, store.engine, Candidates(store.engine))
    runtime.service.enqueue_scoring(built.session_id)
    assert status(store, built.candidate_id) == CandidateStatus.EVALUATING
    assert run(runtime.worker.run_until_idle) == 1
    assert status(store, built.candidate_id) == CandidateStatus.COMPLETED
    card = ScoringStore(store.engine).latest_card(built.session_id)
    assert card is not None and card.scorer == "offline" and "no LLM" in card.scorer_label
    assert card.knockout is None and not card.needs_review
    assert card.overall is not None and card.overall >= 75 and card.band == "great"
    empathy = card.questions[1].criteria[0]
    assert empathy.quotes and all(q.text in GOOD[1] for q in empathy.quotes)
    assert empathy.quotes[0].start_s > 0


def test_a_failed_dealbreaker_knocks_out_with_reason_and_quote(
    settings: Settings, store: SessionStore
) -> None:
    built = build_session(store, {0: "No, I would need a visa sponsor.", 1: GOOD[1]})
    runtime = build(settings, store.engine, Candidates(store.engine))
    runtime.service.enqueue_scoring(built.session_id)
    run(runtime.worker.run_until_idle)
    assert status(store, built.candidate_id) == CandidateStatus.KNOCKED_OUT
    record = ScoringStore(store.engine).scores(built.session_id)[0]
    assert record.knocked_out
    card = ScoringStore(store.engine).latest_card(built.session_id)
    assert card is not None and card.knockout is not None
    assert card.knockout.quote.text == "No, I would need a visa sponsor"
    assert "Right to work" in card.knockout.reason


def test_rescoring_after_a_rubric_change_keeps_the_old_result(
    settings: Settings, store: SessionStore
) -> None:
    built = build_session(store, GOOD)
    scoring = ScoringStore(store.engine)
    runtime = build(settings, store.engine, Candidates(store.engine))
    runtime.service.enqueue_scoring(built.session_id)
    run(runtime.worker.run_until_idle)
    changed = RUBRICS[1].model_copy(
        update={
            "criteria": (*RUBRICS[1].criteria, Criterion(id="x", name="X", anchors={1: "none", 5: "refund"}))
        }
    )
    Interviews(store.engine).set_rubric_at(built.interview_id, 1, changed)
    Interviews(store.engine).set_rubric_at(built.interview_id, 1, changed)  # the same rubric: no new version
    runtime.service.enqueue_scoring(built.session_id)
    run(runtime.worker.run_until_idle)
    runs = scoring.scores(built.session_id)
    assert len(runs) == 2
    assert [r.rubric_versions["1"] for r in runs] == [2, 1]
    assert runs[0].prompt_hash != runs[1].prompt_hash
    assert runs[0].overall is not None and runs[1].overall is not None and runs[0].overall < runs[1].overall


class InventingScorer:
    """A scorer that quotes words the candidate never said (as a careless model would)."""

    name = "llm"
    label = "LLM scorer (inventive)"
    model = "inventive"

    def fingerprint(self, question: QuestionInput) -> str:
        return question.question

    async def judge(self, question: QuestionInput) -> list[Judgement]:
        return [
            Judgement(c.id, 5, False, "Invented.", ("I have ten years of experience", "never said this"))
            for c in question.rubric.criteria
        ]


def test_invented_quotes_are_rejected_flagged_and_never_knock_anyone_out(
    settings: Settings, store: SessionStore
) -> None:
    built = build_session(store, GOOD)
    runtime = build(settings, store.engine, Candidates(store.engine))
    card = run(lambda: runtime.service.score(built.session_id, scorer=InventingScorer()))
    assert card.needs_review and card.knockout is None
    for question in card.questions:
        for c in question.criteria:
            assert c.quotes == [] and c.needs_review
            assert c.rejected_quotes == ["I have ten years of experience", "never said this"]
    assert any("not in the transcript" in r for r in card.review_reasons)


def test_a_job_left_running_by_a_dead_process_runs_again_on_start(
    settings: Settings, store: SessionStore
) -> None:
    built = build_session(store, GOOD)
    table = JobTable(store.engine)
    job_id = table.enqueue(SCORE_JOB, {"session_id": built.session_id})
    claimed = table.claim()
    assert claimed is not None and claimed.id == job_id  # ... and then the process died
    runtime = build(settings, store.engine, Candidates(store.engine))
    assert table.claim() is None, "a running job is not claimed twice"
    assert runtime.worker.table.requeue_running() == [job_id]
    run(runtime.worker.run_until_idle)
    job = table.get(job_id)
    assert job is not None and job.status == JobStatus.DONE and job.attempts == 2
    assert ScoringStore(store.engine).latest_card(built.session_id) is not None
