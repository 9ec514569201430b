"""Several nodes on one database, one outbox: a hand-over in flight on a live node is never settled by
another node (that would send the message twice); it is settled once the node that began it is gone
(stopped or silent), or once the lease runs out. On a fake clock, with the real Cluster heartbeats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_outbox import START, Clock, Lookup, Recorded, always, schedule

from milo_voice.calls.cluster import Cluster
from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.planner import OutreachConfig
from milo_voice.outreach.stranded import LEASE, StrandedRule
from milo_voice.outreach.types import ChannelName, Decision, Receipt
from milo_voice.outreach.worker import OutreachWorker
from milo_voice.workspace.demo import Demo

STALE_S = 10.0


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cid(store: SessionStore) -> int:
    return Demo(store.engine).seed()[1].id or 0


def beat(store: SessionStore, clock: Clock, name: str) -> Cluster:
    cluster = Cluster(store.engine, me=name, stale_s=STALE_S, now=clock)
    cluster.heartbeat(url=f"http://{name}", stream_url="", live=0, max_live=16, draining=False)
    return cluster


def worker(store: SessionStore, clock: Clock, name: str, channel: Recorded) -> OutreachWorker:
    cluster = Cluster(store.engine, me=name, stale_s=STALE_S, now=clock)
    return OutreachWorker(Outbox(store.engine, now=clock, node=name), always(Decision.SEND),
                          {channel.name: channel}, OutreachConfig(base_url="http://x"),
                          stranded=StrandedRule(name, cluster.gone))


def test_the_hand_over_names_the_node_that_began_it(store: SessionStore, clock: Clock, cid: int) -> None:
    outbox = Outbox(store.engine, now=clock, node="node-a")
    mid = schedule(outbox, cid) or 0
    assert outbox.begin_handover(mid)
    assert (outbox.get(mid).status, outbox.get(mid).handed_by) == ("sending", "node-a")


def test_a_live_nodes_hand_over_is_left_alone_then_settled_once_the_node_is_dead(
    store: SessionStore, clock: Clock, cid: int
) -> None:
    a, b = Outbox(store.engine, now=clock, node="node-a"), beat(store, clock, "node-b")
    beat(store, clock, "node-a")
    mid = schedule(a, cid) or 0
    assert a.begin_handover(mid)  # node-a is sending it now
    email = Recorded()
    on_b = worker(store, clock, "node-b", email)
    assert on_b.settle_at_start() == 0  # node-b starting does not touch node-a's message in flight
    on_b.run_once()
    assert a.get(mid).status == "sending" and email.took == []
    clock.at += timedelta(seconds=3 * STALE_S - 1)
    b.heartbeat(url="http://node-b", stream_url="", live=0, max_live=16, draining=False)
    on_b.run_once()
    assert a.get(mid).status == "sending"  # silent, but not yet for three stale periods
    clock.at += timedelta(seconds=2)
    on_b.run_once()  # node-a is dead: its stranded email is sent again, with the same reference, once
    on_b.run_once()
    assert [m.reference for m in email.took] == [f"milo-{mid}"]
    assert a.get(mid).status == "sent" and a.get(mid).handed_by == "node-b"


def test_a_node_that_stopped_cleanly_leaves_its_hand_over_to_the_others(
    store: SessionStore, clock: Clock, cid: int
) -> None:
    a = Outbox(store.engine, now=clock, node="node-a")
    mid = schedule(a, cid, channel=ChannelName.SMS) or 0
    assert a.begin_handover(mid)
    beat(store, clock, "node-a").goodbye()
    sms = Lookup(ChannelName.SMS, known={f"milo-{mid}": Receipt("SM9", "sent")})
    worker(store, clock, "node-b", sms).run_once()
    assert (a.get(mid).status, a.get(mid).provider_id, sms.took) == ("sent", "SM9", [])  # found, not resent


def test_a_node_settles_its_own_previous_lifes_hand_overs_at_start(
    store: SessionStore, clock: Clock, cid: int
) -> None:
    before = Outbox(store.engine, now=clock, node="node-a")
    mid = schedule(before, cid) or 0
    assert before.begin_handover(mid)  # then node-a was killed and starts again
    beat(store, clock, "node-a")
    email = Recorded()
    restarted = worker(store, clock, "node-a", email)
    assert restarted.settle_at_start() == 1
    assert before.get(mid).status == "scheduled"
    restarted.run_once()
    assert [m.reference for m in email.took] == [f"milo-{mid}"]


def test_the_lease_settles_a_hand_over_of_a_node_never_seen(
    store: SessionStore, clock: Clock, cid: int
) -> None:
    ghost = Outbox(store.engine, now=clock, node="node-ghost")  # no heartbeat row under this name
    mid = schedule(ghost, cid) or 0
    assert ghost.begin_handover(mid)
    email = Recorded()
    on_b = worker(store, clock, "node-b", email)
    on_b.run_once()
    assert email.took == []
    clock.at += LEASE
    on_b.run_once()
    assert [m.reference for m in email.took] == [f"milo-{mid}"]


def test_the_rule_on_its_own() -> None:
    from milo_voice.store.tables import OutreachMessage

    rule = StrandedRule("me", gone=lambda name: name == "dead")
    row = OutreachMessage(candidate_id=1, kind="invitation", channel="email", dedupe_key="k",
                          handed_at=START)
    at = START + timedelta(seconds=5)
    for by, start, later in (("", True, False), ("me", True, False), ("dead", True, True),
                             ("alive", False, False)):
        row.handed_by = by
        assert (rule.at_start(row, at), rule.later(row, at)) == (start, later), by
    row.handed_by = "alive"
    assert rule.later(row, START + LEASE)
