"""The demo interview and its first candidate, made on the first start so a fresh install has a link.

Both rows are added in one transaction through their writers (`interviews.add_script`,
`candidates.add_candidate`), so two processes starting together end up with one demo. Every demo
question has a rubric (`DEMO_RUBRICS`), so a newcomer's first interview is scored (by the offline
scorer unless another is configured) and their first profile shows scores. A demo seeded before
the rubrics existed keeps its questions as they are; a recruiter can add rubrics in the editor.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from milo_voice.dialogue.script import demo_script
from milo_voice.scoring.rubric import Criterion, CriterionKind, QuestionRubric
from milo_voice.store.repo import Repo
from milo_voice.store.tables import Candidate, Interview, InterviewStatus
from milo_voice.workspace.candidates import add_candidate
from milo_voice.workspace.interviews import add_script

log = logging.getLogger(__name__)

DEMO_SLUG = "demo"
DEMO_CANDIDATE = "Demo Candidate"
DEMO_RUBRICS = (
    QuestionRubric(criteria=(
        Criterion(
            id="relevant_background",
            name="Relevant background",
            anchors={
                1: "Says little about past work or study.",
                3: "Names past jobs or study without saying what they learned.",
                5: "Years of customer support experience and the skills it built.",
            },
        ),
    )),
    QuestionRubric(criteria=(
        Criterion(
            id="specific_example",
            name="Gives a specific example",
            anchors={
                1: "Speaks in general terms only.",
                5: "A real customer problem, the steps to solve it and the result.",
            },
            weight=2.0,
        ),
        Criterion(
            id="empathy",
            name="Shows care for the person",
            kind=CriterionKind.PASS_FAIL,
            anchors={5: "Listened, understood their frustration and kept them informed."},
        ),
    )),
    QuestionRubric(criteria=(
        Criterion(
            id="motivation",
            name="Motivation for the role",
            anchors={1: "Gives no reason beyond needing a job.", 5: "Wants to help people and to learn."},
        ),
    )),
)
"""One rubric per question of `demo_script()`, in order; no dealbreaker, so nobody is knocked out."""


class Demo(Repo):
    def seed(self) -> tuple[int, Candidate]:
        """The demo interview (slug "demo") and its first candidate, created on the first call only."""
        try:
            return self._seed()
        except IntegrityError:  # another process seeded between our read and our insert; theirs stands
            log.info("store.seed_demo_raced")
            return self._seed()

    def _seed(self) -> tuple[int, Candidate]:
        with self.unit() as session:
            interview_id = session.exec(
                select(Interview.id).where(Interview.slug == DEMO_SLUG).order_by(col(Interview.version))
            ).first()
            if interview_id is None:
                interview_id = add_script(
                    session, demo_script(), slug=DEMO_SLUG, status=InterviewStatus.PUBLISHED, now=self.now(),
                    rubrics=DEMO_RUBRICS,
                )
            candidate = session.exec(
                select(Candidate).where(Candidate.interview_id == interview_id).order_by(col(Candidate.id))
            ).first()
            if candidate is None:
                candidate = add_candidate(
                    session, interview_id=interview_id, name=DEMO_CANDIDATE, email="", phone="",
                    now=self.now(),
                )
            return interview_id, candidate
