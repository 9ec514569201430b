"""Dispatching due messages: the policy's verdict, the hand-over to the channel, retries, and the
recovery of hand-overs a dead process left open. Sync: it runs in a worker thread.

Exactly once (see outbox.py for the row protocol): a row is marked `sending` and committed before
the channel is called. After a crash, `recover` asks each stranded row's channel whether the
provider has the message (`Reconciles.find`): SMS looks it up in Twilio's message list (same To,
From and body: the body carries the candidate's own link), so a message Twilio took is recorded
as sent, not sent again. Plain SMTP has no way to ask; a stranded email is sent again with the
same Message-ID (RFC 5322: one message, one id; receiving systems drop a second copy), so an
email is never lost, and at most the one email in flight when the process died is repeated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from milo_voice import observability as metrics
from milo_voice.errors import EngineUnavailable
from milo_voice.outreach.outbox import Outbox, rendered
from milo_voice.outreach.types import Channel, ChannelName, Decision, Receipt, Rendered, Verdict
from milo_voice.store.tables import OutreachMessage

log = logging.getLogger(__name__)

RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
"""Backoff between attempts when the provider is down; after the last one the message fails (visibly)."""

Decide = Callable[[OutreachMessage, list[OutreachMessage], datetime], Verdict]
"""The policy, bound to its settings: (message, the candidate's sent history, now) -> verdict."""
Links = Callable[[OutreachMessage], Rendered]
"""A row as its channel sends it, with the unsubscribe and status-callback URLs filled in."""
Orphaned = Callable[[OutreachMessage, datetime], bool]
"""Whether a `sending` row (at now) was surely left by a dead hand-over, so it may be settled."""


def any_row(message: OutreachMessage, now: datetime) -> bool:
    """One process: at its start, every `sending` row was left by its previous life."""
    return True


@runtime_checkable
class Reconciles(Protocol):
    def find(self, message: Rendered) -> Receipt | None:
        """The provider's receipt for this message if the provider has it (a lookup, no send)."""
        ...


@dataclass(slots=True)
class Dispatched:
    sent: int = 0
    deferred: int = 0
    suppressed: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    """Taken by another worker between the query and the hand-over."""


def plain_links(message: OutreachMessage) -> Rendered:
    return rendered(message)


def dispatch_due(outbox: Outbox, decide: Decide, channels: Mapping[ChannelName, Channel], *,
                 now: datetime, limit: int = 100, links: Links = plain_links) -> Dispatched:
    """One round over the messages due at `now`; every verdict and hand-over is logged."""
    done = Dispatched()
    for message in outbox.due(now, limit=limit):
        assert message.id is not None
        verdict = decide(message, outbox.history(message.candidate_id), now)
        _log_verdict(message, verdict)
        if verdict.decision is Decision.DEFER:
            outbox.defer(message.id, verdict.until or now, verdict.reason)
            done.deferred += 1
        elif verdict.decision is Decision.SUPPRESS:
            outbox.suppress(message.id, verdict.reason)
            done.suppressed += 1
        elif not outbox.begin_handover(message.id):
            done.skipped += 1
        else:
            _hand_over(outbox, channels, outbox.get(message.id), links, done)
    return done


def _hand_over(outbox: Outbox, channels: Mapping[ChannelName, Channel], message: OutreachMessage,
               links: Links, done: Dispatched) -> None:
    assert message.id is not None
    channel = channels.get(ChannelName(message.channel))
    if channel is None:
        outbox.mark_failed(message.id, f"{message.channel} is not configured on this server")
        metrics.MESSAGES_FAILED.labels(message.channel).inc()
        done.failed += 1
        return
    try:
        receipt = channel.send(links(message))
    except EngineUnavailable as exc:
        _after_failure(outbox, message, exc, done)
        return
    outbox.mark_sent(message.id, receipt)
    metrics.MESSAGES_SENT.labels(message.channel).inc()
    log.info("outreach.sent", extra={"message_id": message.id, "candidate_id": message.candidate_id,
                                     "channel": message.channel, "kind": message.kind,
                                     "provider_id": receipt.provider_id})
    done.sent += 1


def _after_failure(
    outbox: Outbox, message: OutreachMessage, exc: EngineUnavailable, done: Dispatched
) -> None:
    assert message.id is not None
    attempt = message.attempts  # counted at the hand-over
    if exc.retryable and attempt <= len(RETRY_DELAYS):
        until = outbox.now() + RETRY_DELAYS[attempt - 1]
        outbox.mark_retry(message.id, until, str(exc))
        log.warning("outreach.retry", extra={"message_id": message.id, "attempt": attempt,
                                             "until": until.isoformat(), "error": str(exc)})
        done.retried += 1
    else:
        outbox.mark_failed(message.id, str(exc))
        metrics.MESSAGES_FAILED.labels(message.channel).inc()
        log.error("outreach.failed", extra={"message_id": message.id, "attempts": attempt, "error": str(exc)})
        done.failed += 1


def recover(outbox: Outbox, channels: Mapping[ChannelName, Channel], *, links: Links = plain_links,
            orphaned: Orphaned = any_row) -> int:
    """Settle the hand-overs a dead process left open: recorded as sent when the provider has the
    message, released to be sent again when it has not (or cannot say: email). A provider that is
    down leaves the row as it is, for later. `orphaned` picks the rows that are surely not in flight
    (`outreach.stranded.StrandedRule`; by default all: one process, at start). Returns rows settled."""
    settled = 0
    now = outbox.now()
    for message in outbox.stranded():
        assert message.id is not None
        if not orphaned(message, now):
            continue  # another node may be handing it over right now
        channel = channels.get(ChannelName(message.channel))
        try:
            found = channel.find(links(message)) if isinstance(channel, Reconciles) else None
        except EngineUnavailable as exc:  # the provider cannot be asked now: the row waits, unsent
            log.warning("outreach.recover_later", extra={"message_id": message.id, "error": str(exc)})
            continue
        if found is not None:
            outbox.mark_sent(message.id, found, recovered=True)
            log.info("outreach.recovered_sent",
                     extra={"message_id": message.id, "provider_id": found.provider_id})
        else:
            why = ("the provider has no such message" if isinstance(channel, Reconciles)
                   else f"{message.channel} cannot be asked; sent again with the same id")
            outbox.release(message.id, f"interrupted hand-over: {why}")
            log.warning("outreach.recovered_resend", extra={"message_id": message.id, "reason": why})
        settled += 1
    return settled


def _log_verdict(message: OutreachMessage, verdict: Verdict) -> None:
    log.info("outreach.verdict", extra={
        "message_id": message.id, "candidate_id": message.candidate_id, "channel": message.channel,
        "kind": message.kind, "decision": verdict.decision.value, "reason": verdict.reason,
        "until": verdict.until.isoformat() if verdict.until else ""})
