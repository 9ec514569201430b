"""The demo interview and its first candidate, made on the first start so a fresh install has a link.

Both rows are added in one transaction through their writers (`interviews.add_script`,
`candidates.add_candidate`), so two processes starting together end up with one demo.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from milo_voice.dialogue.script import demo_script
from milo_voice.store.repo import Repo
from milo_voice.store.tables import Candidate, Interview, InterviewStatus
from milo_voice.workspace.candidates import add_candidate
from milo_voice.workspace.interviews import add_script

log = logging.getLogger(__name__)

DEMO_SLUG = "demo"
DEMO_CANDIDATE = "Demo Candidate"


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
                    session, demo_script(), slug=DEMO_SLUG, status=InterviewStatus.PUBLISHED, now=self.now()
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
