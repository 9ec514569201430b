"""The demo interview is scored: every question has a rubric, so the offline scorer gives a newcomer's
first interview an overall score (and their first profile shows it)."""

from __future__ import annotations

from helpers import run
from scorer.scoring_builders import build_session

from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.script import demo_script
from milo_voice.scoring.service import build
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.demo import DEMO_RUBRICS, Demo

ANSWERS = {
    0: "I spent three years in customer support for a software company, working in a small team "
       "and answering customers by phone and chat. That experience taught me patience.",
    1: "A customer could not log in before a deadline. I listened, understood their frustration, kept "
       "them informed while I traced the problem to an expired licence, solved it, and the result "
       "was that they submitted on time.",
    2: "I like to help people, and support is where I learn the most about a product and its customers.",
}


def test_every_demo_question_has_a_rubric(store: SessionStore) -> None:
    interview_id, _ = Demo(store.engine).seed()
    questions = ScoringStore(store.engine).questions(interview_id)
    assert len(questions) == len(demo_script().questions) == len(DEMO_RUBRICS)
    assert [q.rubric for q in questions] == list(DEMO_RUBRICS)


def test_the_offline_scorer_scores_a_demo_interview(settings: Settings, store: SessionStore) -> None:
    interview_id, _ = Demo(store.engine).seed()
    built = build_session(store, ANSWERS, script=demo_script(), interview_id=interview_id)
    runtime = build(settings, store.engine, Candidates(store.engine))
    card = run(lambda: runtime.service.score(built.session_id))
    assert card.scorer == "offline" and card.knockout is None
    assert card.overall is not None and card.overall >= 50 and card.band in ("good", "great")
    assert [len(q.criteria) for q in card.questions] == [1, 2, 1]
    unanswered = build_session(store, {}, script=demo_script(), interview_id=interview_id)
    empty = run(lambda: runtime.service.score(unanswered.session_id))
    assert empty.overall is not None and empty.overall < card.overall
