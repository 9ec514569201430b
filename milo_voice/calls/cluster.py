"""The nodes of one database and the node each live call is on: heartbeats, placement, ownership.

Every `serve` node writes its heartbeat (`serve_node`) every MILO_NODE_HEARTBEAT_S and keeps one
`live_call` row per call it holds, keyed by what later requests of that call carry (`web_key`, `phone_key`).
A node's load is its count of rows, so a placement is seen by every node at once (a heartbeat would lag).
`place` chooses a node for a new call (`calls/node_choice.py`) and writes its row in one transaction, so two
webhooks on one node never both take its last place. Rows of a node silent for 3 x MILO_NODE_STALE_S, and
phone places whose stream never came, are written off by `reap`, which every heartbeat runs. Blocking:
callers on the event loop use a thread.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from milo_voice.calls.node_choice import NodeLoad, choose, dead, silent_too_long
from milo_voice.store.repo import Clock, Repo
from milo_voice.store.tables import LiveCall, ServeNode, utc_now

log = logging.getLogger(__name__)

UNCLAIMED_S = 60.0
"""Seconds a phone call's place waits for its media stream before it is freed (the call never came)."""


ALONE, ROOM, FULL = "alone", "room", "full"
"""`Cluster.outlook` for a new call."""


def web_key(token: str) -> str:
    return f"web:{token}"


def phone_key(ticket: str) -> str:
    return "phone:" + hashlib.sha256(ticket.encode()).hexdigest()[:32]


class Cluster(Repo):
    """This node's view of all nodes: `me` is MILO_NODE_NAME."""

    def __init__(self, engine: Engine, *, me: str, stale_s: float, now: Clock = utc_now) -> None:
        super().__init__(engine, now=now)
        self.me, self.stale_s = me, stale_s

    # Heartbeats

    def heartbeat(self, *, url: str, stream_url: str, live: int, max_live: int, draining: bool) -> list[str]:
        """Say this node is up, with its room; then write off what dead nodes left (`reap`): their names."""
        now = self.now()
        with self.unit() as session:
            row = session.get(ServeNode, self.me)
            if row is None:
                row = ServeNode(name=self.me, url=url, stream_url=stream_url, started_at=now)
            row.url, row.stream_url, row.live_calls, row.max_live_calls = url, stream_url, live, max_live
            row.draining, row.heartbeat_at, row.stopped = draining, now, False
            session.add(row)
        return self.reap()

    def starting(self) -> int:
        """At start: this node holds no call yet; rows under its name are from its previous life."""
        with self.unit() as session:
            return int(session.execute(delete(LiveCall).where(col(LiveCall.node) == self.me)).rowcount or 0)

    def goodbye(self) -> None:
        """A clean stop: the node is not dead, it is gone; its rows go with it."""
        with self.unit() as session:
            row = session.get(ServeNode, self.me)
            if row is not None:
                row.stopped, row.live_calls, row.heartbeat_at = True, 0, self.now()
            session.execute(delete(LiveCall).where(col(LiveCall.node) == self.me))

    def reap(self) -> list[str]:
        """Free the places of dead nodes and of phone calls whose stream never came; the dead nodes' names."""
        now = self.now()
        with self.unit() as session:
            gone = [n.name for n in _loads(session) if n.name != self.me and dead(n, now, self.stale_s)]
            if gone:
                freed = session.execute(delete(LiveCall).where(col(LiveCall.node).in_(gone))).rowcount
                if freed:
                    log.warning("cluster.dead_node_calls_freed",
                                extra={"nodes": ",".join(gone), "calls": freed})
            session.execute(delete(LiveCall).where(col(LiveCall.claimed).is_(False))
                            .where(col(LiveCall.created_at) < now - timedelta(seconds=UNCLAIMED_S)))
        return gone

    # Placement and ownership

    def nodes(self) -> list[NodeLoad]:
        with self.unit() as session:
            return _loads(session)

    def gone(self, name: str) -> bool:
        """The node stopped cleanly or is dead (silent 3 x stale_s); False for a name never seen."""
        now = self.now()
        with self.unit() as session:
            row = session.get(ServeNode, name)
            if row is None:
                return False
            return row.stopped or silent_too_long(row.heartbeat_at, now, self.stale_s)

    def outlook(self) -> str:
        """For a new call, in one read: ALONE (this node is not registered yet: it decides by itself, as a
        lone node does), ROOM (some up node has room) or FULL (every node full or draining)."""
        loads = self.nodes()
        if not any(n.name == self.me for n in loads):
            return ALONE
        return ROOM if choose(loads, self.now(), self.stale_s, prefer=self.me) is not None else FULL

    def pick(self) -> NodeLoad | None:
        """The node a new call would go to now (nothing written); None when none has room or this node is
        not registered (then the caller decides alone, as a lone node does)."""
        loads = self.nodes()
        if not any(n.name == self.me for n in loads):
            return None
        return choose(loads, self.now(), self.stale_s, prefer=self.me)

    def place(self, key: str, channel: str, *, candidate_id: int | None = None,
              claimed: bool = True) -> NodeLoad | None:
        """Choose the node for a new call and hold its place (`claimed=False`: its stream is still to come);
        None when no node has room (or this node is not registered: the caller decides alone)."""
        now = self.now()
        with self.unit() as session:
            # One placement at a time: write first (SQLite's write lock, PostgreSQL's row locks), then count;
            # counting first lets two placements both see the same last place free.
            session.execute(update(ServeNode).values(live_calls=ServeNode.live_calls))
            loads = _loads(session)
            if not any(n.name == self.me for n in loads):
                return None
            chosen = choose(loads, now, self.stale_s, prefer=self.me)
            if chosen is not None:
                session.execute(delete(LiveCall).where(col(LiveCall.key) == key))
                session.add(LiveCall(key=key, node=chosen.name, channel=channel, candidate_id=candidate_id,
                                     created_at=now, claimed=claimed))
            return chosen

    def registered(self) -> bool:
        with self.unit() as session:
            return session.get(ServeNode, self.me) is not None

    def hold(self, key: str, channel: str, candidate_id: int | None = None) -> None:
        """This node holds the call `key` (its place chosen here, or a phone stream arriving)."""
        with self.unit() as session:
            row = session.get(LiveCall, key)
            if row is None:
                row = LiveCall(key=key, node=self.me, channel=channel, created_at=self.now())
            row.node, row.claimed = self.me, True
            row.candidate_id = candidate_id if candidate_id is not None else row.candidate_id
            session.add(row)

    def release(self, key: str) -> None:
        """The call `key` ended on this node (a row another node took over is left alone)."""
        with self.unit() as session:
            session.execute(delete(LiveCall).where(col(LiveCall.key) == key)
                            .where(col(LiveCall.node) == self.me))

    def owner(self, key: str) -> NodeLoad | None:
        """The node that holds the call `key`, if any node does (up or not: the caller looks)."""
        with self.unit() as session:
            row = session.get(LiveCall, key)
            if row is None:
                return None
            return next((n for n in _loads(session) if n.name == row.node), None)


def _loads(session: Session) -> list[NodeLoad]:
    counts = dict(session.execute(select(LiveCall.node, func.count()).group_by(col(LiveCall.node))).all())
    return [
        NodeLoad(name=n.name, url=n.url, stream_url=n.stream_url, live=int(counts.get(n.name, 0)),
                 max_live=n.max_live_calls, draining=n.draining, heartbeat_at=n.heartbeat_at,
                 stopped=n.stopped)
        for n in session.exec(select(ServeNode).order_by(col(ServeNode.name)))
    ]
