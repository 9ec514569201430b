"""The order in which live decodes of all calls get the ASR workers, when there are more than workers.

A candidate whose turn has ended waits for their last live decode before the reply can start; a
candidate in a pause needs theirs before the wait at that pause runs out; one who is speaking again
needs it only at their next pause. First come, first served lets a burst of mid-answer decodes
(many calls pausing at once) hold up the decodes someone is waiting for. `LiveQueue` is a
semaphore of `slots` (the live decodes the engine runs at once) whose waiters are served by
`Urgency` first, then in order of arrival. A waiter's urgency is asked again each time a slot
frees, so a candidate who stops speaking moves up while they wait.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import IntEnum


class Urgency(IntEnum):
    """Lower is served first."""

    WAITED_FOR = 0
    """The turn has ended: the reply waits for this decode."""
    IN_PAUSE = 1
    """The candidate is silent: the wait at this pause may end before the text is there."""
    SPEAKING = 2
    """The candidate speaks again: the text is needed at the next pause at the earliest."""


@dataclass(eq=False)
class _Waiter:
    seq: int
    urgency: Callable[[], Urgency]
    granted: asyncio.Future[None] = field(repr=False)


class LiveQueue:
    """At most `slots` holders at once; waiters served by (urgency now, arrival)."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"a live queue needs at least one slot, not {slots}")
        self.slots = slots
        self.busy = 0
        self._waiting: list[_Waiter] = []
        self._seq = itertools.count()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @asynccontextmanager
    async def turn(self, urgency: Callable[[], Urgency]) -> AsyncIterator[None]:
        """Hold one slot for the body; wait for it first if every slot is busy."""
        await self._acquire(urgency)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgency: Callable[[], Urgency]) -> None:
        if self.busy < self.slots and not self._waiting:
            self.busy += 1
            return
        waiter = _Waiter(next(self._seq), urgency, asyncio.get_running_loop().create_future())
        self._waiting.append(waiter)
        try:
            await waiter.granted
        except asyncio.CancelledError:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            elif waiter.granted.done() and not waiter.granted.cancelled():
                self._release()  # granted in the same tick as the cancel: hand the slot on
            raise

    def _release(self) -> None:
        self.busy -= 1
        while self._waiting and self.busy < self.slots:
            best = min(self._waiting, key=lambda w: (w.urgency(), w.seq))
            self._waiting.remove(best)
            if best.granted.done():  # cancelled while waiting; its task removes nothing more
                continue
            self.busy += 1
            best.granted.set_result(None)
