"""How each candidate may be contacted: opt-outs by channel, an explicit time zone, the "needs a
person" pause, and the SMS replies they sent. The one writer of `candidate_contact` and
`inbound_message`.

Opt-outs hold across channels as documented in docs/outreach.md: STOP (and Twilio's other opt-out
keywords) stops SMS, the unsubscribe link stops email, and `everything=True` (the unsubscribe
page's "stop all messages") stops both. START lifts the SMS opt-out only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from milo_voice.outreach.types import ChannelName
from milo_voice.store.repo import Repo
from milo_voice.store.tables import Candidate, CandidateContact, InboundMessage


@dataclass(frozen=True, slots=True)
class Flagged:
    candidate_id: int
    name: str
    interview_id: int
    kind: str
    reason: str
    at: datetime | None


class Contacts(Repo):
    def get(self, candidate_id: int) -> CandidateContact:
        """The candidate's contact preferences (the defaults when none were ever set)."""
        with self.unit() as session:
            return session.get(CandidateContact, candidate_id) or CandidateContact(candidate_id=candidate_id)

    def opt_out(self, candidate_id: int, channel: ChannelName | None) -> None:
        """Stop one channel, or every channel with `channel=None`."""
        with self.unit() as session:
            row = _row(session, candidate_id)
            if channel in (ChannelName.SMS, None):
                row.sms_opt_out = True
            if channel in (ChannelName.EMAIL, None):
                row.email_opt_out = True

    def opt_in(self, candidate_id: int, channel: ChannelName) -> None:
        with self.unit() as session:
            row = _row(session, candidate_id)
            if channel is ChannelName.SMS:
                row.sms_opt_out = False
            else:
                row.email_opt_out = False

    def set_time_zone(self, candidate_id: int, zone: str) -> None:
        with self.unit() as session:
            _row(session, candidate_id).time_zone = zone

    def pause(self, candidate_id: int, reason: str) -> None:
        """Needs a person: automatic messages stop for this candidate until a recruiter resumes them."""
        with self.unit() as session:
            row = _row(session, candidate_id)
            row.paused, row.pause_reason = True, reason

    def resume(self, candidate_id: int) -> None:
        """A recruiter handled it: automation resumes and the "needs a person" flag is cleared."""
        with self.unit() as session:
            row = _row(session, candidate_id)
            row.paused, row.pause_reason, row.flag_kind, row.flagged_at = False, "", "", None

    def flag(self, candidate_id: int, kind: str, reason: str, at: datetime) -> bool:
        """Needs a person (`outreach.escalation`): pause automation and queue the candidate for a
        recruiter. True when newly flagged; a flagged candidate keeps the first reason."""
        with self.unit() as session:
            row = _row(session, candidate_id)
            if row.flag_kind:
                return False
            row.paused, row.pause_reason, row.flag_kind, row.flagged_at = True, reason, kind, at
            return True

    def flagged(self) -> list[Flagged]:
        """The "Needs a person" queue: flagged candidates, newest first."""
        with self.unit() as session:
            rows = session.exec(
                select(CandidateContact, Candidate.name, Candidate.interview_id)
                .join(Candidate, col(Candidate.id) == col(CandidateContact.candidate_id))
                .where(CandidateContact.flag_kind != "")
                .order_by(col(CandidateContact.flagged_at).desc())).all()
        return [Flagged(c.candidate_id, name, interview_id, c.flag_kind, c.pause_reason, c.flagged_at)
                for c, name, interview_id in rows]

    def engaged(self, candidate_id: int, at: datetime) -> None:
        """The candidate did something (opened the link, replied, started): the list's Last engaged."""
        with self.unit() as session:
            row = _row(session, candidate_id)
            if row.last_engaged_at is None or at > row.last_engaged_at:
                row.last_engaged_at = at

    def record_inbound(self, *, candidate_id: int | None, from_number: str, to_number: str, body: str,
                       keyword: str, provider_id: str) -> InboundMessage:
        with self.unit() as session:
            row = InboundMessage(candidate_id=candidate_id, from_number=from_number, to_number=to_number,
                                 body=body, keyword=keyword, provider_id=provider_id, received_at=self.now())
            session.add(row)
            session.flush()
            return row

    def replies(self, candidate_id: int) -> list[InboundMessage]:
        with self.unit() as session:
            return list(session.exec(select(InboundMessage).where(InboundMessage.candidate_id == candidate_id)
                                     .order_by(col(InboundMessage.id).desc())))

    def forget_inbound(self, cutoff: datetime) -> int:
        """Retention (`workspace.retention_sweep`): blank the text of replies received before `cutoff`.
        The row stays (number, keyword, time: the record of a STOP); returns how many had text."""
        with self.unit() as session:
            result = session.exec(  # type: ignore[call-overload]
                update(InboundMessage).where(col(InboundMessage.received_at) < cutoff)
                .where(InboundMessage.body != "").values(body=""))
            return int(result.rowcount)

    def token_of(self, candidate_id: int) -> str:
        """The secret of the candidate's link (their unsubscribe page is keyed by it too)."""
        with self.unit() as session:
            row = session.get(Candidate, candidate_id)
            return row.token if row is not None else ""

    def phone_of(self, candidate_id: int) -> str:
        with self.unit() as session:
            row = session.get(Candidate, candidate_id)
            return row.phone if row is not None else ""

    def candidates_with_phone(self, e164: str) -> list[int]:
        """Candidates whose phone is this E.164 number (as stored, or written with spaces and dashes)."""
        digits = "".join(c for c in e164 if c.isdigit())
        with self.unit() as session:
            rows = session.exec(select(Candidate.id, Candidate.phone).where(Candidate.phone != ""))
            return [cid for cid, phone in rows if cid is not None and _same(phone, digits)]


def _same(phone: str, digits: str) -> bool:
    mine = "".join(c for c in phone if c.isdigit())
    return bool(mine) and (mine == digits or (len(mine) == 10 and "1" + mine == digits))


def _row(session: Session, candidate_id: int) -> CandidateContact:
    row = session.get(CandidateContact, candidate_id)
    if row is None:
        row = CandidateContact(candidate_id=candidate_id)
        session.add(row)
    return row
