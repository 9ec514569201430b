"""How the email and SMS providers have been doing: the recent retries and failures from the
message log, for the outreach settings page. Read-only.

A problem is an `outreach_event` whose state is `retry` (the provider was down or refused in a way
a retry may fix: it is tried again at the event's `until`), `failed` (final: a refusal retrying
cannot fix, or the retries ran out) or a provider's delivery report of `failed`/`undelivered`
(Twilio's status callback). Each problem carries what the message became since, so a retry that
went through on the next attempt reads as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Select, case, func
from sqlmodel import col, select

from milo_voice.outreach.types import ChannelName
from milo_voice.store.repo import Repo
from milo_voice.store.tables import Candidate, MessageStatus, OutreachEvent, OutreachMessage

RETRY, FAILED = "retry", "failed"
DELIVERY_PROBLEMS = ("provider:failed", "provider:undelivered")
PROBLEM_STATES = (RETRY, FAILED, *DELIVERY_PROBLEMS)
WINDOW = timedelta(days=7)
SUMMARY_WINDOW = timedelta(hours=24)
LIMIT = 100
WAITING = (MessageStatus.SCHEDULED.value, MessageStatus.DEFERRED.value, MessageStatus.SENDING.value)
ARRIVED = (MessageStatus.SENT.value, MessageStatus.DELIVERED.value)


class Outcome(StrEnum):
    """What became of the message after this problem."""

    FAILED = "failed"
    """Failed for good: this problem was final."""
    WILL_RETRY = "will_retry"
    """Waiting for its next attempt, at `retry_at` (still ahead)."""
    RETRIED = "retried"
    """Tried again at `retry_at` and still waiting (a newer problem says what happened then)."""
    RETRIED_SENT = "retried_sent"
    """Tried again and handed over."""
    RETRIED_STOPPED = "retried_stopped"
    """Tried again, then failed or was suppressed (a newer row says which)."""


@dataclass(frozen=True, slots=True)
class Problem:
    at: datetime
    channel: str
    candidate_id: int
    candidate_name: str
    message_id: int
    state: str
    """The event's state: `retry`, `failed`, `provider:failed` or `provider:undelivered`."""
    error: str
    """What the provider said, as the channel worded it."""
    retry_at: datetime | None
    """When it was (or will be) tried again; None when this problem was final."""
    status: str
    """The message's status now (`MessageStatus`)."""
    outcome: Outcome

    @property
    def final(self) -> bool:
        return self.outcome is Outcome.FAILED


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    channel: str
    problems: int
    """Retries and failures in the last 24 h."""
    final: int = 0
    """Of those, the ones that failed for good."""
    last_error: str = ""

    @property
    def line(self) -> str:
        name = "Email" if self.channel == ChannelName.EMAIL else "SMS"
        if not self.problems:
            return f"{name}: no delivery problems in the last 24 h"
        plural = "" if self.problems == 1 else "s"
        return (f"{name}: {self.problems} problem{plural} in the last 24 h ({self.problems - self.final} "
                f"retried, {self.final} failed for good), last: {self.last_error}")


class ProviderHealth(Repo):
    def problems(self, *, limit: int = LIMIT) -> list[Problem]:
        """Retries and failures of the last 7 days, newest first."""
        now = self.now()
        query = _problems_since(select(OutreachEvent, OutreachMessage.channel, OutreachMessage.candidate_id,
                                       Candidate.name, OutreachMessage.status), now - WINDOW)
        with self.unit() as session:
            rows = session.exec(_newest(query.join(
                Candidate, col(OutreachMessage.candidate_id) == col(Candidate.id))).limit(limit)).all()
        return [_problem(event, channel, cid, name, status, now)
                for event, channel, cid, name, status in rows]

    def summary(self) -> list[ChannelHealth]:
        """One line per channel over the last 24 h: how many problems, how many final, the last error."""
        since = self.now() - SUMMARY_WINDOW
        final = case((col(OutreachEvent.state) != RETRY, 1), else_=0)
        counting = select(OutreachMessage.channel, func.count(), func.sum(final))
        with self.unit() as session:
            counted = session.exec(_problems_since(counting, since).group_by(OutreachMessage.channel)).all()
            last = {channel.value: session.exec(
                _newest(_problems_since(select(OutreachEvent), since))
                .where(OutreachMessage.channel == channel.value).limit(1)
            ).first() for channel in ChannelName}
        counts = {channel: (int(total), int(finals or 0)) for channel, total, finals in counted}
        out = []
        for channel in ChannelName:
            total, finals = counts.get(channel.value, (0, 0))
            event = last[channel.value]
            out.append(ChannelHealth(channel.value, total, finals, _error(event) if event else ""))
        return out


Query = TypeVar("Query", bound=Select[Any])


def _problems_since(query: Query, since: datetime) -> Query:
    """`query` over the problem events since `since`, joined to their messages."""
    return (query.select_from(OutreachEvent)
            .join(OutreachMessage, col(OutreachEvent.message_id) == col(OutreachMessage.id))
            .where(col(OutreachEvent.state).in_(PROBLEM_STATES)).where(col(OutreachEvent.at) >= since))


def _newest(query: Query) -> Query:
    return query.order_by(col(OutreachEvent.at).desc(), col(OutreachEvent.id).desc())


def _error(event: OutreachEvent) -> str:
    detail = event.detail or {}
    if event.state in DELIVERY_PROBLEMS:
        code = detail.get("error")
        said = event.state.removeprefix("provider:")
        return f"the provider reported the message {said}" + (f" (error {code})" if code else "")
    return str(detail.get("error") or detail.get("reason") or event.state)


def _problem(event: OutreachEvent, channel: str, candidate_id: int, name: str, status: str,
             now: datetime) -> Problem:
    until = (event.detail or {}).get("until") if event.state == RETRY else None
    retry_at = datetime.fromisoformat(until) if isinstance(until, str) else None
    if event.state != RETRY or retry_at is None:
        outcome = Outcome.FAILED
    elif status in ARRIVED:
        outcome = Outcome.RETRIED_SENT
    elif status not in WAITING:
        outcome = Outcome.RETRIED_STOPPED
    else:
        outcome = Outcome.WILL_RETRY if retry_at > now else Outcome.RETRIED
    return Problem(event.at, channel, candidate_id, name, event.message_id, event.state, _error(event),
                   retry_at, status, outcome)
