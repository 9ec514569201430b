"""Whether this node takes a new call: its live calls against `MILO_MAX_LIVE_CALLS`, and the drain.

`Drain` is the pure, clock-driven decision of a node that was told to stop (SIGTERM): from the
moment it begins, no new call is taken; it is done when no call is left or its deadline
(`MILO_DRAIN_TIMEOUT_S`) has passed. `Capacity` counts the live calls of every channel (and the
`milo_live_calls` gauge with them) and answers `refusal()`: None while a new call is welcome, else
the reason (full, draining) that `/readyz`, the WebRTC offer and the phone webhook give. A call
already live is never refused or cut by either: a reconnect of a live browser call goes on. Knows
nothing of HTTP or of signals (`web/server.py` wires SIGTERM to `Drain.begin`).
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from milo_voice import observability as metrics

log = logging.getLogger(__name__)

FULL = "full"
DRAINING = "draining"
EVERY_NODE_BUSY = "every_node_busy"
"""Several nodes: none has room (each full or draining)."""


def count_refusal(channel: str, reason: str, **detail: object) -> None:
    """A new call refused: counted in `milo_calls_refused_total{channel,reason}` and logged."""
    metrics.CALLS_REFUSED.labels(channel, reason).inc()
    log.warning("capacity.call_refused", extra={"channel": channel, "reason": reason, **detail})


RETRY_AFTER_S = 30
"""Seconds a refused client is told to wait before trying again (Retry-After)."""


class DrainState(enum.Enum):
    SERVING = "serving"
    DRAINING = "draining"
    DONE = "done"


@dataclass(slots=True)
class Drain:
    """A node's drain, decided on the clock it is given (seconds, monotonic). Pure: no I/O, no waits."""

    timeout_s: float
    state: DrainState = DrainState.SERVING
    began: float | None = None
    deadline: float | None = None
    ended_because: str = ""
    """Why the drain is done: `no live calls` or `deadline` (calls still live are then ended)."""

    def begin(self, now: float) -> bool:
        """Stop taking new calls from `now`; False if the drain had already begun."""
        if self.state is not DrainState.SERVING:
            return False
        self.state, self.began, self.deadline = DrainState.DRAINING, now, now + self.timeout_s
        return True

    def may_accept(self) -> bool:
        return self.state is DrainState.SERVING

    def done(self, now: float, live: int) -> bool:
        """True once the drain is over: no call left, or the deadline passed. Never while serving."""
        if self.state is DrainState.DONE:
            return True
        if self.state is DrainState.SERVING or self.deadline is None:
            return False
        if live <= 0:
            self.state, self.ended_because = DrainState.DONE, "no live calls"
        elif now >= self.deadline:
            self.state, self.ended_because = DrainState.DONE, "deadline"
        return self.state is DrainState.DONE

    def remaining(self, now: float) -> float:
        return max(0.0, self.deadline - now) if self.deadline is not None else self.timeout_s


Closer = Callable[[], Awaitable[None]]
"""Ends one live call as its hang-up would (the session stores its end and finalises its recording)."""


@dataclass(slots=True)
class Capacity:
    """The live calls of this process, by channel, and whether another may start."""

    max_live: int
    drain: Drain
    live: dict[str, int] = field(default_factory=lambda: dict.fromkeys(metrics.CHANNELS, 0))
    entries: dict[Hashable, tuple[str, Closer | None]] = field(default_factory=dict)
    """Each live call's channel and what ends it, by key."""
    _keys: Iterator[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        metrics.MAX_LIVE_CALLS.set(self.max_live)
        metrics.DRAINING.set(0)

    @property
    def total(self) -> int:
        return sum(self.live.values())

    def refusal(self) -> str | None:
        """None when a new call is welcome; else `draining` or `full`."""
        if not self.drain.may_accept():
            return DRAINING
        if self.total >= self.max_live:
            return FULL
        return None

    def refuse(self, channel: str) -> str | None:
        """`refusal()`, counted in `milo_calls_refused_total` and logged when it is one."""
        reason = self.refusal()
        if reason is not None:
            count_refusal(channel, reason, live=self.total, max_live=self.max_live)
        return reason

    def begin_drain(self, now: float) -> bool:
        began = self.drain.begin(now)
        if began:
            metrics.DRAINING.set(1)
        return began

    def enter(self, channel: str, closer: Closer | None = None, *, key: Hashable | None = None) -> Hashable:
        """Count a call live from now, until `leave(key)`; returns the key (a fresh one if none is given)."""
        key = key if key is not None else ("call", next(self._keys))
        if key in self.entries:
            return key
        self.entries[key] = (channel, closer)
        self.live[channel] = self.live.get(channel, 0) + 1
        metrics.LIVE_CALLS.labels(channel).inc()
        return key

    def leave(self, key: Hashable) -> None:
        """The call `key` ended (again: nothing)."""
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.live[entry[0]] -= 1
            metrics.LIVE_CALLS.labels(entry[0]).dec()

    @contextmanager
    def holding(self, channel: str, closer: Closer | None = None) -> Iterator[None]:
        key = self.enter(channel, closer)
        try:
            yield
        finally:
            self.leave(key)

    async def end_all(self) -> int:
        """End every live call that can be ended (the drain's deadline); how many were asked to end."""
        closers = [closer for _, closer in self.entries.values() if closer is not None]
        results = await asyncio.gather(*(close() for close in closers), return_exceptions=True)
        for failed in (r for r in results if isinstance(r, BaseException)):
            log.warning("capacity.end_failed", extra={"error": repr(failed)})
        return len(closers)
