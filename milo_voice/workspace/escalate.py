"""Escalation to a person, end to end: classify what the candidate said or texted
(`outreach.escalation`), flag them (which pauses automation; `Contacts.flag`) and email the admins
(`outreach.recruiter_alerts`). Called after every interview session ends (`calls/run.py`, browser
and phone alike) and for every free-text SMS reply (`web/outreach.py`); both call it off the event
loop. Each decision is logged with its reason.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from milo_voice.outreach.compose import channels_from
from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.escalation import Flag, from_reply, from_transcript
from milo_voice.outreach.recruiter_alerts import Alert, send_alerts
from milo_voice.outreach.types import Channel, ChannelName
from milo_voice.settings import Settings
from milo_voice.store.repo import Clock, Repo, get_row
from milo_voice.store.tables import (
    AppUser,
    Candidate,
    Interview,
    InterviewSession,
    Speaker,
    Turn,
    UserRole,
    utc_now,
)

log = logging.getLogger(__name__)


class Escalations(Repo):
    def __init__(self, engine: Engine, settings: Settings, *, now: Clock = utc_now,
                 email: Channel | None = None) -> None:
        super().__init__(engine, now=now)
        self.settings = settings
        self._email = email

    def after_session(self, session_id: int) -> Flag | None:
        """Flag the candidate when their lines in this session ask for a person (or stay confused)."""
        with self.unit() as session:
            row = get_row(session, InterviewSession, session_id)
            lines = list(session.exec(
                select(Turn.text).where(Turn.session_id == session_id)
                .where(Turn.speaker == Speaker.CANDIDATE.value).order_by(col(Turn.index))))
        flag = from_transcript([line for line in lines if line])
        if flag is not None:
            self._raise(row.candidate_id, flag, session_id=session_id)
        return flag

    def after_reply(self, candidate_id: int, text: str) -> Flag:
        """A free-text SMS reply: always a person's job."""
        flag = from_reply(text)
        self._raise(candidate_id, flag)
        return flag

    def raise_flag(self, candidate_id: int, flag: Flag) -> None:
        """A request made through a form (an accommodation, `workspace/accommodations.py`): queue the
        candidate for a person and email the admins, as for a line in an interview."""
        self._raise(candidate_id, flag)

    def _raise(self, candidate_id: int, flag: Flag, session_id: int | None = None) -> None:
        contacts = Contacts(self.engine, now=self.now)
        newly = contacts.flag(candidate_id, flag.kind.value, flag.reason, self.now())
        log.info("outreach.flagged", extra={"candidate_id": candidate_id, "kind": flag.kind.value,
                                            "new": newly, "session_id": session_id})
        if not newly:  # already in the queue: the recruiters were told the first time
            return
        with self.unit() as session:
            candidate = get_row(session, Candidate, candidate_id)
            interview = get_row(session, Interview, candidate.interview_id)
            admins = list(session.exec(select(AppUser.email).where(AppUser.active)
                                       .where(AppUser.role == UserRole.ADMIN.value)))
        url = f"{self.settings.base_url.rstrip('/')}/app/candidates/{candidate_id}"
        alert = Alert(candidate_id, candidate.name, interview.title, flag.reason, url)
        send_alerts(self.email(), admins, alert)

    def email(self) -> Channel | None:
        if self._email is None:
            self._email = channels_from(self.settings).get(ChannelName.EMAIL)
        return self._email
