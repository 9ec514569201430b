"""How each template variant of one interview did: per (kind, channel, variant), the messages sent
and, of the candidates who received one, how many opened their link, started and completed.

Definitions (one interview = every version of its slug, like its templates):

- **sent**: outreach messages in status `sent` or `delivered` (a hand-over under way, a failure, a
  suppressed or still scheduled message did not reach anyone). Messages written before variants
  existed carry no variant and count as "default".
- **reached**: distinct candidates with at least one such message of that kind, channel and variant.
- **opened**: of those, candidates whose `opened_at` is set (their link showed the interview page).
- **started**: of those, candidates with any `interview_session` row (any status: a start is a start).
- **completed**: of those, candidates with at least one session whose status is `completed`, i.e. an
  interview that ran to its closing. Decided: a session the candidate ended early (`interrupted`)
  is an attempt (`workspace.attempts.attempts_used`) but not a completion, and the candidate's
  status is not used, because a recruiter's decision (shortlisted, dismissed) overwrites
  `completed`; this is the same "completed" as the analytics funnel (`workspace.analytics`).

The rates are over all time, not only after the message: a candidate reached by a variant counts
as opened if they ever opened their link. Every candidate of an interview gets the same variant
letter of every kind (`candidate_id % n`), so variants of one kind and channel compare like with
like. One aggregate query; nothing is read per candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, distinct, exists
from sqlmodel import Session, col, func, select

from milo_voice.store.repo import Repo
from milo_voice.store.tables import (
    Candidate,
    Interview,
    InterviewSession,
    MessageStatus,
    OutreachMessage,
    SessionStatus,
)

SENT = (MessageStatus.SENT.value, MessageStatus.DELIVERED.value)
DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class VariantRates:
    """One variant's numbers; the rates are over `reached` (None when nobody was reached)."""

    kind: str
    channel: str
    variant: str
    sent: int = 0
    reached: int = 0
    opened: int = 0
    started: int = 0
    completed: int = 0

    def _rate(self, count: int) -> float | None:
        return count / self.reached if self.reached else None

    @property
    def opened_rate(self) -> float | None:
        return self._rate(self.opened)

    @property
    def started_rate(self) -> float | None:
        return self._rate(self.started)

    @property
    def completed_rate(self) -> float | None:
        return self._rate(self.completed)


Key = tuple[str, str, str]
"""(kind, channel, variant), as stored on the messages."""


def _count_if(condition: Any) -> Any:
    """COUNT(DISTINCT candidate.id) over the rows where `condition` holds."""
    return func.count(distinct(case((condition, col(Candidate.id)))))


def variant_rates(session: Session, slug: str) -> dict[Key, VariantRates]:
    """Every (kind, channel, variant) of `slug` that has sent messages, inside the caller's
    transaction (messages without a variant, from before variants existed, count as "default")."""
    started = exists().where(col(InterviewSession.candidate_id) == col(Candidate.id))
    completed = exists().where(col(InterviewSession.candidate_id) == col(Candidate.id),
                               col(InterviewSession.status) == SessionStatus.COMPLETED.value)
    variant = case((col(OutreachMessage.variant) == "", DEFAULT), else_=col(OutreachMessage.variant))
    query = (
        select(col(OutreachMessage.kind), col(OutreachMessage.channel), variant,
               func.count(col(OutreachMessage.id)), func.count(distinct(col(Candidate.id))),
               _count_if(col(Candidate.opened_at).is_not(None)), _count_if(started), _count_if(completed))
        .join(Candidate, col(Candidate.id) == col(OutreachMessage.candidate_id))
        .join(Interview, col(Interview.id) == col(Candidate.interview_id))
        .where(col(Interview.slug) == slug)
        .where(col(OutreachMessage.status).in_(SENT))
        .group_by(col(OutreachMessage.kind), col(OutreachMessage.channel), variant)
    )
    return {(kind, channel, name): VariantRates(kind, channel, name, *numbers)
            for kind, channel, name, *numbers in session.exec(query)}


class VariantStats(Repo):
    def rates(self, slug: str) -> dict[Key, VariantRates]:
        """`variant_rates` in a transaction of its own."""
        with self.unit() as session:
            return variant_rates(session, slug)
