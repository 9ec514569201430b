"""The outbox and the dispatcher on a fake clock: idempotent scheduling, verdicts carried out, one
hand-over per row, retries with backoff then a visible failure, delivery reports, and the recovery
of hand-overs a dead process left open (sent when the provider has the message, else sent again).

The channels here implement our own `Channel` seam (no provider is involved); the real SMTP and
Twilio channels are tested against loopback servers in test_email_channel.py and test_sms_channel.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from milo_voice.calls.session_store import SessionStore
from milo_voice.errors import EngineUnavailable
from milo_voice.outreach.dispatch import RETRY_DELAYS, dispatch_due, recover
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.types import ChannelName, Decision, MessageKind, Receipt, Rendered, Verdict
from milo_voice.store.tables import MessageStatus, OutreachMessage
from milo_voice.workspace.demo import Demo

START = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@dataclass
class Clock:
    at: datetime = START

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Recorded:
    """A channel that takes every message (or fails as told) and remembers what it took."""

    name: ChannelName = ChannelName.EMAIL
    took: list[Rendered] = field(default_factory=list)
    fail: EngineUnavailable | None = None

    def send(self, message: Rendered) -> Receipt:
        if self.fail is not None:
            raise self.fail
        self.took.append(message)
        return Receipt(f"id-{len(self.took)}")


@dataclass
class Lookup(Recorded):
    """...that can also say whether it has a message (as Twilio's message list can)."""

    known: dict[str, Receipt] = field(default_factory=dict)

    def find(self, message: Rendered) -> Receipt | None:
        return self.known.get(message.reference)


def always(decision: Decision, until: datetime | None = None):  # type: ignore[no-untyped-def]
    def decide(message: OutreachMessage, history: list[OutreachMessage], now: datetime) -> Verdict:
        return Verdict(decision, f"test: {decision.value}", until)
    return decide


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(store: SessionStore, clock: Clock) -> Outbox:
    return Outbox(store.engine, now=clock)


@pytest.fixture
def cid(store: SessionStore) -> int:
    return Demo(store.engine).seed()[1].id or 0


def schedule(outbox: Outbox, cid: int, key: str = "invitation:email:1",
             channel: ChannelName = ChannelName.EMAIL) -> int | None:
    return outbox.schedule(candidate_id=cid, kind=MessageKind.INVITATION, channel=channel, dedupe_key=key,
                           recipient="robin@example.com", body_text="Your link", due_at=START)


def test_a_trigger_that_fires_twice_schedules_one_message(outbox: Outbox, cid: int) -> None:
    first = schedule(outbox, cid)
    assert first is not None and schedule(outbox, cid) is None
    assert [m.id for m in outbox.due(START)] == [first]


def test_a_sent_message_carries_our_reference_and_the_providers_id(outbox: Outbox, cid: int) -> None:
    mid = schedule(outbox, cid)
    email = Recorded()
    done = dispatch_due(outbox, always(Decision.SEND), {ChannelName.EMAIL: email}, now=START)
    assert done.sent == 1 and [m.reference for m in email.took] == [f"milo-{mid}"]
    row = outbox.get(mid or 0)
    assert (row.status, row.provider_id, row.attempts) == ("sent", "id-1", 1)
    assert [m.id for m in outbox.history(cid)] == [mid]
    assert dispatch_due(outbox, always(Decision.SEND), {ChannelName.EMAIL: email}, now=START).sent == 0


def test_a_deferred_message_waits_for_its_time_and_a_suppressed_one_is_never_sent(
    outbox: Outbox, cid: int, clock: Clock
) -> None:
    later = START + timedelta(hours=11)
    deferred, suppressed = schedule(outbox, cid, "a"), schedule(outbox, cid, "b")
    email = Recorded()

    def decide(message: OutreachMessage, history: list[OutreachMessage], now: datetime) -> Verdict:
        if message.id == suppressed:
            return Verdict(Decision.SUPPRESS, "opted out of email")
        if now < later:
            return Verdict(Decision.DEFER, "quiet hours", later)
        return Verdict(Decision.SEND, "inside the window")

    dispatch_due(outbox, decide, {ChannelName.EMAIL: email}, now=START)
    assert outbox.get(deferred or 0).status == "deferred"
    assert outbox.get(suppressed or 0).status == "suppressed"
    assert outbox.due(later - timedelta(seconds=1)) == []
    clock.at = later
    assert dispatch_due(outbox, decide, {ChannelName.EMAIL: email}, now=later).sent == 1
    assert len(email.took) == 1 and outbox.get(suppressed or 0).reason == "opted out of email"
    states = [e.state for m, events in outbox.log(cid) if m.id == deferred for e in events]
    assert states == ["scheduled", "deferred", "handing_over", "sent"]


def test_a_row_is_handed_over_once(outbox: Outbox, cid: int) -> None:
    mid = schedule(outbox, cid) or 0
    assert outbox.begin_handover(mid) is True
    assert outbox.begin_handover(mid) is False  # a second worker gets nothing


def test_a_provider_that_is_down_means_retries_with_backoff_then_a_visible_failure(
    outbox: Outbox, cid: int, clock: Clock
) -> None:
    mid = schedule(outbox, cid) or 0
    down = Recorded(fail=EngineUnavailable("smtp.example.com:587 refused the connection"))
    for delay in RETRY_DELAYS:
        done = dispatch_due(outbox, always(Decision.SEND), {ChannelName.EMAIL: down}, now=clock.at)
        assert done.retried == 1
        row = outbox.get(mid)
        assert row.status == "scheduled" and row.due_at == clock.at + delay and "refused" in row.reason
        clock.at = row.due_at
    assert dispatch_due(outbox, always(Decision.SEND), {ChannelName.EMAIL: down}, now=clock.at).failed == 1
    row = outbox.get(mid)
    assert row.status == "failed" and row.attempts == len(RETRY_DELAYS) + 1


def test_a_refusal_that_retrying_cannot_fix_fails_at_once(outbox: Outbox, cid: int) -> None:
    mid = schedule(outbox, cid, channel=ChannelName.SMS) or 0
    bad = Recorded(ChannelName.SMS, fail=EngineUnavailable("21211: invalid 'To'", retryable=False))
    assert dispatch_due(outbox, always(Decision.SEND), {ChannelName.SMS: bad}, now=START).failed == 1
    assert outbox.get(mid).reason == "21211: invalid 'To'"
    other = schedule(outbox, cid, "no-channel", channel=ChannelName.SMS) or 0
    assert dispatch_due(outbox, always(Decision.SEND), {}, now=START).failed == 1
    assert "not configured" in outbox.get(other).reason


def test_a_stranded_hand_over_is_settled_by_asking_the_provider(outbox: Outbox, cid: int) -> None:
    had = schedule(outbox, cid, "had", ChannelName.SMS) or 0
    lost = schedule(outbox, cid, "lost", ChannelName.SMS) or 0
    assert outbox.begin_handover(had) and outbox.begin_handover(lost)  # then the process died
    sms = Lookup(ChannelName.SMS, known={f"milo-{had}": Receipt("SM1", "delivered")})
    assert recover(outbox, {ChannelName.SMS: sms}) == 2
    assert (outbox.get(had).status, outbox.get(had).provider_id) == ("sent", "SM1")
    assert outbox.get(lost).status == "scheduled"
    dispatch_due(outbox, always(Decision.SEND), {ChannelName.SMS: sms}, now=START)
    assert [m.reference for m in sms.took] == [f"milo-{lost}"]  # sent once; the one Twilio had, not again


def test_a_stranded_email_is_sent_again_with_the_same_reference(outbox: Outbox, cid: int) -> None:
    mid = schedule(outbox, cid) or 0
    assert outbox.begin_handover(mid)
    email = Recorded()
    assert recover(outbox, {ChannelName.EMAIL: email}) == 1
    assert "cannot be asked" in outbox.get(mid).reason
    dispatch_due(outbox, always(Decision.SEND), {ChannelName.EMAIL: email}, now=START)
    assert [m.reference for m in email.took] == [f"milo-{mid}"]


def test_delivery_reports_move_the_status_and_a_late_sent_does_not_undo_delivered(
    outbox: Outbox, cid: int
) -> None:
    mid = schedule(outbox, cid, channel=ChannelName.SMS) or 0
    dispatch_due(outbox, always(Decision.SEND), {ChannelName.SMS: Recorded(ChannelName.SMS)}, now=START)
    outbox.delivery(provider_id="id-1", state="delivered")
    outbox.delivery(provider_id="id-1", state="sent")
    assert outbox.get(mid).status == MessageStatus.DELIVERED
    outbox.delivery(message_id=mid, state="undelivered", detail={"error": "30003 unreachable"})
    assert outbox.get(mid).status == "failed" and outbox.get(mid).reason == "30003 unreachable"
    states = [e.state for m, events in outbox.log(cid) for e in events]
    assert states[-3:] == ["provider:delivered", "provider:sent", "provider:undelivered"]


def test_a_provider_that_cannot_be_asked_leaves_the_stranded_row_for_the_next_start(
    outbox: Outbox, cid: int
) -> None:
    mid = schedule(outbox, cid, channel=ChannelName.SMS) or 0
    assert outbox.begin_handover(mid)

    class Down(Lookup):
        def find(self, message: Rendered) -> Receipt | None:
            raise EngineUnavailable("Twilio: 503")

    assert recover(outbox, {ChannelName.SMS: Down(ChannelName.SMS)}) == 0
    assert outbox.get(mid).status == "sending"  # neither sent again nor given up
