"""FallbackPlanner: dead, failing or stalled LLMs over the wire, failures mid-move, and cancellation."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator

import pytest
from fakes.llm_server import FakeLlmServer, FakeReply, free_port, llama_server, stop_server
from helpers import ctx, run
from openai import AsyncOpenAI

from milo_voice.dialogue.fallback import FALLBACK_SOURCE, FallbackPlanner
from milo_voice.dialogue.llm_planner import LlmPlanner
from milo_voice.dialogue.planner import Line, MoveKind, OfflinePlanner, PlanContext, Planner, close_planner
from milo_voice.dialogue.script import GENERIC_FOLLOW_UPS, demo_script
from milo_voice.errors import EngineUnavailable

SCRIPT = demo_script()
NEXT_QUESTION = SCRIPT.questions[1].text


def offline_move(context: PlanContext) -> list[Line]:
    return [dataclasses.replace(line, source=FALLBACK_SOURCE) for line in OfflinePlanner().decide(context)]


class Recorder:
    """Collects `on_fallback` reasons."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def __call__(self, reason: str) -> None:
        self.reasons.append(reason)


def fallback(
    primary: Planner, reasons: Recorder, *, first: float = 0.5, total: float = 2.0
) -> FallbackPlanner:
    return FallbackPlanner(
        primary, OfflinePlanner(), first_timeout=first, total_timeout=total, on_fallback=reasons
    )


async def collect(planner: FallbackPlanner, context: PlanContext) -> list[Line]:
    try:
        return [line async for line in planner.plan(context)]
    finally:
        await planner.aclose()


# --- over the wire, against the scripted fake ---


@pytest.fixture
def fake() -> Iterator[FakeLlmServer]:
    with FakeLlmServer() as server:
        yield server


def test_a_healthy_llm_passes_through_untouched(fake: FakeLlmServer) -> None:
    fake.reply = FakeReply("FOLLOWUP: Which part of retail did you enjoy most?")
    reasons = Recorder()
    planner = fallback(LlmPlanner(base_url=fake.base_url, model="fake"), reasons)
    lines = run(lambda: collect(planner, ctx(0)))
    assert lines == [Line("Which part of retail did you enjoy most?", MoveKind.FOLLOW_UP, 0, "llm", True)]
    assert reasons.reasons == []


@pytest.mark.parametrize(
    "reply",
    [
        FakeReply(status=500),
        FakeReply(hang=True),
        FakeReply("NEXT: Thanks.", first_delay=30.0),
        FakeReply(status=503),
    ],
    ids=["http-500", "hang", "slow-first-token", "http-503"],
)
def test_a_failing_llm_yields_the_offline_move(fake: FakeLlmServer, reply: FakeReply) -> None:
    fake.reply = reply
    reasons = Recorder()
    planner = fallback(LlmPlanner(base_url=fake.base_url, model="fake"), reasons, first=0.5)
    context = ctx(0, "Retail.")
    assert run(lambda: collect(planner, context)) == offline_move(context)
    assert len(reasons.reasons) == 1
    assert fake.event_names()[0] == "request"


def test_a_hung_request_is_abandoned_and_its_connection_closed(fake: FakeLlmServer) -> None:
    fake.reply = FakeReply(hang=True)
    reasons = Recorder()
    planner = fallback(LlmPlanner(base_url=fake.base_url, model="fake"), reasons, first=0.3)
    run(lambda: collect(planner, ctx(0)))
    assert "within 0.30 s" in reasons.reasons[0]
    assert fake.wait_event("disconnected")


def test_closing_the_planner_closes_the_llm_client_and_is_a_no_op_for_the_offline_one(
    fake: FakeLlmServer,
) -> None:
    client = AsyncOpenAI(base_url=fake.base_url, api_key="none", max_retries=0)
    planner = fallback(LlmPlanner(base_url=fake.base_url, model="fake", client=client), Recorder())

    async def plan_then_close() -> list[Line]:
        lines = [line async for line in planner.plan(ctx(0))]
        assert not client.is_closed(), "the pool must stay open between moves of one session"
        await close_planner(planner)
        await close_planner(OfflinePlanner())  # nothing to release
        return lines

    assert run(plan_then_close)
    assert client.is_closed()


def test_connection_refused_yields_the_offline_move() -> None:
    reasons = Recorder()
    dead = LlmPlanner(base_url=f"http://127.0.0.1:{free_port()}/v1", model="fake")
    context = ctx(1, "I fixed a router.")
    assert run(lambda: collect(fallback(dead, reasons), context)) == offline_move(context)
    assert "APIConnectionError" in reasons.reasons[0]


def test_a_follow_up_that_stalls_before_asking_ends_on_the_generic_question(fake: FakeLlmServer) -> None:
    fake.reply = FakeReply(
        "FOLLOWUP: That sounds like a busy job. What did you sell?", pause_after="job. ", pause=float("inf")
    )
    reasons = Recorder()
    planner = fallback(LlmPlanner(base_url=fake.base_url, model="fake"), reasons, first=0.5, total=1.0)
    lines = run(lambda: collect(planner, ctx(0)))
    assert [(line.text, line.source, line.is_prompt) for line in lines] == [
        ("That sounds like a busy job.", "llm", False),
        (GENERIC_FOLLOW_UPS[0], FALLBACK_SOURCE, True),
    ]
    assert "next line" in reasons.reasons[0]
    assert fake.wait_event("disconnected")


