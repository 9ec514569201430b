"""How the email and SMS providers have been doing: the recent retries and failures from the
message log, for the outreach settings page. Read-only.

A problem is an `outreach_event` whose state is `retry` (the provider was down or refused in a way
a retry may fix: it will be tried again at `until`), `failed` (final: a refusal retrying cannot fix,
or the retries ran out) or a provider's delivery report of `failed`/`undelivered`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from milo_voice.outreach.types import ChannelName
from milo_voice.store.repo import Repo
from milo_voice.store.tables import Candidate, OutreachEvent, OutreachMessage

PROBLEM_STATES = ("retry", "failed", "provider:failed", "provider:undelivered")
WINDOW = timedelta(days=7)
SUMMARY_WINDOW = timedelta(hours=24)
LIMIT = 100


@dataclass(frozen=True, slots=True)
class Problem:
    at: datetime
    channel: str
    candidate_id: int
    candidate_name: str
    message_id: int
    state: str
    error: str
    retry_at: datetime | None
    """When it will be tried again (state retry), else None: it failed for good."""

    @property
    def final(self) -> bool:
        return self.retry_at is None


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    channel: str
    failures: int
    """Problems in the last 24 h."""
    last_error: str = ""

    @property
    def line(self) -> str:
        name = "Email" if self.channel == ChannelName.EMAIL else "SMS"
        if not self.failures:
            return f"{name}: no delivery problems in the last 24 h"
        plural = "" if self.failures == 1 else "s"
        return f"{name}: {self.failures} problem{plural} in the last 24 h, last: {self.last_error}"


class ProviderHealth(Repo):
    def problems(self, *, limit: int = LIMIT) -> list[Problem]:
        """Retries and failures of the last 7 days, newest first."""
        since = self.now() - WINDOW
        with self.unit() as session:
            rows = session.exec(
                select(OutreachEvent, OutreachMessage.channel, OutreachMessage.candidate_id, Candidate.name)
                .join(OutreachMessage, col(OutreachEvent.message_id) == col(OutreachMessage.id))
                .join(Candidate, col(OutreachMessage.candidate_id) == col(Candidate.id))
                .where(col(OutreachEvent.state).in_(PROBLEM_STATES)).where(col(OutreachEvent.at) >= since)
                .order_by(col(OutreachEvent.at).desc(), col(OutreachEvent.id).desc()).limit(limit)
            ).all()
        return [_problem(event, channel, cid, name) for event, channel, cid, name in rows]

    def summary(self) -> list[ChannelHealth]:
        """One line per channel over the last 24 h."""
        since = self.now() - SUMMARY_WINDOW
        recent = [p for p in self.problems(limit=1000) if p.at >= since]
        out = []
        for channel in ChannelName:
            mine = [p for p in recent if p.channel == channel.value]
            out.append(ChannelHealth(channel.value, len(mine), mine[0].error if mine else ""))
        return out


def _problem(event: OutreachEvent, channel: str, candidate_id: int, name: str) -> Problem:
    detail = event.detail or {}
    error = str(detail.get("error") or detail.get("reason") or event.state)
    until = detail.get("until") if event.state == "retry" else None
    retry_at = datetime.fromisoformat(until) if isinstance(until, str) else None
    return Problem(event.at, channel, candidate_id, name, event.message_id, event.state, error, retry_at)
