"""The SMS interview stage (issue 18): the conversation engine (`stages.sms_interview`) wired to the
outbox, the inbound webhook and the pipeline.

- `round(now)` runs with every outreach round: it opens the interview of each candidate who reached
  an SMS stage (their first text: the intro, a line linking to the current notice version, and
  question 1), sends a reminder or closes an interview
  that waited too long (the stage's own times), and judges each interview that ended;
- `inbound(candidate_id, text)` is called by the inbound webhook: a text from a candidate in an SMS
  interview is their answer (not a message for a person), and the next question is queued; their first
  reply is also their consent to the notice version the first text linked to (stored, channel sms,
  with their number);
- `stopped(candidate_id)`: STOP ends the interview at once; nothing more is sent, and a person decides.
Messages go through the outbox (kind `sms_interview`), so quiet hours and opt-outs apply and every
message is on the candidate's message log. The conversation is stored as JSON on the stage row, turn
by turn with times, and judged like a voice interview (verified quotes from the candidate's texts).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.phones import e164
from milo_voice.outreach.templates import first_name
from milo_voice.outreach.types import ChannelName, MessageKind
from milo_voice.settings import Settings
from milo_voice.stages import sms_interview
from milo_voice.stages.sms_interview import SmsState
from milo_voice.stages.types import StageOutcome
from milo_voice.store.repo import Repo
from milo_voice.store.tables import Candidate, ConsentChannel, Interview, StageKind
from milo_voice.workspace.consent import Consents, Notices, sms_notice
from milo_voice.workspace.pipeline import OPEN, Pipeline, Place
from milo_voice.workspace.stage_settings import judged

log = logging.getLogger(__name__)
KEY = "sms"
"""Where the conversation is kept in the stage row's `answers`."""


class SmsStages(Repo):
    def __init__(self, engine: Any, settings: Settings | None = None, **kw: Any) -> None:
        super().__init__(engine, **kw)
        self.settings = settings or Settings()
        self.pipeline = Pipeline(self.engine, now=self.now)
        self.outbox = Outbox(self.engine, now=self.now)

    def waiting(self) -> list[int]:
        """Candidates at an SMS stage whose interview is not over."""
        with self.unit() as session:
            return list(
                session.exec(
                    select(Candidate.id).where(
                        Candidate.stage_kind == StageKind.SMS.value, col(Candidate.status).in_(OPEN)
                    )
                )
            )  # type: ignore[arg-type]

    def round(self, now: datetime | None = None) -> int:
        """Open, remind, close and judge what is due; returns how many messages were queued."""
        now = now or self.now()
        queued = 0
        for cid in self.waiting():
            try:
                queued += self._advance(cid, now)
            except Exception:  # one candidate's trouble must not stop the others
                log.exception("stages.sms.round_failed", extra={"candidate_id": cid})
        return queued

    def _advance(self, cid: int, now: datetime) -> int:
        place = self.pipeline.place(cid)
        spec = place.stage.sms
        if spec is None:
            return 0
        state = self._state(place)
        if state is None:
            if not e164(place.candidate.phone):
                self._judge(place, None, "no mobile number to text: a person decides")
                return 0
            base = self.settings.base_url
            notice = Notices(self.engine, now=self.now).current(base)
            step = sms_interview.start(
                spec, first_name=first_name(place.candidate.name), role=self._role(place.candidate), now=now,
                notice=sms_notice(base, notice.version), notice_version=notice.version,
            )
            self.pipeline.start_stage(cid)
        else:
            step = sms_interview.tick(spec, state, now)
        return self._apply(place, step.state, step.send, now)

    def inbound(self, candidate_id: int, text: str, now: datetime | None = None) -> bool:
        """The candidate's text, if they are in an SMS interview (True: it was their answer)."""
        now = now or self.now()
        place = self.pipeline.place(candidate_id)
        state = self._state(place) if place.stage.kind is StageKind.SMS else None
        if state is None or state.finished or place.candidate.status not in OPEN or place.stage.sms is None:
            return False
        if text.strip() and sms_interview.first_reply(state) and state.notice_version is not None:
            self._consented(place, state.notice_version)
        step = sms_interview.reply(place.stage.sms, state, text, now)
        self._apply(place, step.state, step.send, now)
        return True

    def _consented(self, place: Place, version: int) -> None:
        """The first reply to the text that linked to notice `version`: the candidate's consent to it."""
        notice = Notices(self.engine, now=self.now).get(version, self.settings.base_url)
        if notice is None:
            log.warning("stages.sms.notice_unknown", extra={"candidate_id": place.candidate.id,
                                                            "notice_version": version})
            return
        Consents(self.engine, now=self.now).record_consent(
            place.candidate.id or 0, ConsentChannel.SMS, e164(place.candidate.phone), "", notice,
            require_current=False)

    def stopped(self, candidate_id: int, now: datetime | None = None) -> bool:
        """STOP from the candidate: their SMS interview (if any) ends now, and nothing more is sent."""
        now = now or self.now()
        place = self.pipeline.place(candidate_id)
        state = self._state(place) if place.stage.kind is StageKind.SMS else None
        if state is None or state.finished or place.candidate.status not in OPEN:
            return False
        self._apply(place, sms_interview.opt_out(state, now), (), now)
        return True

    def _apply(self, place: Place, state: SmsState, send: tuple[str, ...] | list[str], now: datetime) -> int:
        cid = place.candidate.id or 0
        self.pipeline.save_answers(cid, {KEY: state.to_json()})
        for number, body in enumerate(send):
            self.outbox.schedule(
                candidate_id=cid,
                kind=MessageKind.SMS_INTERVIEW,
                channel=ChannelName.SMS,
                dedupe_key=f"sms_interview:s{place.position + 1}:{cid}:{len(state.turns)}:{number}",
                recipient=e164(place.candidate.phone),
                body_text=body,
                due_at=now,
                template="sms_interview",
            )
        if state.finished:
            self._judge(place, state, "")
        return len(send)

    def _judge(self, place: Place, state: SmsState | None, reason: str) -> None:
        if state is None:
            outcome = StageOutcome(passed=None, reason=reason)
        else:
            spec = place.stage
            outcome = asyncio.run(
                judged(self.settings, lambda scorer: sms_interview.judge_sms(spec, state, scorer=scorer))
            )
        self.pipeline.record(place.candidate.id or 0, place.position, outcome)

    def _state(self, place: Place) -> SmsState | None:
        views = self.pipeline.results([place.candidate.id or 0]).get(place.candidate.id or 0, {})
        row = views.get(place.position)
        stored = (row.answers or {}).get(KEY) if row is not None else None
        return SmsState.from_json(stored) if stored else None

    def _role(self, candidate: Candidate) -> str:
        with self.unit() as session:
            interview = session.get(Interview, candidate.interview_id)
        return (interview.role or interview.title) if interview else "the role"

