"""The outreach worker: one background thread that settles interrupted hand-overs at start, then
plans and dispatches due messages every `tick` seconds (`MILO_OUTREACH_TICK`), settling on the way
what a node that died left in flight (`outreach.stranded`). Blocking work
(the database, SMTP, Twilio's REST API) stays off the server's event loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from milo_voice.outreach.dispatch import (
    Decide,
    Dispatched,
    Links,
    any_row,
    dispatch_due,
    plain_links,
    recover,
)
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.planner import OutreachConfig, plan
from milo_voice.outreach.stranded import StrandedRule
from milo_voice.outreach.types import Channel, ChannelName

log = logging.getLogger(__name__)

MAX_PASSES = 100
"""Passes per round (a pass takes up to `batch` due rows); the rest waits for the next round."""
COUNTS = ("sent", "deferred", "suppressed", "retried", "failed", "skipped")


@dataclass
class OutreachWorker:
    outbox: Outbox
    decide: Decide
    channels: Mapping[ChannelName, Channel]
    config: OutreachConfig
    tick: float = 5.0
    links: Links = plain_links
    batch: int = 200
    before_plan: Callable[[datetime], object] | None = None
    """Run at the start of every round (the SMS interview stage queues its texts here)."""
    stranded: StrandedRule | None = None
    """Which interrupted hand-overs this node settles (several nodes); None: every one, at start only."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _wake: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self, *, settle: bool = True) -> int:
        """Settle what a dead process left (unless the caller has), then run in the background; returns
        how many were settled."""
        settled = self.settle_at_start() if settle else 0
        self._thread = threading.Thread(target=self._run, name="outreach", daemon=True)
        self._thread.start()
        return settled

    def settle_at_start(self) -> int:
        """The hand-overs a dead process left that this node may settle now (`start` runs it first)."""
        rule = self.stranded
        return recover(self.outbox, self.channels, links=self.links,
                       orphaned=rule.at_start if rule else any_row)

    def wake(self) -> None:
        """Plan and dispatch now (a candidate was just added)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread (if it runs) and close the channels' connections."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for channel in self.channels.values():
            close = getattr(channel, "close", None)
            if callable(close):
                close()

    def run_once(self) -> Dispatched:
        """One round: plan what is due, then dispatch it, `batch` rows a pass, `MAX_PASSES` at most."""
        now = self.outbox.now()
        if self.before_plan is not None:
            self.before_plan(now)
        if self.stranded is not None:  # what a node that died since left in flight
            recover(self.outbox, self.channels, links=self.links, orphaned=self.stranded.later)
        plan(self.outbox, self.config, now)
        total = Dispatched()
        for _ in range(MAX_PASSES):
            if self._stop.is_set():
                break
            done = dispatch_due(self.outbox, self.decide, self.channels, now=now, limit=self.batch,
                                links=self.links)
            handled = 0
            for name in COUNTS:
                handled += getattr(done, name)
                setattr(total, name, getattr(total, name) + getattr(done, name))
            if handled < self.batch:
                break
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a bad round must not end the worker; the next one retries
                log.exception("outreach.round_failed")
            self._wake.wait(self.tick)
            self._wake.clear()
