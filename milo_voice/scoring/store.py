"""Queries of the scoring area: rubrics and transcripts to score, scores, report links, webhooks.

Each method is one short blocking transaction over the shared Engine (call it from a thread when
on an event loop); rows come back detached. The job table has its own module (`job_table.py`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, delete, select

from milo_voice.scoring.card import ScriptedQuestion
from milo_voice.scoring.result import ScoreCard
from milo_voice.scoring.rubric import QuestionRubric
from milo_voice.scoring.transcript import Transcript, Utterance
from milo_voice.store.repo import NotFound, Repo
from milo_voice.store.session_rows import counted_session, session_events, session_turns
from milo_voice.store.tables import (
    Candidate,
    Interview,
    InterviewSession,
    Job,
    JobStatus,
    ReportLink,
    ScoreRecord,
    TimingEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from milo_voice.store.tables import Question as QuestionRow


@dataclass(frozen=True, slots=True)
class SessionContext:
    """A finished session with whom it belongs to: what scoring and reports start from."""

    session: InterviewSession
    candidate: Candidate
    interview: Interview


class ScoringStore(Repo):
    """The one writer of `score`, `webhook_endpoint`, `webhook_delivery` and `report_link`; reads the rest.

    Rubrics and candidate status belong to the workspace (`Interviews`, `Candidates`): scoring
    reads rubrics here and gets the candidate writer injected (`service.CandidateStatuses`).
    """

    # Rubrics (read here; `workspace.interviews` writes them)

    def questions(self, interview_id: int) -> list[ScriptedQuestion]:
        """The interview's questions in order, each with its rubric (None where there is none)."""
        with self.unit() as session:
            rows = session.exec(
                select(QuestionRow)
                .where(QuestionRow.interview_id == interview_id)
                .order_by(col(QuestionRow.position))
            ).all()
        return [
            ScriptedQuestion(
                r.position, r.text, QuestionRubric.model_validate(r.rubric) if r.rubric else None
            )
            for r in rows
        ]

    # Sessions, transcripts, candidates

    def context(self, session_id: int) -> SessionContext:
        with self.unit() as session:
            row = session.get(InterviewSession, session_id)
            if row is None:
                raise LookupError(f"session {session_id} does not exist")
            candidate = session.get(Candidate, row.candidate_id)
            interview = session.get(Interview, row.interview_id)
            if candidate is None or interview is None:
                raise LookupError(f"session {session_id} has lost its candidate or interview")
            return SessionContext(row, candidate, interview)

    def transcript(self, session_id: int) -> Transcript:
        with self.unit() as session:
            turns = session_turns(session, session_id)
            return Transcript(tuple(Utterance.from_row(t) for t in turns))

    def events(self, session_id: int) -> list[TimingEvent]:
        with self.unit() as session:
            return session_events(session, session_id)

    def counted_session(self, candidate: Candidate) -> InterviewSession | None:
        """The candidate's session that counts (marked by a recruiter, else the newest completed)."""
        with self.unit() as session:
            return counted_session(session, candidate.id or 0, candidate.counted_session_id)

    def candidates(self, interview_id: int) -> list[Candidate]:
        with self.unit() as session:
            return list(
                session.exec(
                    select(Candidate)
                    .where(Candidate.interview_id == interview_id)
                    .order_by(col(Candidate.id))
                )
            )

    def interview(self, interview_id: int) -> Interview:
        with self.unit() as session:
            row = session.get(Interview, interview_id)
        if row is None:
            raise LookupError(f"interview {interview_id} does not exist")
        return row

    # Scores

    def add_score(self, context: SessionContext, card: ScoreCard) -> int:
        """Store a scoring run; earlier runs of the session stay (the newest is the current one)."""
        record = ScoreRecord(
            session_id=context.session.id or 0,
            candidate_id=context.candidate.id or 0,
            scorer=card.scorer,
            model=card.model,
            prompt_hash=card.prompt_hash,
            rubric_versions=card.rubric_versions,
            overall=card.overall,
            band=card.band,
            knocked_out=card.knockout is not None,
            needs_review=card.needs_review,
            card=card.model_dump(mode="json"),
            created_at=card.created_at,
        )
        with self.unit() as session:
            session.add(record)
            session.flush()
            if record.id is None:
                raise RuntimeError("score got no id on flush")
            return record.id

    def scores(self, session_id: int) -> list[ScoreRecord]:
        """Every scoring run of a session, newest first."""
        with self.unit() as session:
            return list(
                session.exec(
                    select(ScoreRecord)
                    .where(ScoreRecord.session_id == session_id)
                    .order_by(col(ScoreRecord.id).desc())
                )
            )

    def delete_scores_before(self, cutoff: datetime) -> int:
        """Retention (`workspace.retention_sweep`): delete the score runs made before `cutoff`, with
        their cards and quoted evidence; how many there were."""
        with self.unit() as session:
            result = session.exec(delete(ScoreRecord).where(col(ScoreRecord.created_at) < cutoff))
            return int(result.rowcount)

    def latest_card(self, session_id: int) -> ScoreCard | None:
        runs = self.scores(session_id)
        return ScoreCard.model_validate(runs[0].card) if runs else None

    def job_pending(self, kind: str, session_id: int) -> bool:
        """Whether a `kind` job for this session is queued or running (the profile's "evaluating").

        Only unfinished jobs are read, and their payloads filtered here, so the JSON column needs
        no database-specific query.
        """
        unfinished = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
        with self.unit() as session:
            payloads = session.exec(
                select(Job.payload).where(Job.kind == kind, col(Job.status).in_(unfinished))
            )
            return any(p.get("session_id") == session_id for p in payloads)

    # Report links (unguessable: 256 random bits, like candidate tokens)

    def report_token(self, *, session_id: int | None = None, interview_id: int | None = None) -> str:
        """The link token for a session's report or an interview's export, made on first use."""
        if (session_id is None) == (interview_id is None):
            raise ValueError("give exactly one of session_id and interview_id")
        with self.unit() as session:
            query = select(ReportLink.token)
            if session_id is not None:
                query = query.where(ReportLink.session_id == session_id)
            else:
                query = query.where(ReportLink.interview_id == interview_id)
            found = session.exec(query).first()
            if found is not None:
                return found
            token = secrets.token_urlsafe(32)
            session.add(
                ReportLink(
                    token=token, session_id=session_id, interview_id=interview_id, created_at=self.now()
                )
            )
            return token

    def resolve_token(self, token: str) -> ReportLink | None:
        with self.unit() as session:
            return session.get(ReportLink, token)

    def revoke_reports(self, session_id: int) -> int:
        """Delete every public link to the session's report; how many there were."""
        with self.unit() as session:
            result = session.exec(delete(ReportLink).where(col(ReportLink.session_id) == session_id))
            return int(result.rowcount)

    # Webhooks

    def add_endpoint(self, url: str, secret: str, events: list[str] | None = None) -> WebhookEndpoint:
        endpoint = WebhookEndpoint(url=url, secret=secret, events=list(events or []), created_at=self.now())
        with self.unit() as session:
            session.add(endpoint)
            session.flush()
            return endpoint

    def set_endpoint_active(self, endpoint_id: int, active: bool) -> None:
        """Pause or resume an endpoint (the webhooks page); unknown id: `NotFound`."""
        with self.unit() as session:
            _endpoint(session, endpoint_id).active = active

    def delete_endpoint(self, endpoint_id: int) -> None:
        """The endpoint and its log; queued retries find no delivery and stop (`webhooks.deliver`)."""
        with self.unit() as session:
            row = _endpoint(session, endpoint_id)
            session.exec(delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint_id))
            session.delete(row)

    def endpoints_for(self, event: str) -> list[WebhookEndpoint]:
        """Active endpoints subscribed to `event` (an empty subscription list means every event)."""
        with self.unit() as session:
            rows = session.exec(select(WebhookEndpoint).where(col(WebhookEndpoint.active).is_(True)))
            return [e for e in rows if not e.events or event in e.events]

    def endpoint(self, endpoint_id: int) -> WebhookEndpoint | None:
        with self.unit() as session:
            return session.get(WebhookEndpoint, endpoint_id)

    def add_delivery(self, endpoint_id: int, event: str, body: str) -> int:
        delivery = WebhookDelivery(endpoint_id=endpoint_id, event=event, body=body, created_at=self.now())
        with self.unit() as session:
            session.add(delivery)
            session.flush()
            if delivery.id is None:
                raise RuntimeError("delivery got no id on flush")
            return delivery.id

    def delivery(self, delivery_id: int) -> WebhookDelivery | None:
        with self.unit() as session:
            return session.get(WebhookDelivery, delivery_id)

    def record_attempt(
        self, delivery_id: int, *, status: str, response_status: int | None, error: str | None
    ) -> None:
        """One more attempt of a delivery: its outcome, and `delivered_at` once it got through."""
        with self.unit() as session:
            row = session.get(WebhookDelivery, delivery_id)
            if row is None:
                raise LookupError(f"webhook delivery {delivery_id} does not exist")
            row.attempts += 1
            row.status = status
            row.response_status = response_status
            row.error = error
            if status == "delivered":
                row.delivered_at = self.now()

    def forget_delivery_bodies(self, cutoff: datetime) -> int:
        """Retention (messages window): blank the bodies (scores, names, emails) of deliveries made before
        `cutoff` that are done with (delivered, or failed for good); a pending one keeps its body for its
        retries. The rows (event, status, attempts) stay. Returns how many had a body."""
        with self.unit() as session:
            result = session.exec(  # type: ignore[call-overload]
                update(WebhookDelivery).where(col(WebhookDelivery.status).in_(("delivered", "failed")))
                .where(col(WebhookDelivery.created_at) < cutoff).where(WebhookDelivery.body != "")
                .values(body="")
            )
            return int(result.rowcount or 0)

    def deliveries(self, limit: int = 100) -> list[WebhookDelivery]:
        """The delivery log, newest first."""
        with self.unit() as session:
            return list(
                session.exec(select(WebhookDelivery).order_by(col(WebhookDelivery.id).desc()).limit(limit))
            )


def _endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    row = session.get(WebhookEndpoint, endpoint_id)
    if row is None:
        raise NotFound(f"webhook endpoint {endpoint_id} does not exist")
    return row
