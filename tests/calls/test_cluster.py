"""The nodes of one database (`calls/cluster.py`): heartbeats, placement by the `live_call` rows, who holds
which call, and what `reap`, `goodbye` and `starting` free. Two `Cluster` objects ("a" and "b") share one
migrated database, on a fake clock each test advances; one flow runs again on real PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from helpers import T0, UtcClock
from postgres import postgres_url  # noqa: F401  (fixture)
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from milo_voice.calls import cluster as cluster_module
from milo_voice.calls.cluster import UNCLAIMED_S, Cluster, phone_key, web_key
from milo_voice.calls.node_choice import NodeLoad
from milo_voice.store.db import create_engine, migrate
from milo_voice.store.tables import LiveCall, ServeNode

STALE_S = 10.0


Clock = UtcClock


@dataclass(slots=True)
class Nodes:
    engine: Engine
    clock: Clock
    a: Cluster
    b: Cluster

    def node(self, name: str) -> Cluster:
        return Cluster(self.engine, me=name, stale_s=STALE_S, now=lambda: self.clock.now)


def two_nodes(engine: Engine) -> Nodes:
    clock = Clock()
    a = Cluster(engine, me="a", stale_s=STALE_S, now=lambda: clock.now)
    b = Cluster(engine, me="b", stale_s=STALE_S, now=lambda: clock.now)
    return Nodes(engine, clock, a, b)


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[Nodes]:
    url = f"sqlite:///{tmp_path / 'milo.db'}"
    migrate(url)
    engine = create_engine(url)
    yield two_nodes(engine)
    engine.dispose()


def beat(cluster: Cluster, *, max_live: int = 5, draining: bool = False, live: int = 0) -> None:
    name = cluster.me
    cluster.heartbeat(url=f"http://{name}:8000", stream_url=f"https://{name}.example", live=live,
                      max_live=max_live, draining=draining)


def rows(engine: Engine) -> dict[str, LiveCall]:
    """Every `live_call` row, by key."""
    with Session(engine) as session:
        return {row.key: row for row in session.exec(select(LiveCall))}


def per_node(engine: Engine) -> Counter[str]:
    return Counter(row.node for row in rows(engine).values())


def serve_node(engine: Engine, name: str) -> ServeNode | None:
    with Session(engine) as session:
        return session.get(ServeNode, name)


def test_keys_say_the_channel_and_hide_the_phone_ticket() -> None:
    assert web_key("tok123") == "web:tok123"
    key = phone_key("ticket-secret")
    assert key.startswith("phone:") and len(key) == len("phone:") + 32
    assert "ticket-secret" not in key
    assert key == phone_key("ticket-secret") and key != phone_key("ticket-secret2")


def test_heartbeat_registers_the_node_with_its_room(nodes: Nodes) -> None:
    assert not nodes.a.registered() and nodes.a.nodes() == []
    beat(nodes.a, max_live=7, live=2, draining=True)
    assert nodes.a.registered() and not nodes.b.registered()
    row = serve_node(nodes.engine, "a")
    assert row is not None
    assert (row.url, row.stream_url, row.live_calls, row.max_live_calls, row.draining, row.stopped) == (
        "http://a:8000", "https://a.example", 2, 7, True, False)
    assert row.heartbeat_at == T0 == row.started_at

    nodes.clock.advance(4)
    beat(nodes.a, max_live=8, live=0, draining=False)
    row = serve_node(nodes.engine, "a")
    assert row is not None
    assert (row.max_live_calls, row.draining, row.heartbeat_at, row.started_at) == (
        8, False, T0 + timedelta(seconds=4), T0)
    [load] = nodes.b.nodes()
    assert (load.name, load.url, load.stream_url, load.max_live, load.draining) == (
        "a", "http://a:8000", "https://a.example", 8, False)
    assert load.live == 0  # the load is the rows, not the heartbeat's own count


def test_places_spread_over_both_nodes(nodes: Nodes) -> None:
    beat(nodes.a)
    beat(nodes.b)
    placed = [nodes.a.place(phone_key(f"ticket-{i}"), "phone", claimed=False) for i in range(6)]
    assert [p.name if p else None for p in placed] == ["a", "b", "a", "b", "a", "b"]
    assert per_node(nodes.engine) == {"a": 3, "b": 3}
    assert {load.name: load.live for load in nodes.b.nodes()} == {"a": 3, "b": 3}
    row = rows(nodes.engine)[phone_key("ticket-1")]
    assert (row.node, row.channel, row.claimed, row.created_at) == ("b", "phone", False, T0)


def test_placing_the_same_key_again_keeps_one_row(nodes: Nodes) -> None:
    beat(nodes.a)
    beat(nodes.b)
    assert nodes.a.place(web_key("t"), "webrtc", candidate_id=7) is not None
    assert nodes.a.place(web_key("t"), "webrtc", candidate_id=7) is not None
    assert list(rows(nodes.engine)) == [web_key("t")]
    assert rows(nodes.engine)[web_key("t")].candidate_id == 7


def test_pick_and_place_need_this_node_registered(nodes: Nodes) -> None:
    beat(nodes.b)
    assert nodes.a.pick() is None  # a never beat: it decides alone
    assert nodes.a.place(web_key("t"), "webrtc") is None
    assert rows(nodes.engine) == {}
    picked = nodes.b.pick()
    assert picked is not None and picked.name == "b"


def test_pick_writes_nothing_and_agrees_with_place(nodes: Nodes) -> None:
    beat(nodes.a)
    beat(nodes.b)
    nodes.a.hold(web_key("x"), "webrtc")
    picked = nodes.a.pick()
    assert picked is not None and picked.name == "b"
    assert per_node(nodes.engine) == {"a": 1}
    placed = nodes.a.place(web_key("y"), "webrtc")
    assert placed is not None and placed.name == picked.name


def test_a_full_or_draining_node_is_skipped(nodes: Nodes) -> None:
    beat(nodes.a, max_live=1)
    beat(nodes.b, max_live=5)
    first = nodes.a.place(web_key("1"), "webrtc")
    assert first is not None and first.name == "a"  # a tie: the node asking
    for i in range(2, 5):
        placed = nodes.a.place(web_key(str(i)), "webrtc")
        assert placed is not None and placed.name == "b"  # a is full
    assert per_node(nodes.engine) == {"a": 1, "b": 3}

    beat(nodes.a, max_live=10)
    beat(nodes.b, max_live=10, draining=True)
    for i in range(5, 8):
        placed = nodes.b.place(web_key(str(i)), "webrtc")
        assert placed is not None and placed.name == "a"  # b drains, though a holds more
    assert per_node(nodes.engine) == {"a": 4, "b": 3}

    beat(nodes.a, max_live=10, draining=True)
    assert nodes.a.pick() is None and nodes.b.place(web_key("8"), "webrtc") is None
    assert len(rows(nodes.engine)) == 7


def test_a_stale_node_gets_no_new_calls(nodes: Nodes) -> None:
    beat(nodes.a)
    beat(nodes.b)
    nodes.clock.advance(STALE_S)
    beat(nodes.a)  # b is silent
    placed = [nodes.a.place(web_key(str(i)), "webrtc") for i in range(3)]
    assert [p.name if p else None for p in placed] == ["a", "a", "a"]


def test_hold_release_and_owner(nodes: Nodes) -> None:
    beat(nodes.a)
    beat(nodes.b)
    key = phone_key("ticket")
    placed = nodes.a.place(key, "phone", candidate_id=3, claimed=False)
    assert placed is not None and placed.name == "a"
    owner = nodes.b.owner(key)
    assert owner is not None and (owner.name, owner.url) == ("a", "http://a:8000")

    nodes.b.hold(key, "phone")  # the stream came to b after all
    row = rows(nodes.engine)[key]
    assert (row.node, row.claimed, row.candidate_id) == ("b", True, 3)  # the candidate is kept
    owner = nodes.a.owner(key)
    assert owner is not None and owner.name == "b"

    nodes.a.release(key)  # a no longer holds it: nothing happens
    assert key in rows(nodes.engine)
    nodes.b.release(key)
    assert rows(nodes.engine) == {}
    assert nodes.a.owner(key) is None
    nodes.b.release(key)  # again: nothing

    nodes.a.hold(web_key("new"), "webrtc", candidate_id=9)  # a call with no row yet
    row = rows(nodes.engine)[web_key("new")]
    assert (row.node, row.channel, row.claimed, row.candidate_id, row.created_at) == (
        "a", "webrtc", True, 9, T0)


def test_owner_of_a_call_on_an_unregistered_node_is_none(nodes: Nodes) -> None:
    nodes.a.hold(web_key("t"), "webrtc")  # a holds it but never beat
    assert nodes.b.owner(web_key("t")) is None


def test_reap_frees_a_dead_nodes_rows_only_after_three_stale_times(nodes: Nodes) -> None:
    beat(nodes.a)
    beat(nodes.b)
    for i in range(4):
        nodes.a.place(web_key(str(i)), "webrtc")
    assert per_node(nodes.engine) == {"a": 2, "b": 2}
    for _ in range(int(3 * STALE_S) - 1):  # a beats every second; b is silent
        nodes.clock.advance(1)
        beat(nodes.a)
    assert per_node(nodes.engine) == {"a": 2, "b": 2}  # stale, not dead yet
    assert nodes.a.reap() == []
    nodes.clock.advance(1)
    assert nodes.a.reap() == ["b"]
    assert per_node(nodes.engine) == {"a": 2}
    assert nodes.b.reap() == []  # a node never writes itself off
    beat(nodes.a)  # the heartbeat reaps too; b still dead, nothing left of it
    assert per_node(nodes.engine) == {"a": 2}

    beat(nodes.b)  # b is back: up again, and takes calls
    assert nodes.a.reap() == []
    placed = nodes.a.place(web_key("9"), "webrtc")
    assert placed is not None and placed.name == "b"


def test_the_heartbeat_reaps_a_dead_node(nodes: Nodes) -> None:
    beat(nodes.a)
    beat(nodes.b)
    nodes.b.hold(web_key("b1"), "webrtc")
    nodes.clock.advance(3 * STALE_S)
    beat(nodes.a)
    assert rows(nodes.engine) == {}


def test_reap_frees_unclaimed_phone_places_after_a_minute(nodes: Nodes) -> None:
    beat(nodes.a)
    beat(nodes.b)
    waiting, came = phone_key("waiting"), phone_key("came")
    nodes.a.place(waiting, "phone", claimed=False)
    nodes.a.place(came, "phone", claimed=False)
    nodes.clock.advance(5)
    nodes.b.hold(came, "phone")  # its stream arrived
    nodes.a.place(web_key("w"), "webrtc")  # claimed at once
    for _ in range(int(UNCLAIMED_S) // 5 - 1):  # both nodes beat on: neither is dead
        nodes.clock.advance(5)
        beat(nodes.a)
        beat(nodes.b)
    assert nodes.clock.now - T0 == timedelta(seconds=UNCLAIMED_S)  # `waiting` is exactly a minute old
    assert set(rows(nodes.engine)) == {waiting, came, web_key("w")}
    nodes.clock.advance(1)
    assert nodes.a.reap() == []  # no node is dead
    assert set(rows(nodes.engine)) == {came, web_key("w")}


def test_goodbye_stops_the_node_and_frees_its_rows(nodes: Nodes) -> None:
    beat(nodes.a)
    beat(nodes.b)
    for i in range(4):
        nodes.a.place(web_key(str(i)), "webrtc")
    nodes.clock.advance(2)
    nodes.b.goodbye()
    assert per_node(nodes.engine) == {"a": 2}
    row = serve_node(nodes.engine, "b")
    assert row is not None and row.stopped and row.live_calls == 0
    assert row.heartbeat_at == T0 + timedelta(seconds=2)
    stopped = next(n for n in nodes.a.nodes() if n.name == "b")
    assert stopped.stopped

    placed = [nodes.a.place(web_key(f"n{i}"), "webrtc") for i in range(2)]
    assert [p.name if p else None for p in placed] == ["a", "a"]  # a stopped node takes no call
    nodes.clock.advance(100 * STALE_S)
    assert nodes.a.reap() == []  # gone, not dead
    assert per_node(nodes.engine) == {"a": 4}

    beat(nodes.b)  # started again
    row = serve_node(nodes.engine, "b")
    assert row is not None and not row.stopped
    picked = nodes.a.pick()
    assert picked is not None and picked.name == "b"


def test_goodbye_of_an_unregistered_node_frees_its_rows(nodes: Nodes) -> None:
    nodes.a.hold(web_key("t"), "webrtc")
    nodes.a.goodbye()
    assert rows(nodes.engine) == {} and serve_node(nodes.engine, "a") is None


def test_starting_frees_the_rows_of_its_previous_life(nodes: Nodes) -> None:
    beat(nodes.a)
    beat(nodes.b)
    for i in range(4):
        nodes.a.place(web_key(str(i)), "webrtc")
    again = nodes.node("b")  # b restarts under the same name
    assert again.starting() == 2
    assert per_node(nodes.engine) == {"a": 2}
    assert again.starting() == 0
    assert nodes.node("c").starting() == 0


def flow(nodes: Nodes) -> None:
    """Place, owner and reap, as on SQLite."""
    beat(nodes.a)
    beat(nodes.b)
    keys = [phone_key(f"t{i}") for i in range(6)]
    for key in keys:
        assert nodes.a.place(key, "phone", claimed=False) is not None
    assert per_node(nodes.engine) == {"a": 3, "b": 3}
    held = {key: row.node for key, row in rows(nodes.engine).items()}
    for key, name in held.items():
        owner = nodes.b.owner(key)
        assert owner is not None and owner.name == name
    nodes.clock.advance(3 * STALE_S - 1)
    beat(nodes.a)
    for key in (key for key in keys if held[key] == "a"):
        nodes.a.hold(key, "phone")  # a's streams came
    nodes.clock.advance(1)
    assert nodes.a.reap() == ["b"]
    assert per_node(nodes.engine) == {"a": 3}
    assert all(nodes.a.owner(key) is None for key in keys if held[key] == "b")
    placed = nodes.a.place(web_key("after"), "webrtc")
    assert placed is not None and placed.name == "a"


RIVAL_HEAD_START_S = 0.5
"""Seconds a placement waits, between reading the loads and writing its row, for a rival placement to go
through: without the lock the rival (a fresh, idle transaction) is done well within this; with it, never."""


def race_for_the_last_place(nodes: Nodes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two webhooks on node a at once, one place left: the second places while the first is deciding."""
    beat(nodes.a, max_live=1)
    results: dict[str, NodeLoad | None] = {}
    real_choose = cluster_module.choose
    rival = threading.Thread(target=lambda: results.update(rival=nodes.a.place(web_key("2"), "webrtc")))

    def choose_slowly(loads: Iterable[NodeLoad], now: datetime, stale_s: float, *,
                      prefer: str) -> NodeLoad | None:
        loads = list(loads)  # read inside the placement's transaction
        if rival.ident is None:  # the first placement (the rival's own choice comes here too)
            rival.start()
            rival.join(RIVAL_HEAD_START_S)
        return real_choose(loads, now, stale_s, prefer=prefer)

    monkeypatch.setattr(cluster_module, "choose", choose_slowly)
    results["first"] = nodes.a.place(web_key("1"), "webrtc")
    rival.join(10)
    assert not rival.is_alive()
    assert per_node(nodes.engine) == {"a": 1}  # never two calls on a node with room for one
    assert results.keys() == {"first", "rival"}
    assert results["first"] is not None and results["rival"] is None  # the rival waited, then found no room


def test_place_owner_and_reap_on_sqlite(nodes: Nodes) -> None:
    flow(nodes)


def test_two_placements_never_both_take_the_last_place(nodes: Nodes, monkeypatch: pytest.MonkeyPatch) -> None:
    race_for_the_last_place(nodes, monkeypatch)


@pytest.mark.postgres
def test_place_owner_and_reap_on_postgres(postgres_url: str,  # noqa: F811
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    migrate(postgres_url)
    engine = create_engine(postgres_url)
    try:
        flow(two_nodes(engine))
        with Session(engine) as session, session.begin():  # a database of one node again
            session.execute(delete(LiveCall))
            session.execute(delete(ServeNode))
        race_for_the_last_place(two_nodes(engine), monkeypatch)
    finally:
        engine.dispose()
