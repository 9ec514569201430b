"""Small helpers shared by tests: run a coroutine on a bounded debug loop, build plan contexts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from milo_voice.dialogue.planner import PlanContext
from milo_voice.dialogue.script import InterviewScript, demo_script

T = TypeVar("T")
DEMO = demo_script()


def run(make: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
    """Run one test body on a fresh debug loop, bounded by `timeout` seconds."""

    async def main() -> T:
        asyncio.get_running_loop().slow_callback_duration = 0.05
        async with asyncio.timeout(timeout):
            return await make()

    return asyncio.run(main(), debug=True)


def ctx(
    question_index: int = 0,
    answer: str = "I worked in retail.",
    follow_ups_asked: int = 0,
    script: InterviewScript = DEMO,
) -> PlanContext:
    prompt = script.questions[question_index].text
    return PlanContext(script, question_index, follow_ups_asked, answer, prompt_text=prompt)
