"""Small helpers shared by tests: run a coroutine on a bounded debug loop, build plan contexts."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from milo_voice.dialogue.planner import PlanContext
from milo_voice.dialogue.script import InterviewScript, demo_script
from milo_voice.workspace.interviews import Interviews

if TYPE_CHECKING:
    from milo_voice.calls.session_store import SessionStore
    from milo_voice.calls.simulate import SimulationResult

T = TypeVar("T")
DEMO = demo_script()


def words(text: str) -> str:
    """Lower-case words without punctuation, for word error rates against reference transcripts."""
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower()).split())


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


def simulated_interview(
    tmp: Path, script: InterviewScript, answer_ids: list[str], *, slug: str
) -> tuple[SimulationResult, SessionStore]:
    """One `simulate` run of `script` with these answers from shared/data/speech, on a fresh
    SQLite file under `tmp`, with the shipped defaults and the real models."""
    from conftest import REPO, SPEECH

    from milo_voice.calls.engines import load_runtime
    from milo_voice.calls.session_store import SessionStore
    from milo_voice.calls.simulate import load_answers, simulate
    from milo_voice.settings import Settings
    from milo_voice.store.db import create_engine, migrate

    url = f"sqlite:///{tmp / 'milo.db'}"
    migrate(url)
    store = SessionStore(create_engine(url))
    interview_id = Interviews(store.engine).add_script(script, slug=slug)
    settings = Settings(database_url=url, recordings_dir=tmp / "rec", models_dir=REPO / "models")
    runtime = load_runtime(settings)
    answers = load_answers([SPEECH / "answers" / f"{a}.wav" for a in answer_ids], SPEECH / "manifest.jsonl")
    try:
        return asyncio.run(simulate(settings, runtime, store, answers, interview_id=interview_id)), store
    finally:
        runtime.close()


T0 = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass(slots=True)
class UtcClock:
    """A UTC "now" that moves only when the test moves it (pass `lambda: clock.now` as a repo's clock)."""

    now: datetime = T0

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
