"""The outbox: every message to a candidate as a row, from scheduled to delivered. The one writer
of `outreach_message` and `outreach_event`.

How a message is sent once (see docs/outreach.md):

1. A trigger schedules it under a `dedupe_key` (unique): the same trigger firing twice (a retry, a
   second worker, a restart) schedules nothing more.
2. A dispatcher takes a due row by moving it from scheduled/deferred to `sending` in one
   conditional UPDATE (`begin_handover`): two workers never both hand the same row over. That
   mark is committed *before* the provider is called.
3. After the provider's answer the row becomes `sent` (with the provider's id) or goes back to
   `scheduled` for a retry with backoff, or `failed` when retrying cannot help.
4. A row still `sending` after a restart was being handed over when the process died: it may or
   may not have reached the provider. `stranded()` lists those rows; the dispatcher asks the
   channel whether the provider has it (`outreach.dispatch.recover`) and only sends it if not.
   With several nodes, each row names the node that began it (`handed_by`), and a node settles
   another's row only once that node is gone (`outreach.stranded`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from milo_voice.outreach.types import ChannelName, MessageKind, Receipt, Rendered
from milo_voice.store.repo import Clock, NotFound, Repo, get_row
from milo_voice.store.tables import MessageStatus, OutreachEvent, OutreachMessage, utc_now

WAITING = (MessageStatus.SCHEDULED.value, MessageStatus.DEFERRED.value)
HANDED = (MessageStatus.SENDING.value, MessageStatus.SENT.value, MessageStatus.DELIVERED.value)
"""States in which a message counts as sent for the policy's caps (a hand-over under way included)."""
DONE = (MessageStatus.SENT.value, MessageStatus.DELIVERED.value, MessageStatus.FAILED.value,
        MessageStatus.SUPPRESSED.value)
"""States a message does not leave by itself (a late delivery report only moves sent to delivered)."""
DELIVERY_STATES = {
    "queued": None, "accepted": None, "sending": None, "scheduled": None,
    "sent": MessageStatus.SENT, "delivered": MessageStatus.DELIVERED, "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.FAILED, "failed": MessageStatus.FAILED, "canceled": MessageStatus.FAILED,
}
"""A provider's delivery state -> the message's status (None: keep it; the event is still logged)."""


def rendered(
    message: OutreachMessage, *, status_callback_url: str = "", unsubscribe_url: str = ""
) -> Rendered:
    """The row as a channel sends it; `reference` is our id, carried to the provider."""
    return Rendered(
        channel=ChannelName(message.channel), recipient=message.recipient, body_text=message.body_text,
        subject=message.subject, body_html=message.body_html, unsubscribe_url=unsubscribe_url,
        status_callback_url=status_callback_url, reference=f"milo-{message.id}",
    )


