"""Which stranded hand-overs (rows left `sending`) this node may settle. Pure: the clock is passed in.

A row is `sending` from the moment a node commits its hand-over until the provider answers. On one
node, every such row found at start was left by the process before (it died mid-send). With several
nodes on one database, a row may also be in flight on another node right now: settling it would send
the message twice. So a node settles a row only when the node that began it (`handed_by`) cannot still
be sending it:

- at start: rows of its own name (its previous life) and rows from before migration 0015 (no name);
- at any time: rows of a node that is gone (stopped, or silent three times MILO_NODE_STALE_S);
- at any time: rows older than `LEASE`, whoever began them (no provider call lasts that long: SMS
  gives up after 10 s, SMTP after 30 s a step), which also covers a node whose name was never seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from milo_voice.store.tables import OutreachMessage

LEASE = timedelta(minutes=15)
"""After this long a hand-over is stranded whoever began it."""


@dataclass(frozen=True, slots=True)
class StrandedRule:
    me: str
    """This node's name (MILO_NODE_NAME)."""
    gone: Callable[[str], bool] = lambda name: False
    """Whether the named node is stopped or dead (its heartbeat); unknown names are not gone."""
    lease: timedelta = LEASE

    def at_start(self, message: OutreachMessage, now: datetime) -> bool:
        return message.handed_by in ("", self.me) or self.later(message, now)

    def later(self, message: OutreachMessage, now: datetime) -> bool:
        """While running: another node's row once that node is gone, or any row past the lease (a row of
        this node's own is never in flight between rounds, but one a failed write left may be)."""
        by = message.handed_by
        if by and by != self.me and self.gone(by):
            return True
        return message.handed_at is None or message.handed_at <= now - self.lease