# --- failures mid-move, with a scripted primary ---


def test_a_follow_up_that_fails_after_asking_just_stops() -> None:
    asked = Line("What did you sell?", MoveKind.FOLLOW_UP, 0, "llm", is_prompt=True)
    primary = ScriptedPlanner([asked], error=EngineUnavailable("gone"))
    assert run(lambda: collect(fallback(primary, Recorder()), ctx(0))) == [asked]


class ScriptedPlanner:
    """A primary that says `lines`, then fails with `error` or stalls forever; records being closed."""

    name = "scripted"

    def __init__(self, lines: list[Line], *, error: Exception | None = None, stall: bool = False) -> None:
        self.lines = lines
        self.error = error
        self.stall = stall
        self.closed = False

    async def plan(self, ctx: PlanContext) -> AsyncIterator[Line]:
        try:
            for line in self.lines:
                yield line
            if self.error is not None:
                raise self.error
            if self.stall:
                await asyncio.Event().wait()
        finally:
            self.closed = True


ACK = Line("Thanks for that.", MoveKind.NEXT_QUESTION, 1, "llm")
QUESTION = Line(NEXT_QUESTION, MoveKind.NEXT_QUESTION, 1, "llm", is_prompt=True)


def test_a_transition_that_fails_after_its_acknowledgement_still_asks_the_next_question() -> None:
    reasons = Recorder()
    primary = ScriptedPlanner([ACK], error=EngineUnavailable("stream broke"))
    lines = run(lambda: collect(fallback(primary, reasons), ctx(0)))
    assert lines == [ACK, dataclasses.replace(QUESTION, source=FALLBACK_SOURCE)]
    assert reasons.reasons == ["stream broke"]


def test_a_transition_that_stalls_after_the_question_does_not_repeat_it() -> None:
    reasons = Recorder()
    primary = ScriptedPlanner([ACK, QUESTION], stall=True)
    lines = run(lambda: collect(fallback(primary, reasons, total=0.5), ctx(0)))
    assert lines == [ACK, QUESTION]
    assert primary.closed
    assert len(reasons.reasons) == 1


def test_a_closing_that_fails_midway_still_says_the_closing_once() -> None:
    ack = Line("Thank you.", MoveKind.CLOSE, 3, "llm")
    primary = ScriptedPlanner([ack], error=EngineUnavailable("gone"))
    lines = run(lambda: collect(fallback(primary, Recorder()), ctx(2, follow_ups_asked=1)))
    assert [line.text for line in lines] == ["Thank you.", SCRIPT.closing]


def test_a_primary_that_plans_nothing_is_replaced_by_the_offline_move() -> None:
    reasons = Recorder()
    context = ctx(0, "")
    assert run(lambda: collect(fallback(ScriptedPlanner([]), reasons), context)) == offline_move(context)
    assert reasons.reasons == ["scripted planned nothing"]


def test_bugs_in_the_primary_are_not_hidden() -> None:
    primary = ScriptedPlanner([], error=KeyError("bug"))
    with pytest.raises(KeyError):
        run(lambda: collect(fallback(primary, Recorder()), ctx(0)))


def test_the_time_spent_by_the_consumer_between_lines_is_not_charged_to_the_primary() -> None:
    primary = ScriptedPlanner([ACK, QUESTION])

    async def slow_consumer() -> list[Line]:
        lines = []
        async for line in fallback(primary, Recorder(), first=0.2, total=0.3).plan(ctx(0)):
            lines.append(line)
            await asyncio.sleep(0.4)  # speaking the line
        return lines

    assert run(slow_consumer) == [ACK, QUESTION]


def test_cancellation_propagates_and_closes_the_primary() -> None:
    primary = ScriptedPlanner([ACK], stall=True)
    reasons = Recorder()

    async def body() -> None:
        said = asyncio.Event()

        async def consume() -> None:
            async for _ in fallback(primary, reasons, first=5.0, total=5.0).plan(ctx(0)):
                said.set()

        task = asyncio.create_task(consume())
        await said.wait()
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(body)
    assert primary.closed
    assert reasons.reasons == []


def test_timeouts_are_validated() -> None:
    with pytest.raises(ValueError, match="first_timeout=2"):
        FallbackPlanner(ScriptedPlanner([]), OfflinePlanner(), first_timeout=2.0, total_timeout=1.0)


# --- a real llama.cpp server that dies ---


@pytest.mark.llm
def test_after_the_llama_server_is_stopped_the_offline_move_is_said() -> None:
    reasons = Recorder()
    context = ctx(1, "I helped a customer fix their router over the phone.", follow_ups_asked=1)
    with llama_server() as (base_url, proc):
        planner = fallback(LlmPlanner(base_url=base_url, model="smollm2"), reasons, first=60.0, total=60.0)

        async def before_and_after() -> tuple[list[Line], list[Line]]:
            alive = [line async for line in planner.plan(context)]
            stop_server(proc)
            dead = await collect(planner, context)
            return alive, dead

        alive, dead = run(before_and_after, timeout=90.0)
    assert {line.source for line in alive} == {"llm"}
    assert alive[-1].text == SCRIPT.questions[2].text
    assert dead == offline_move(context)
    assert len(reasons.reasons) == 1
    assert "APIConnectionError" in reasons.reasons[0]