class Outbox(Repo):
    """`node` (MILO_NODE_NAME) is written on each hand-over this outbox begins (`handed_by`)."""

    def __init__(self, engine: Engine, *, now: Clock = utc_now, node: str = "") -> None:
        super().__init__(engine, now=now)
        self.node = node

    def schedule(
        self, *, candidate_id: int, kind: MessageKind, channel: ChannelName, dedupe_key: str,
        recipient: str, body_text: str, due_at: datetime, subject: str = "", body_html: str = "",
        template: str = "", variant: str = "", detail: dict[str, Any] | None = None,
    ) -> int | None:
        """A new scheduled message; None when `dedupe_key` was scheduled before (nothing changes).
        `detail` goes on the "scheduled" event (a nudge's `by`: who asked)."""
        row = OutreachMessage(
            candidate_id=candidate_id, kind=kind.value, channel=channel.value, dedupe_key=dedupe_key,
            recipient=recipient, subject=subject, body_text=body_text, body_html=body_html,
            template=template, variant=variant, due_at=due_at, created_at=self.now(),
        )
        try:
            with self.unit() as session:
                session.add(row)
                session.flush()
                assert row.id is not None
                _event(session, row.id, self.now(), "scheduled",
                       **{**(detail or {}), "due_at": due_at.isoformat()})
                return row.id
        except IntegrityError:
            return None

    def keys(self, candidate_ids: Sequence[int]) -> set[str]:
        """The dedupe keys already scheduled for these candidates (planning skips them up front)."""
        found: set[str] = set()
        ids = list(candidate_ids)
        with self.unit() as session:
            for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
                chunk = ids[start:start + 500]
                found.update(session.exec(select(OutreachMessage.dedupe_key)
                                          .where(col(OutreachMessage.candidate_id).in_(chunk))))
        return found

    def get(self, message_id: int) -> OutreachMessage:
        with self.unit() as session:
            return get_row(session, OutreachMessage, message_id)

    def due(self, now: datetime, *, limit: int = 100) -> list[OutreachMessage]:
        """Messages waiting whose time has come, oldest first."""
        with self.unit() as session:
            return list(session.exec(
                select(OutreachMessage).where(col(OutreachMessage.status).in_(WAITING))
                .where(col(OutreachMessage.due_at) <= now)
                .order_by(col(OutreachMessage.due_at), col(OutreachMessage.id)).limit(limit)
            ))

    def history(self, candidate_id: int) -> list[OutreachMessage]:
        """The candidate's messages that were sent or are being handed over (the policy's caps)."""
        with self.unit() as session:
            return list(session.exec(
                select(OutreachMessage).where(OutreachMessage.candidate_id == candidate_id)
                .where(col(OutreachMessage.status).in_(HANDED)).order_by(col(OutreachMessage.id))
            ))

    def log(self, candidate_id: int) -> list[tuple[OutreachMessage, list[OutreachEvent]]]:
        """Every message to the candidate with its events, newest first (the profile's message log)."""
        with self.unit() as session:
            messages = list(session.exec(
                select(OutreachMessage).where(OutreachMessage.candidate_id == candidate_id)
                .order_by(col(OutreachMessage.id).desc())
            ))
            ids = [m.id for m in messages]
            events: dict[int, list[OutreachEvent]] = {}
            for e in session.exec(select(OutreachEvent).where(col(OutreachEvent.message_id).in_(ids))
                                  .order_by(col(OutreachEvent.id))):
                events.setdefault(e.message_id, []).append(e)
        return [(m, events.get(m.id or 0, [])) for m in messages]

    def defer(self, message_id: int, until: datetime, reason: str) -> None:
        self._set(message_id, "deferred", status=MessageStatus.DEFERRED, due_at=until, reason=reason,
                  detail={"until": until.isoformat()})

    def suppress(self, message_id: int, reason: str) -> None:
        self._set(message_id, "suppressed", status=MessageStatus.SUPPRESSED, reason=reason)

    def begin_handover(self, message_id: int) -> bool:
        """Take a waiting message for sending; False when another worker took it, or it is not waiting.
        Committed before the provider is called."""
        now = self.now()
        with self.unit() as session:
            taken = session.exec(  # type: ignore[call-overload]
                update(OutreachMessage).where(col(OutreachMessage.id) == message_id)
                .where(col(OutreachMessage.status).in_(WAITING))
                .values(status=MessageStatus.SENDING.value, handed_at=now, handed_by=self.node,
                        attempts=OutreachMessage.attempts + 1)  # type: ignore[operator]
            ).rowcount == 1
            if taken:
                _event(session, message_id, now, "handing_over")
            return taken

    def mark_sent(self, message_id: int, receipt: Receipt, *, recovered: bool = False) -> None:
        self._set(message_id, "sent", status=MessageStatus.SENT, provider_id=receipt.provider_id,
                  sent_at=self.now(), reason="", detail={"provider_id": receipt.provider_id,
                                                         "provider_status": receipt.status,
                                                         "recovered": recovered})

    def mark_retry(self, message_id: int, until: datetime, error: str) -> None:
        self._set(message_id, "retry", status=MessageStatus.SCHEDULED, due_at=until, handed_at=None,
                  reason=error, detail={"error": error, "until": until.isoformat()})

    def mark_failed(self, message_id: int, error: str) -> None:
        self._set(message_id, "failed", status=MessageStatus.FAILED, reason=error, detail={"error": error})

    def release(self, message_id: int, reason: str) -> None:
        """A stranded hand-over that the provider never received: waiting again, sent next round."""
        self._set(message_id, "released", status=MessageStatus.SCHEDULED, handed_at=None, reason=reason)

    def stranded(self) -> list[OutreachMessage]:
        """Rows left `sending` by a process that died during the hand-over."""
        with self.unit() as session:
            return list(session.exec(
                select(OutreachMessage).where(OutreachMessage.status == MessageStatus.SENDING.value)
                .order_by(col(OutreachMessage.id))
            ))

    def delivery(self, *, provider_id: str = "", message_id: int | None = None, state: str,
                 detail: dict[str, Any] | None = None) -> OutreachMessage:
        """A provider's delivery report (a status callback): the event, and the status it implies."""
        with self.unit() as session:
            row = _find(session, provider_id, message_id)
            assert row.id is not None
            status = DELIVERY_STATES.get(state.lower())
            late = row.status == MessageStatus.DELIVERED and status is MessageStatus.SENT
            if status is not None and not late:  # a late "sent" does not undo "delivered"
                row.status = status.value
                if status is MessageStatus.FAILED:
                    row.reason = str((detail or {}).get("error", state))
            _event(session, row.id, self.now(), f"provider:{state.lower()}", **(detail or {}))
            return row

    def forget_bodies(self, cutoff: datetime) -> int:
        """Retention (`workspace.retention_sweep`): blank the subject and bodies of messages done with
        (sent, delivered, failed, suppressed) before `cutoff`: sent then, or due then if never sent.
        Rows, statuses and events stay. Returns how many messages had text."""
        sent, due = col(OutreachMessage.sent_at), col(OutreachMessage.due_at)
        with self.unit() as session:
            result = session.exec(  # type: ignore[call-overload]
                update(OutreachMessage).where(col(OutreachMessage.status).in_(DONE))
                .where(or_(sent < cutoff, and_(sent.is_(None), due < cutoff)))
                .where(or_(OutreachMessage.subject != "", OutreachMessage.body_text != "",
                           OutreachMessage.body_html != ""))
                .values(subject="", body_text="", body_html="")
            )
            return int(result.rowcount)

    def _set(
        self, message_id: int, event: str, *, detail: dict[str, Any] | None = None, **values: Any
    ) -> None:
        now = self.now()
        with self.unit() as session:
            row = get_row(session, OutreachMessage, message_id)
            for name, value in values.items():
                setattr(row, name, value.value if isinstance(value, MessageStatus) else value)
            _event(session, message_id, now, event,
                   **{"reason": str(values.get("reason", "")), **(detail or {})})


def _find(session: Session, provider_id: str, message_id: int | None) -> OutreachMessage:
    if message_id is not None:
        return get_row(session, OutreachMessage, message_id)
    row = session.exec(select(OutreachMessage).where(OutreachMessage.provider_id == provider_id)).first()
    if row is None or not provider_id:
        raise NotFound(f"no message with provider id {provider_id!r}")
    return row


def _event(session: Session, message_id: int, at: datetime, state: str, **detail: Any) -> None:
    session.add(OutreachEvent(message_id=message_id, at=at, state=state,
                              detail={k: v for k, v in detail.items() if v not in ("", None)}))


def counts(messages: Sequence[OutreachMessage]) -> dict[str, int]:
    """How many messages are in each status (for logs and the bench)."""
    out: dict[str, int] = {}
    for m in messages:
        out[m.status] = out.get(m.status, 0) + 1
    return out
