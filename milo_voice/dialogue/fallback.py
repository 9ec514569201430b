"""Fallback planner: streams a primary planner's move, and says the offline move when it fails or stalls.

The candidate never waits in silence for a dead LLM: no first line within `first_timeout`, or an
`EngineUnavailable`, and the offline planner's whole move is said instead; a failure mid-move
finishes the move so that the scripted next question or closing is still said exactly once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable

from milo_voice.dialogue.planner import (
    Line,
    MoveKind,
    OfflinePlanner,
    PlanContext,
    Planner,
    close_planner,
    transition_lines,
)
from milo_voice.dialogue.script import GENERIC_FOLLOW_UPS
from milo_voice.errors import EngineUnavailable

log = logging.getLogger(__name__)

FALLBACK_SOURCE = "offline-fallback"
"""`Line.source` of every line this planner says in place of the primary's."""


class FallbackPlanner:
    """`primary` within deadlines, else `backup`.

    `first_timeout` bounds the wait for the primary's first line. `total_timeout` bounds the time
    spent waiting on the primary for the whole move (time the consumer spends between lines, e.g.
    speaking them, is not counted). Only `EngineUnavailable` and the deadlines trigger the fallback;
    any other exception is a bug and propagates. `on_fallback(reason)` is called once per fallback.
    """

    name = "fallback"

    def __init__(
        self,
        primary: Planner,
        backup: OfflinePlanner,
        *,
        first_timeout: float,
        total_timeout: float,
        on_fallback: Callable[[str], None] | None = None,
    ) -> None:
        if not 0 < first_timeout <= total_timeout:
            raise ValueError(
                f"first_timeout={first_timeout}, total_timeout={total_timeout}: expected 0 < first <= total"
            )
        self.primary = primary
        self.backup = backup
        self.first_timeout = first_timeout
        self.total_timeout = total_timeout
        self.on_fallback = on_fallback

    async def aclose(self) -> None:
        """Close the primary's resources (its HTTP connection pool), if it holds any."""
        await close_planner(self.primary)

    async def plan(self, ctx: PlanContext) -> AsyncIterator[Line]:
        loop = asyncio.get_running_loop()
        said: list[Line] = []
        waited = 0.0
        reason = ""
        lines = self.primary.plan(ctx)
        try:
            while True:
                budget = self.total_timeout - waited
                if not said:
                    budget = min(budget, self.first_timeout)
                started = loop.time()
                try:
                    async with asyncio.timeout(budget):
                        line = await anext(lines)
                except StopAsyncIteration:
                    reason = "" if said else f"{self.primary.name} planned nothing"
                    break
                except TimeoutError:
                    what = "its next line" if said else "a first line"
                    reason = f"{self.primary.name} gave no {what} within {budget:.2f} s"
                    break
                except EngineUnavailable as exc:
                    reason = str(exc)
                    break
                finally:
                    waited += loop.time() - started
                said.append(line)
                yield line
        finally:
            if isinstance(lines, AsyncGenerator):
                await lines.aclose()
        if not reason:
            return
        rescue = self.rescue(ctx, said)
        log.warning("plan.fallback", extra={"reason": reason, "lines_said": len(said), "rescue": len(rescue)})
        if self.on_fallback is not None:
            self.on_fallback(reason)
        for line in rescue:
            yield line

    def rescue(self, ctx: PlanContext, said: list[Line]) -> list[Line]:
        """What to say after the primary failed, having already said `said` (pure).

        Nothing said: the backup's whole move. A follow-up begun: nothing more, or the generic
        "tell me more" question if nothing asked yet. A transition begun: the scripted next question
        or closing, unless it was already said.
        """
        if not said:
            return [dataclasses.replace(line, source=FALLBACK_SOURCE) for line in self.backup.decide(ctx)]
        if said[0].kind is MoveKind.FOLLOW_UP:
            if any(line.is_prompt for line in said):
                return []
            return [
                Line(GENERIC_FOLLOW_UPS[0], MoveKind.FOLLOW_UP, ctx.question_index, FALLBACK_SOURCE, True)
            ]
        scripted = transition_lines(ctx, "", FALLBACK_SOURCE)
        if any(line.text == scripted[-1].text for line in said):
            return []
        return scripted
