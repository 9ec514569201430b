"""Accommodations (issue 20 item 5): one candidate's extra time and written path, the request they
made, and a person's answer. The one writer of the `accommodation` table.

- **Extra time**: `patience_multiplier`, 1.0 (none) to 3.0, scales every wait of the turn-taking of
  the candidate's web and phone sessions (`calls/run.py`) and the time an LLM assessment tells them
  they have.
- **Written path**: `text_only`, grantable only where the interview has a text stage (a form or an
  SMS interview): the voice stage's questions are then served to this candidate as a form, judged like
  any form (`workspace/written_interview.py`, `web/written_candidate.py`). Where there is no text
  stage the profile says so and a person arranges it.
- **Request**: the candidate's own words and what they ticked, recorded, then escalated to a person
  through the "Needs a person" queue (`workspace/escalate.py`), whose reason names no detail.

What is in force is what a person granted: a new request does not change it, a decline keeps it.
Every change is an audit event (target type `accommodation`, not `candidate`, so the profile's
activity list, which viewers read, does not show it) and a log line with its reason. Nothing here is
read by a scorer or a stage's judge (tests/test_layering.py).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.escalation import Flag, FlagKind
from milo_voice.settings import Settings
from milo_voice.store.repo import Invalid, NotFound, Repo
from milo_voice.store.tables import Accommodation, AccommodationStatus, Candidate, StageKind
from milo_voice.workspace import interview_stages
from milo_voice.workspace.accounts import Principal
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.escalate import Escalations

log = logging.getLogger(__name__)

MIN_MULTIPLIER = 1.0
MAX_MULTIPLIER = 3.0
MAX_TEXT = 2000
"""The most characters of a candidate's request and of a person's note."""
TEXT_STAGES = (StageKind.FORM, StageKind.SMS)
"""Stage kinds whose presence means the interview already takes written answers."""
MORE_TIME = "more time to answer"
IN_WRITING = "to answer in writing instead of speaking"
TARGET = "accommodation"
"""The audit events' target type (their target id is the candidate's id)."""
ESCALATION_REASON = (
    "The candidate asked for an accommodation through the request form. An admin answers "
    "it on their profile (Accommodations)."
)
"""The "Needs a person" reason and the admins' email: no detail of the request (it may be health data)."""


@dataclass(frozen=True, slots=True)
class Asked:
    """What a candidate's request asks for."""

    text: str
    more_time: bool
    in_writing: bool

    def written(self) -> str:
        """As stored in `request_text`: what they ticked, then their words."""
        ticked = [label for label, on in ((MORE_TIME, self.more_time), (IN_WRITING, self.in_writing)) if on]
        head = f"Asked for: {'; '.join(ticked)}." if ticked else ""
        return "\n\n".join(part for part in (head, self.text) if part)


def check_multiplier(value: object) -> float:
    """Extra time as a number from 1.0 to 3.0, or `Invalid` saying what is allowed."""
    try:
        number = float(str(value).strip())
    except ValueError:
        raise Invalid(f"extra time {str(value)[:20]!r} is not a number: give 1.0 (none) to 3.0") from None
    if not math.isfinite(number) or not MIN_MULTIPLIER <= number <= MAX_MULTIPLIER:
        raise Invalid(
            f"extra time {number:g} is out of range: give {MIN_MULTIPLIER:g} (none) to "
            f"{MAX_MULTIPLIER:g} (three times as long)"
        )
    return round(number, 2)


def clean_text(text: str, what: str) -> str:
    """`text` without control characters (line breaks kept), or `Invalid` when it is too long."""
    kept = "".join(c for c in text.replace("\r\n", "\n") if c == "\n" or c == "\t" or c.isprintable()).strip()
    if len(kept) > MAX_TEXT:
        raise Invalid(f"{what} is {len(kept)} characters: at most {MAX_TEXT}")
    return kept


