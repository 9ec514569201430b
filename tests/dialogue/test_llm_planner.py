"""LlmPlanner: the reply parser alone, then the real `openai` client over loopback to a fake and llama.cpp."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from fakes.llm_server import FakeLlmServer, FakeReply, free_port, llama_server
from helpers import ctx, run

from milo_voice.dialogue.llm_planner import LlmPlanner, ReplyForm, ReplyParser, build_messages
from milo_voice.dialogue.planner import Line, MoveKind, PlanContext
from milo_voice.dialogue.script import GENERIC_FOLLOW_UPS, demo_script
from milo_voice.errors import EngineUnavailable

SCRIPT = demo_script()


def parse(text: str, *, follow_up_allowed: bool = True, step: int = 1) -> tuple[ReplyForm, list[str]]:
    """Feed `text` in `step`-character deltas, as a stream would."""
    parser = ReplyParser(follow_up_allowed=follow_up_allowed)
    sentences: list[str] = []
    for i in range(0, len(text), step):
        sentences += parser.feed(text[i : i + step])
    sentences += parser.finish()
    return parser.form, sentences


# --- the parser (pure) ---


def test_a_follow_up_is_cut_at_its_question_mark() -> None:
    text = "FOLLOWUP: That sounds like a hard week. What did you change afterwards? NEXT: Thanks."
    assert parse(text) == (
        ReplyForm.FOLLOW_UP,
        ["That sounds like a hard week.", "What did you change afterwards?"],
    )


def test_the_question_mark_ends_a_follow_up_without_waiting_for_more_text() -> None:
    parser = ReplyParser(follow_up_allowed=True)
    assert parser.feed("FOLLOWUP: What did you do next?") == ["What did you do next?"]
    assert parser.done


def test_the_form_is_known_from_the_tag_before_any_sentence() -> None:
    parser = ReplyParser(follow_up_allowed=True)
    assert (parser.feed("NE"), parser.form) == ([], ReplyForm.UNDECIDED)
    assert (parser.feed("XT: Thanks"), parser.form) == ([], ReplyForm.NEXT)


def test_markup_quotes_and_spelling_variants_of_the_tag_are_tolerated() -> None:
    assert parse('**Follow-up:** "How did the customer react?"', step=3) == (
        ReplyForm.FOLLOW_UP,
        ["How did the customer react?"],
    )
    assert parse("  next: <b>Thanks</b> for *sharing* that.\n") == (
        ReplyForm.NEXT,
        ["Thanks for sharing that."],
    )


def test_an_acknowledgement_is_one_sentence_and_never_a_question() -> None:
    assert parse("NEXT: Thanks, that helps. Now, why do you want this job?") == (
        ReplyForm.NEXT,
        ["Thanks, that helps."],
    )
    assert parse("NEXT: Why do you want this job?") == (ReplyForm.NEXT, [])


def test_abbreviations_do_not_split_a_sentence() -> None:
    assert parse("FOLLOWUP: Did you ask Dr. Smith, e.g. by email?")[1] == [
        "Did you ask Dr. Smith, e.g. by email?"
    ]


def test_untagged_output_is_invalid_as_soon_as_it_cannot_become_a_tag() -> None:
    parser = ReplyParser(follow_up_allowed=True)
    assert parser.feed("Sure! Here") == []
    assert parser.form is ReplyForm.INVALID
    assert parser.done
    assert parse("NEXT QUESTION: Why?") == (ReplyForm.INVALID, [])
    assert parse("") == (ReplyForm.INVALID, [])


def test_a_follow_up_when_none_are_left_is_invalid() -> None:
    assert parse("FOLLOWUP: And then?", follow_up_allowed=False) == (ReplyForm.INVALID, [])


def test_a_rambling_sentence_past_the_word_cap_is_dropped() -> None:
    ramble = " ".join(["very"] * 45)
    assert parse(f"FOLLOWUP: Could you say {ramble} much more?") == (ReplyForm.FOLLOW_UP, [])
    assert parse(f"FOLLOWUP: Interesting. Could you say {ramble} much more?")[1] == ["Interesting."]


def test_the_prompt_offers_only_next_when_no_follow_ups_are_left() -> None:
    with_left = build_messages(ctx(0, "Retail.", follow_ups_asked=0))[-1]["content"]
    none_left = build_messages(ctx(1, "It worked.", follow_ups_asked=1))[-1]["content"]
    assert isinstance(with_left, str) and isinstance(none_left, str)
    assert "FOLLOWUP:" in with_left and "NEXT:" in with_left
    assert "FOLLOWUP:" not in none_left and "NEXT:" in none_left
    assert '"It worked."' in none_left
    assert SCRIPT.questions[1].text in none_left


# --- over the wire, against the scripted fake ---


@pytest.fixture
def fake() -> Iterator[FakeLlmServer]:
    with FakeLlmServer() as server:
        yield server


async def collect(planner: LlmPlanner, context: PlanContext) -> list[tuple[Line, float]]:
    """Every line with the `time.monotonic()` it arrived at; closes the planner."""
    try:
        return [(line, time.monotonic()) async for line in planner.plan(context)]
    finally:
        await planner.aclose()


def test_a_follow_up_streams_its_first_sentence_before_the_rest_is_written(fake: FakeLlmServer) -> None:
    fake.reply = FakeReply(
        "FOLLOWUP: That sounds like a tough week. What did you change afterwards?",
        pause_after="week. ",
        pause=1.0,
    )
    first_token: list[float] = []
    planner = LlmPlanner(
        base_url=fake.base_url, model="fake", on_first_token=lambda: first_token.append(time.monotonic())
    )
    got = run(lambda: collect(planner, ctx(0)))
    lines = [line for line, _ in got]
    assert [line.text for line in lines] == [
        "That sounds like a tough week.",
        "What did you change afterwards?",
    ]
    assert {(line.kind, line.question_index, line.source) for line in lines} == {
        (MoveKind.FOLLOW_UP, 0, "llm")
    }
    assert [line.is_prompt for line in lines] == [False, True]
    first_at, second_at = got[0][1], got[1][1]
    resumed = fake.event_time("resumed")
    assert first_token[0] <= first_at < resumed < second_at
    assert len(first_token) == 1


def test_next_acknowledges_then_asks_the_exact_next_question(fake: FakeLlmServer) -> None:
    fake.reply = FakeReply("NEXT: Thanks, retail is great experience. Next, tell me about a time you shone.")
    planner = LlmPlanner(base_url=fake.base_url, model="fake-model")
    lines = [line for line, _ in run(lambda: collect(planner, ctx(0, follow_ups_asked=1)))]
    assert lines == [
        Line("Thanks, retail is great experience.", MoveKind.NEXT_QUESTION, 1, "llm"),
        Line(SCRIPT.questions[1].text, MoveKind.NEXT_QUESTION, 1, "llm", is_prompt=True),
    ]
    (request,) = fake.requests
    assert request["model"] == "fake-model"
    assert request["stream"] is True


def test_next_after_the_last_question_closes(fake: FakeLlmServer) -> None:
    fake.reply = FakeReply("NEXT: Thank you for sharing that.")
    planner = LlmPlanner(base_url=fake.base_url, model="fake")
    lines = [line for line, _ in run(lambda: collect(planner, ctx(2, follow_ups_asked=1)))]
    assert [(line.text, line.kind) for line in lines] == [
        ("Thank you for sharing that.", MoveKind.CLOSE),
        (SCRIPT.closing, MoveKind.CLOSE),
    ]


def test_a_follow_up_that_asks_nothing_ends_on_the_generic_question(fake: FakeLlmServer) -> None:
    fake.reply = FakeReply("FOLLOWUP: Retail teaches patience.")
    planner = LlmPlanner(base_url=fake.base_url, model="fake")
    lines = [line for line, _ in run(lambda: collect(planner, ctx(0)))]
    assert lines == [
        Line("Retail teaches patience.", MoveKind.FOLLOW_UP, 0, "llm"),
        Line(GENERIC_FOLLOW_UPS[0], MoveKind.FOLLOW_UP, 0, "llm", is_prompt=True),
    ]


def test_unparseable_output_becomes_the_bare_scripted_transition(fake: FakeLlmServer) -> None:
    fake.reply = FakeReply("As an AI language model, I think the candidate did well.")
    planner = LlmPlanner(base_url=fake.base_url, model="fake")
    lines = [line for line, _ in run(lambda: collect(planner, ctx(0)))]
    assert lines == [Line(SCRIPT.questions[1].text, MoveKind.NEXT_QUESTION, 1, "llm", is_prompt=True)]


def test_a_follow_up_when_none_are_left_is_replaced_by_the_next_question(fake: FakeLlmServer) -> None:
    fake.reply = FakeReply("FOLLOWUP: And what happened after that?")
    planner = LlmPlanner(base_url=fake.base_url, model="fake")
    lines = [line for line, _ in run(lambda: collect(planner, ctx(1, "It worked.", follow_ups_asked=1)))]
    assert [line.text for line in lines] == [SCRIPT.questions[2].text]


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (429, True), (401, False)])
def test_http_errors_raise_engine_unavailable(fake: FakeLlmServer, status: int, retryable: bool) -> None:
    fake.reply = FakeReply("NEXT: Thanks.", status=status)
    planner = LlmPlanner(base_url=fake.base_url, model="fake")
    with pytest.raises(EngineUnavailable, match=f"HTTP {status}") as caught:
        run(lambda: collect(planner, ctx(0)))
    assert caught.value.retryable is retryable


def test_connection_refused_raises_retryable_engine_unavailable() -> None:
    planner = LlmPlanner(base_url=f"http://127.0.0.1:{free_port()}/v1", model="fake")
    with pytest.raises(EngineUnavailable, match="APIConnectionError") as caught:
        run(lambda: collect(planner, ctx(0)))
    assert caught.value.retryable


def test_a_stalled_stream_times_out_as_engine_unavailable(fake: FakeLlmServer) -> None:
    fake.reply = FakeReply("NEXT: Thanks.", first_delay=30.0)
    planner = LlmPlanner(base_url=fake.base_url, model="fake", timeout=0.3)
    with pytest.raises(EngineUnavailable, match="APITimeoutError") as caught:
        run(lambda: collect(planner, ctx(0)))
    assert caught.value.retryable


def test_cancelling_the_plan_closes_the_connection(fake: FakeLlmServer) -> None:
    fake.reply = FakeReply("FOLLOWUP: That sounds hard. What next?", pause_after="hard. ", pause=float("inf"))
    planner = LlmPlanner(base_url=fake.base_url, model="fake")

    async def body() -> list[Line]:
        said: list[Line] = []

        async def consume() -> None:
            async for line in planner.plan(ctx(0)):
                said.append(line)

        task = asyncio.create_task(consume())
        assert await asyncio.to_thread(fake.wait_event, "first_token")
        for _ in range(500):  # let the first sentence reach the consumer (bounded: 10 s)
            if said:
                break
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(fake.wait_event, "disconnected")
        await planner.aclose()
        return said

    said = run(body)
    assert [line.text for line in said] == ["That sounds hard."]
    assert "resumed" not in fake.event_names()


# --- over the wire, against llama.cpp with SmolLM2 ---


@pytest.fixture(scope="session")
def llama_url() -> Iterator[str]:
    with llama_server() as (base_url, _proc):
        yield base_url


@pytest.mark.llm
def test_smollm2_plans_a_move_over_the_wire(llama_url: str) -> None:
    first_token: list[float] = []
    planner = LlmPlanner(
        base_url=llama_url, model="smollm2", timeout=60.0, on_first_token=lambda: first_token.append(0.0)
    )
    lines = [line for line, _ in run(lambda: collect(planner, ctx(0, "I worked in retail.")), timeout=60.0)]
    assert lines
    assert first_token == [0.0]
    assert {line.source for line in lines} == {"llm"}
    kinds = {line.kind for line in lines}
    assert kinds in ({MoveKind.FOLLOW_UP}, {MoveKind.NEXT_QUESTION})
    if kinds == {MoveKind.NEXT_QUESTION}:
        assert lines[-1].text == SCRIPT.questions[1].text
    else:
        assert lines[-1].is_prompt and lines[-1].text.endswith("?")


@pytest.mark.llm
def test_smollm2_with_no_follow_ups_left_ends_on_the_exact_next_question(llama_url: str) -> None:
    planner = LlmPlanner(base_url=llama_url, model="smollm2", timeout=60.0)
    context = ctx(1, "I fixed a customer's router over the phone and she was happy.", follow_ups_asked=1)
    lines = [line for line, _ in run(lambda: collect(planner, context), timeout=60.0)]
    assert 1 <= len(lines) <= 2
    assert {line.kind for line in lines} == {MoveKind.NEXT_QUESTION}
    assert lines[-1] == Line(SCRIPT.questions[2].text, MoveKind.NEXT_QUESTION, 2, "llm", is_prompt=True)
