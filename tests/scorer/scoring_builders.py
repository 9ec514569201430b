"""Builders for scoring tests: a stored interview with rubrics, a candidate and a finished session.

Turns get word timestamps like the stored transcript's (0.4 s per word from the turn's start),
so quote offsets can be checked exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.scoring.rubric import Criterion, CriterionKind, QuestionRubric
from milo_voice.settings import Settings
from milo_voice.store.tables import Word
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews

WORD_S = 0.4

SCRIPT = InterviewScript(
    title="Support engineer",
    role="Support engineer",
    questions=(
        Question("Are you allowed to work in the country without sponsorship?", AnswerShape.SHORT_FACT),
        Question("How would you calm down an angry customer?", AnswerShape.EXPLANATION),
    ),
)

RUBRICS = {
    0: QuestionRubric(
        criteria=(
            Criterion(
                id="work_permit", name="Right to work", kind=CriterionKind.DEALBREAKER, required_answer="yes"
            ),
        )
    ),
    1: QuestionRubric(
        criteria=(
            Criterion(
                id="empathy",
                name="Listens and acknowledges",
                anchors={
                    1: "Argues with the customer.",
                    5: "Listens, acknowledges the frustration and apologises.",
                },
                weight=2.0,
            ),
            Criterion(
                id="resolution",
                name="Moves to a fix",
                kind=CriterionKind.PASS_FAIL,
                anchors={5: "Proposes a concrete next step to solve the problem."},
            ),
        )
    ),
}


def words_for(text: str, start: float) -> list[Word]:
    return [
        Word(w=" " + w, start=round(start + i * WORD_S, 3), end=round(start + (i + 1) * WORD_S - 0.05, 3))
        for i, w in enumerate(text.split())
    ]


@dataclass(frozen=True)
class Built:
    interview_id: int
    candidate_id: int
    session_id: int


def build_session(
    store: SessionStore,
    answers: dict[int, str],
    *,
    name: str = "Ada Example",
    script: InterviewScript = SCRIPT,
    rubrics: dict[int, QuestionRubric] | None = None,
    slug: str = "support",
    interview_id: int | None = None,
) -> Built:
    """An interview (created unless given), a candidate, and a completed session with these answers."""
    interviews = Interviews(store.engine)
    if interview_id is None:
        interview_id = interviews.add_script(script, slug=slug)
        for position, rubric in (RUBRICS if rubrics is None else rubrics).items():
            interviews.set_rubric_at(interview_id, position, rubric)
    candidate = Candidates(store.engine).enrol(interview_id=interview_id, name=name, email="ada@example.com")
    assert candidate.id is not None
    session_id = store.start_session(
        candidate_id=candidate.id,
        interview_id=interview_id,
        channel="simulate",
        recording_dir="/nonexistent",
        settings={},
    )
    t, index = 0.0, 0
    for position, question in enumerate(script.questions):
        length = len(question.text.split()) * WORD_S
        store.add_turn(
            session_id=session_id,
            index=index,
            speaker="interviewer",
            text=question.text,
            start_s=t,
            end_s=t + length,
            question_position=position,
            is_follow_up=False,
            kind="question",
        )
        t, index = t + length + 1.0, index + 1
        answer = answers.get(position, "")
        if answer:
            store.add_turn(
                session_id=session_id,
                index=index,
                speaker="candidate",
                text=answer,
                start_s=t,
                end_s=t + len(answer.split()) * WORD_S,
                question_position=position,
                is_follow_up=False,
                kind="answer",
                words=words_for(answer, t),
            )
            t, index = t + len(answer.split()) * WORD_S + 1.0, index + 1
    store.end_session(session_id=session_id, status="completed", duration_s=t, recording_path=None)
    return Built(interview_id, candidate.id, session_id)


KNOCKOUT_ANSWERS = {
    0: "No, I would need a visa sponsor.",
    1: "I listen, acknowledge the frustration and apologise.",
}
"""Fails question 0's dealbreaker (work authorisation), answers question 1 well."""


def scored_session(settings: Settings, store: SessionStore, *, name: str) -> Built:
    """`build_session` with `KNOCKOUT_ANSWERS`, then scored by the offline scorer's real job worker."""
    from helpers import run

    from milo_voice.scoring.service import build

    built = build_session(store, KNOCKOUT_ANSWERS, name=name)
    runtime = build(settings, store.engine, Candidates(store.engine))
    runtime.service.enqueue_scoring(built.session_id)
    run(runtime.worker.run_until_idle)
    return built
