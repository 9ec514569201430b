"""Planner seam and the offline planner: what the interviewer says next, sentence by sentence.

A planner streams `Line`s; each line carries the move's kind so the session knows, from the
first sentence on, whether it is following up, moving to the next question or closing. The
offline planner is deterministic and needs nothing: it is the default and the fallback.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from milo_voice.dialogue.script import (
    ACKNOWLEDGEMENTS,
    EMPTY_ANSWER_LINE,
    GENERIC_FOLLOW_UPS,
    MIN_WORDS,
    AnswerShape,
    InterviewScript,
)


class MoveKind(StrEnum):
    FOLLOW_UP = "follow_up"
    NEXT_QUESTION = "next_question"
    CLOSE = "close"
    ASIDE = "aside"
    """Not a move in the interview: acknowledging "let me think", repeating the question."""


@dataclass(frozen=True, slots=True)
class PlanContext:
    """What the planner knows when the candidate has finished an answer."""

    script: InterviewScript
    question_index: int
    """Index of the question being answered."""
    follow_ups_asked: int
    """Follow-ups already asked for this question."""
    answer_text: str
    """The candidate's reply to the last prompt (live transcript)."""
    prompt_text: str = ""
    """What the interviewer last asked (the question or a follow-up)."""
    earlier_answer: str = ""
    """Everything the candidate said earlier for this question (before the follow-up)."""

    @property
    def follow_ups_left(self) -> int:
        question = self.script.questions[self.question_index]
        return max(0, question.max_follow_ups - self.follow_ups_asked)

    @property
    def is_last_question(self) -> bool:
        return self.question_index >= len(self.script.questions) - 1


@dataclass(frozen=True, slots=True)
class Line:
    """One sentence of the interviewer's next move."""

    text: str
    kind: MoveKind
    question_index: int
    """The question this line belongs to once spoken (the next one for NEXT_QUESTION)."""
    source: str
    """`offline`, `llm`, or `offline-fallback` (the LLM failed or was too slow)."""
    is_prompt: bool = False
    """True for the line the move exists for: the question, the follow-up, or the closing line."""


class Planner(Protocol):
    name: str

    def plan(self, ctx: PlanContext) -> AsyncIterator[Line]:
        """Stream the next move's sentences, first sentence as early as possible."""
        ...


@runtime_checkable
class Closable(Protocol):
    """A planner that holds resources (an HTTP client) to release when its session ends."""

    async def aclose(self) -> None: ...


async def close_planner(planner: Planner) -> None:
    """Release what a planner holds (the LLM's HTTP connections) when its session ends.

    Planners without resources (the offline one) are not `Closable`; those that are get `aclose`
    awaited, so a connection left to a hung LLM server is closed with the session, not by the garbage
    collector.
    """
    if isinstance(planner, Closable):
        await planner.aclose()


_EXAMPLE_MARKERS = re.compile(
    r"\b(for example|for instance|one time|once|i remember|there was|when i|at my|last year"
    r"|a customer|a client|a colleague|we had|i had)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z0-9']+")


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def transition_lines(ctx: PlanContext, acknowledgement: str, source: str) -> list[Line]:
    """Acknowledge, then ask the next scripted question (or close): shared by every planner."""
    lines = []
    if ctx.is_last_question:
        if acknowledgement:
            lines.append(Line(acknowledgement, MoveKind.CLOSE, ctx.question_index + 1, source))
        lines.append(Line(ctx.script.closing, MoveKind.CLOSE, ctx.question_index + 1, source, is_prompt=True))
        return lines
    nxt = ctx.question_index + 1
    if acknowledgement:
        lines.append(Line(acknowledgement, MoveKind.NEXT_QUESTION, nxt, source))
    question = ctx.script.questions[nxt].text
    lines.append(Line(question, MoveKind.NEXT_QUESTION, nxt, source, is_prompt=True))
    return lines


class OfflinePlanner:
    """Deterministic rules: follow up on thin answers or missing examples, otherwise move on."""

    name = "offline"

    def __init__(self, source: str = "offline") -> None:
        self.source = source

    def decide(self, ctx: PlanContext) -> list[Line]:
        """The whole move at once (pure)."""
        words = word_count(ctx.answer_text)
        if words == 0:
            return transition_lines(ctx, EMPTY_ANSWER_LINE, self.source)
        if ctx.follow_ups_left > 0:
            prompt = self._follow_up(ctx)
            if prompt:
                line = Line(prompt, MoveKind.FOLLOW_UP, ctx.question_index, self.source, True)
                return [line]
        ack = ACKNOWLEDGEMENTS[ctx.question_index % len(ACKNOWLEDGEMENTS)]
        return transition_lines(ctx, ack, self.source)

    def _follow_up(self, ctx: PlanContext) -> str | None:
        question = ctx.script.questions[ctx.question_index]
        total = f"{ctx.earlier_answer} {ctx.answer_text}"
        thin = word_count(total) < MIN_WORDS[question.shape]
        lacks_example = (
            question.wants_example or question.shape is AnswerShape.STORY
        ) and not _EXAMPLE_MARKERS.search(total)
        if not (thin or lacks_example):
            return None
        if ctx.follow_ups_asked < len(question.follow_ups):
            return question.follow_ups[ctx.follow_ups_asked]
        return GENERIC_FOLLOW_UPS[1] if lacks_example else GENERIC_FOLLOW_UPS[0]

    async def plan(self, ctx: PlanContext) -> AsyncIterator[Line]:
        for line in self.decide(ctx):
            yield line
