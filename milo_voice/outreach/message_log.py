"""What was sent to a candidate, as the profile and the API show it. Read-only.

A candidate's messages come newest first, each with what it was (kind, channel, the template and
its variant), the text as rendered (subject and body), to whom, its status and the reason the
policy or the provider gave, the provider's id, and every event of its life in order (the outbox's
`outreach_event` rows: scheduled, deferred, suppressed, handing_over, retry, sent, failed,
`provider:<state>` delivery reports), each with its time and detail.

For the candidate list, `summaries` gives every listed candidate's message count, the times of
their newest message and newest sent one, and when they last engaged, in two queries whatever the
number of candidates (chunked under SQLite's bound-parameter limit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, func, select

from milo_voice.outreach.outbox import Outbox
from milo_voice.store.repo import Repo
from milo_voice.store.tables import CandidateContact, MessageStatus, OutreachEvent, OutreachMessage

CHUNK = 500
"""Ids per IN (...) query: under SQLite's bound-parameter limit."""
VERDICTS = {"handing_over": "send", "sent": "send", "deferred": "defer", "suppressed": "suppress"}
"""Events that carry the policy's decision (a hand-over follows a "send")."""


@dataclass(frozen=True, slots=True)
class LogEvent:
    state: str
    at: datetime
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def delivery(self) -> bool:
        """A provider's delivery report (`provider:delivered`, `provider:undelivered`, ...)."""
        return self.state.startswith("provider:")

    def as_json(self) -> dict[str, Any]:
        return {"state": self.state, "at": self.at.isoformat(), "detail": self.detail}


@dataclass(frozen=True, slots=True)
class LoggedMessage:
    id: int
    kind: str
    channel: str
    template: str
    variant: str
    recipient: str
    subject: str
    body_text: str
    status: str
    reason: str
    """The last verdict's or failure's reason."""
    provider_id: str
    due_at: datetime
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    events: tuple[LogEvent, ...] = ()
    """Oldest first."""

    @property
    def verdict(self) -> str:
        """The policy's last decision: "send", "defer", "suppress", or "" (not decided yet)."""
        return next((VERDICTS[e.state] for e in reversed(self.events) if e.state in VERDICTS), "")

    @property
    def deferred_until(self) -> datetime | None:
        return self.due_at if self.status == MessageStatus.DEFERRED.value else None

    @property
    def suppressed_because(self) -> str:
        return self.reason if self.status == MessageStatus.SUPPRESSED.value else ""

    @property
    def failure(self) -> str:
        return self.reason if self.status == MessageStatus.FAILED.value else ""

    @property
    def deliveries(self) -> list[LogEvent]:
        """The hand-over's outcome and the provider's reports, in order."""
        return [e for e in self.events if e.delivery or e.state in ("sent", "retry", "failed")]

    @property
    def requested_by(self) -> str:
        """Who asked for it (a recruiter's nudge); "" for the planner's messages."""
        return next((str(e.detail.get("by", "")) for e in self.events if e.state == "scheduled"), "")

    def as_json(self) -> dict[str, Any]:
        stamp = _iso
        return {
            "id": self.id, "kind": self.kind, "channel": self.channel, "template": self.template,
            "variant": self.variant, "recipient": self.recipient, "subject": self.subject,
            "body_text": self.body_text, "status": self.status, "verdict": self.verdict or None,
            "reason": self.reason, "deferred_until": stamp(self.deferred_until),
            "provider_id": self.provider_id or None, "requested_by": self.requested_by or None,
            "attempts": self.attempts, "due_at": stamp(self.due_at), "created_at": stamp(self.created_at),
            "sent_at": stamp(self.sent_at), "events": [e.as_json() for e in self.events],
        }


@dataclass(frozen=True, slots=True)
class Summary:
    """One candidate's messages at a glance (the list's Messages and Last engaged columns)."""

    count: int = 0
    last_at: datetime | None = None
    """When their newest message was scheduled."""
    last_sent_at: datetime | None = None
    last_engaged_at: datetime | None = None
    """When they last opened their link, replied or started (`Contacts.engaged`); None: never."""


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _logged(message: OutreachMessage, events: list[OutreachEvent]) -> LoggedMessage:
    return LoggedMessage(
        id=message.id or 0, kind=message.kind, channel=message.channel, template=message.template,
        variant=message.variant, recipient=message.recipient, subject=message.subject,
        body_text=message.body_text, status=message.status, reason=message.reason,
        provider_id=message.provider_id, due_at=message.due_at, created_at=message.created_at,
        sent_at=message.sent_at, attempts=message.attempts,
        events=tuple(LogEvent(e.state, e.at, dict(e.detail or {})) for e in events),
    )


class MessageLog(Repo):
    def messages(self, candidate_id: int) -> list[LoggedMessage]:
        """The candidate's messages, newest first, each with its events in order (two queries)."""
        return [_logged(m, events) for m, events in Outbox(self.engine, now=self.now).log(candidate_id)]

    def summaries(self, candidate_ids: Sequence[int]) -> dict[int, Summary]:
        """Each candidate's count, newest message times and last engagement; a candidate with neither
        messages nor a contact row is left out (read it as `Summary()`)."""
        ids = list(dict.fromkeys(candidate_ids))
        counts: dict[int, tuple[int, datetime | None, datetime | None]] = {}
        engaged: dict[int, datetime | None] = {}
        with self.unit() as session:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start:start + CHUNK]
                counts.update((cid, (n, last, sent)) for cid, n, last, sent in session.exec(
                    select(OutreachMessage.candidate_id, func.count(),
                           func.max(col(OutreachMessage.created_at)), func.max(col(OutreachMessage.sent_at)))
                    .where(col(OutreachMessage.candidate_id).in_(chunk))
                    .group_by(col(OutreachMessage.candidate_id))))
                engaged.update(session.exec(
                    select(CandidateContact.candidate_id, CandidateContact.last_engaged_at)
                    .where(col(CandidateContact.candidate_id).in_(chunk))).all())
        return {cid: Summary(*counts.get(cid, (0, None, None)), last_engaged_at=engaged.get(cid))
                for cid in ids if cid in counts or cid in engaged}