class Accommodations(Repo):
    def get(self, candidate_id: int) -> Accommodation:
        """The candidate's accommodations (an unsaved row of defaults when none were ever recorded)."""
        with self.unit() as session:
            if session.get(Candidate, candidate_id) is None:
                raise NotFound(f"candidate {candidate_id} does not exist")
            row = session.exec(_query(candidate_id)).first()
            return row if row is not None else Accommodation(candidate_id=candidate_id)

    def multiplier(self, candidate_id: int) -> float:
        """The extra time in force (1.0: none, or no such candidate)."""
        with self.unit() as session:
            row = session.exec(_query(candidate_id)).first()
        return row.patience_multiplier if row is not None else 1.0

    def text_path(self, candidate_id: int) -> str:
        """The text stage kind of the candidate's interview ("form" or "sms"), "" when it has none."""
        with self.unit() as session:
            candidate = session.get(Candidate, candidate_id)
            if candidate is None:
                raise NotFound(f"candidate {candidate_id} does not exist")
            kinds = [s.kind for s in interview_stages.pipeline(session, candidate.interview_id)]
        return next((k.value for k in TEXT_STAGES if k in kinds), "")

    def written(self, candidate_id: int) -> bool:
        """A person granted the written path, and the interview has a text stage to make it sound."""
        with self.unit() as session:
            row = session.exec(_query(candidate_id)).first()
        return row is not None and row.text_only and bool(self.text_path(candidate_id))

    def request(self, candidate_id: int, asked: Asked, settings: Settings) -> Accommodation:
        """Record the candidate's request and put them in the "Needs a person" queue."""
        text = clean_text(asked.text, "your request")
        asked = Asked(text, asked.more_time, asked.in_writing)
        if not (text or asked.more_time or asked.in_writing):
            raise Invalid("tick what you need, or describe it in the box")
        with self.unit() as session:
            row = _row(session, candidate_id)
            row.request_text, row.status = asked.written(), AccommodationStatus.REQUESTED.value
            row.requested_at = self.now()
        Audit(self.engine, now=self.now).record(
            None,
            "accommodation.request",
            TARGET,
            candidate_id,
            more_time=asked.more_time,
            in_writing=asked.in_writing,
            words=len(text.split()),
        )
        log.info(
            "accommodations.requested",
            extra={
                "candidate_id": candidate_id,
                "more_time": asked.more_time,
                "in_writing": asked.in_writing,
                "reason": "the candidate sent the request form; escalated to a person",
            },
        )
        flag = Flag(FlagKind.ACCOMMODATION, "", ESCALATION_REASON)
        Escalations(self.engine, settings, now=self.now).raise_flag(candidate_id, flag)
        return self.get(candidate_id)

    def grant(
        self, who: Principal, candidate_id: int, *, multiplier: object, text_only: bool, note: str
    ) -> Accommodation:
        """Put extra time and/or the written path in force (1.0 and no written path withdraws them)."""
        extra = check_multiplier(multiplier)
        note = clean_text(note, "the note")
        if text_only and not self.text_path(candidate_id):
            raise Invalid(
                "this interview has no form or SMS stage, so there is no written path to grant: "
                "arrange one with the candidate in person (and note what you agreed)"
            )
        return self._answer(
            who, candidate_id, AccommodationStatus.GRANTED, note, multiplier=extra, text_only=text_only
        )

    def decline(self, who: Principal, candidate_id: int, *, note: str) -> Accommodation:
        """Answer a request with no (what was granted before stays); the note says why."""
        note = clean_text(note, "the note")
        if not note:
            raise Invalid("say why the request is declined (the note is kept with it)")
        return self._answer(who, candidate_id, AccommodationStatus.DECLINED, note)

    def _answer(
        self,
        who: Principal,
        candidate_id: int,
        status: AccommodationStatus,
        note: str,
        *,
        multiplier: float | None = None,
        text_only: bool | None = None,
    ) -> Accommodation:
        with self.unit() as session:
            row = _row(session, candidate_id)
            before = {"multiplier": row.patience_multiplier, "text_only": row.text_only, "status": row.status}
            if multiplier is not None:
                row.patience_multiplier = multiplier
            if text_only is not None:
                row.text_only = text_only
            row.status, row.note = status.value, note
            row.handled_by, row.handled_at = who.user_id, self.now()
            after = {"multiplier": row.patience_multiplier, "text_only": row.text_only, "status": row.status}
        action = "accommodation.grant" if status is AccommodationStatus.GRANTED else "accommodation.decline"
        audit = Audit(self.engine, now=self.now)
        audit.record(who, action, TARGET, candidate_id, before=before, after=after)
        contacts = Contacts(self.engine, now=self.now)
        if contacts.get(candidate_id).flag_kind == FlagKind.ACCOMMODATION.value:  # answered: handled
            contacts.resume(candidate_id)
            audit.record(
                who,
                "resume_outreach",
                TARGET,  # not on the profile's activity list either
                candidate_id,
                flag=FlagKind.ACCOMMODATION.value,
                reason="the accommodation request was answered",
            )
        log.info(
            "accommodations.answered",
            extra={
                "candidate_id": candidate_id,
                "by": who.user_id,
                **{f"new_{k}": v for k, v in after.items()},
                "reason": f"{who.actor} {status.value} it (note: {len(note)} characters, kept on the row)",
            },
        )
        return self.get(candidate_id)


def _query(candidate_id: int) -> SelectOfScalar[Accommodation]:
    return select(Accommodation).where(Accommodation.candidate_id == candidate_id)


def _row(session: Session, candidate_id: int) -> Accommodation:
    if session.get(Candidate, candidate_id) is None:
        raise NotFound(f"candidate {candidate_id} does not exist")
    row = session.exec(_query(candidate_id)).first()
    if row is None:
        row = Accommodation(candidate_id=candidate_id)
        session.add(row)
    return row
