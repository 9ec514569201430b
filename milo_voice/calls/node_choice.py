"""Which node takes a new call: the pure decision, on the clock and the loads it is given.

A node is *up* while its last heartbeat is younger than `stale_s` and it has not said goodbye; it has
*room* while it is up, not draining, and holds fewer live calls than its `max_live`. A new call goes to
the up node with room that holds the fewest calls (ties: the node asking, so a lone node never forwards;
then by name, so every node decides alike). No I/O: `calls/cluster.py` reads the loads and writes the
choice; tests drive this on a fake clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class NodeLoad:
    """One node as the routing sees it: its heartbeat and the live calls the database gives it."""

    name: str
    url: str
    stream_url: str
    live: int
    max_live: int
    draining: bool
    heartbeat_at: datetime
    stopped: bool = False

    def up(self, now: datetime, stale_s: float) -> bool:
        return not self.stopped and (now - self.heartbeat_at).total_seconds() < stale_s

    def room(self, now: datetime, stale_s: float) -> bool:
        return self.up(now, stale_s) and not self.draining and self.live < self.max_live


def choose(nodes: Iterable[NodeLoad], now: datetime, stale_s: float, *, prefer: str) -> NodeLoad | None:
    """The node a new call goes to, or None when no node has room."""
    open_nodes = [node for node in nodes if node.room(now, stale_s)]
    if not open_nodes:
        return None
    return min(open_nodes, key=lambda node: (node.live, node.name != prefer, node.name))


def silent_too_long(heartbeat_at: datetime, now: datetime, stale_s: float) -> bool:
    """No heartbeat for three times `stale_s`."""
    return (now - heartbeat_at).total_seconds() >= 3 * stale_s


def dead(node: NodeLoad, now: datetime, stale_s: float) -> bool:
    """Silent too long (and not stopped cleanly): its live calls are written off."""
    return not node.stopped and silent_too_long(node.heartbeat_at, now, stale_s)
