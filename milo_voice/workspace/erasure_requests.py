"""A candidate's request to be erased, confirmed through a link sent to their email (issue 20 item 3).

The link carries a 256-bit random token; only its SHA-256 is stored (`erasure_request.token_sha256`),
so a copy of the database cannot confirm anyone's erasure. A link is good for `VALID_HOURS` hours
and once. Opening it shows a button; only the POST of that button erases, so a mail scanner that
follows links does not. The confirmation email goes straight to the email channel, not through the
outreach outbox: the outbox keeps each message's text (the token would be stored in clear) and its
guardrails (opt-outs, quiet hours) must not hold back an answer to a data-rights request.

This module is the writer of `erasure_request`; the eraser closes a candidate's requests in its own
transaction through `close_requests`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import Session, col, select

from milo_voice.outreach.types import ChannelName, Rendered
from milo_voice.store.repo import Repo, insert_row
from milo_voice.store.tables import ErasureRequest, ErasureStatus

VALID_HOURS = 48
"""How long an emailed confirmation link works."""


class LinkState(StrEnum):
    PENDING = "pending"
    """Valid: the candidate may confirm."""
    EXPIRED = "expired"
    DONE = "done"
    """Used already, or the candidate was erased another way."""
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Found:
    state: LinkState
    request_id: int | None = None
    candidate_id: int | None = None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ErasureRequests(Repo):
    def open(self, candidate_id: int) -> tuple[int, str]:
        """A new pending request; returns its id and the token for the link (never stored)."""
        token = secrets.token_urlsafe(32)
        now = self.now()
        with self.unit() as session:
            request_id = insert_row(
                session,
                ErasureRequest(
                    candidate_id=candidate_id,
                    token_sha256=digest(token),
                    requested_at=now,
                    expires_at=now + timedelta(hours=VALID_HOURS),
                ),
            )
        return request_id, token

    def find(self, token: str) -> Found:
        """What a link's token stands for now; a pending request past its time becomes expired."""
        if not token or len(token) > 200:
            return Found(LinkState.UNKNOWN)
        with self.unit() as session:
            row = session.exec(
                select(ErasureRequest).where(ErasureRequest.token_sha256 == digest(token))
            ).first()
            if row is None:
                return Found(LinkState.UNKNOWN)
            if row.status == ErasureStatus.PENDING.value and row.candidate_id is None:
                row.status = ErasureStatus.DONE.value  # the candidate is gone already
            elif row.status == ErasureStatus.PENDING.value and row.expires_at <= self.now():
                row.status = ErasureStatus.EXPIRED.value
            session.add(row)
            return Found(LinkState(row.status), row.id, row.candidate_id)

    def expire(self, request_id: int) -> None:
        """The confirmation email could not be sent: this request's link must never work."""
        with self.unit() as session:
            session.execute(
                update(ErasureRequest)
                .where(col(ErasureRequest.id) == request_id)
                .values(status=ErasureStatus.EXPIRED.value)
            )


def close_requests(session: Session, candidate_id: int, confirmed: int | None, now: datetime) -> int:
    """In the eraser's transaction: the candidate's requests are done and no longer point at them (the
    one confirmed gets its time). Returns how many there were."""
    rows = list(session.exec(select(ErasureRequest).where(ErasureRequest.candidate_id == candidate_id)))
    for row in rows:
        if row.status == ErasureStatus.PENDING.value or row.id == confirmed:
            row.status = ErasureStatus.DONE.value
        if row.id == confirmed:
            row.confirmed_at = now
        row.candidate_id = None
        session.add(row)
    return len(rows)


def confirmation_email(*, recipient: str, url: str, interview: str) -> Rendered:
    """The email with the confirmation link (text only: nothing to render, nothing to track)."""
    body = (
        f'We received a request to erase your data held for the interview "{interview}".\n\n'
        f'To confirm, open this link and press "Erase my data" (the link works for {VALID_HOURS} hours, '
        f"once):\n{url}\n\n"
        "Erasure removes your recordings, transcripts, scores, answers, messages and contact details, "
        "and cannot be undone. If you did not ask for this, ignore this email: nothing will be erased.\n"
    )
    return Rendered(
        channel=ChannelName.EMAIL,
        recipient=recipient,
        body_text=body,
        subject="Confirm the erasure of your data",
    )
