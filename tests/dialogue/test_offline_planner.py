"""OfflinePlanner's rules: follow up on thin answers and stories without an example, otherwise move on."""

from __future__ import annotations

import asyncio

from milo_voice.dialogue.planner import Line, MoveKind, OfflinePlanner, PlanContext
from milo_voice.dialogue.script import (
    ACKNOWLEDGEMENTS,
    EMPTY_ANSWER_LINE,
    GENERIC_FOLLOW_UPS,
    AnswerShape,
    InterviewScript,
    Question,
)

SCRIPT = InterviewScript(
    title="Rules",
    questions=(
        Question(
            "What does a good support ticket look like to you?",
            AnswerShape.EXPLANATION,
            follow_ups=("What makes it easy to act on?",),
            max_follow_ups=2,
        ),
        Question("Tell me about a time a customer was angry.", AnswerShape.STORY, max_follow_ups=1),
        Question("Why this role?", AnswerShape.EXPLANATION, follow_ups=("What would you change?",)),
    ),
)
STORY_WITHOUT_EXAMPLE = (
    "Angry customers are usually frustrated because something important to them broke, so I stay calm, "
    "listen carefully to everything they say, repeat the problem back and explain clearly what will "
    "happen next and when they will hear from me again."
)
STORY_WITH_EXAMPLE = (
    "Last year a customer called because her shop's card reader had failed on a Saturday morning. "
    "I stayed on the phone with her, walked her through a reset, shipped a spare the same day "
    "and called back on Monday to check that everything worked."
)
DETAILED_EXPLANATION = (
    "A good ticket says what the person was trying to do, what happened instead, the exact error "
    "message, when it started, what they already tried and how urgent it is for their business."
)


def ctx(question_index: int, answer: str, follow_ups_asked: int = 0) -> PlanContext:
    prompt = SCRIPT.questions[question_index].text
    return PlanContext(SCRIPT, question_index, follow_ups_asked, answer, prompt_text=prompt)


def decide(context: PlanContext) -> list[Line]:
    return OfflinePlanner().decide(context)


def test_a_thin_answer_gets_the_scripted_follow_up() -> None:
    assert decide(ctx(0, "Short and clear.")) == [
        Line("What makes it easy to act on?", MoveKind.FOLLOW_UP, 0, "offline", is_prompt=True)
    ]


def test_scripted_follow_ups_are_used_in_order_then_a_generic_one() -> None:
    (line,) = decide(ctx(0, "Short.", follow_ups_asked=1))
    assert line.text == GENERIC_FOLLOW_UPS[0]
    assert line.kind is MoveKind.FOLLOW_UP


def test_a_story_without_an_example_gets_an_example_follow_up() -> None:
    (line,) = decide(ctx(1, STORY_WITHOUT_EXAMPLE))
    assert line == Line(GENERIC_FOLLOW_UPS[1], MoveKind.FOLLOW_UP, 1, "offline", is_prompt=True)


def test_a_full_story_moves_on_with_an_acknowledgement() -> None:
    assert decide(ctx(1, STORY_WITH_EXAMPLE)) == [
        Line(ACKNOWLEDGEMENTS[1], MoveKind.NEXT_QUESTION, 2, "offline"),
        Line("Why this role?", MoveKind.NEXT_QUESTION, 2, "offline", is_prompt=True),
    ]


def test_exhausted_follow_ups_move_on_to_the_exact_next_question() -> None:
    lines = decide(ctx(0, "Short.", follow_ups_asked=2))
    assert [line.kind for line in lines] == [MoveKind.NEXT_QUESTION, MoveKind.NEXT_QUESTION]
    assert lines[-1].text == SCRIPT.questions[1].text
    assert lines[-1].is_prompt
    assert lines[-1].question_index == 1


def test_a_detailed_answer_moves_on_even_with_follow_ups_left() -> None:
    lines = decide(ctx(0, DETAILED_EXPLANATION))
    assert lines[-1].text == SCRIPT.questions[1].text


def test_after_the_last_question_comes_the_closing() -> None:
    lines = decide(ctx(2, "I love solving problems for people and I want to grow a support team.", 1))
    assert [line.kind for line in lines] == [MoveKind.CLOSE, MoveKind.CLOSE]
    assert lines[-1].text == SCRIPT.closing
    assert [line.is_prompt for line in lines] == [False, True]  # the closing is what the move is for


def test_an_empty_answer_moves_on_without_a_follow_up() -> None:
    lines = decide(ctx(0, "  "))
    assert [line.text for line in lines] == [EMPTY_ANSWER_LINE, SCRIPT.questions[1].text]


def test_an_empty_answer_to_the_last_question_closes() -> None:
    assert [line.text for line in decide(ctx(2, ""))] == [EMPTY_ANSWER_LINE, SCRIPT.closing]


def test_plan_streams_the_same_move_as_decide() -> None:
    context = ctx(1, STORY_WITH_EXAMPLE)

    async def collect() -> list[Line]:
        return [line async for line in OfflinePlanner().plan(context)]

    assert asyncio.run(collect()) == decide(context)


def test_the_source_names_the_planner_role() -> None:
    lines = OfflinePlanner(source="offline-fallback").decide(ctx(0, ""))
    assert {line.source for line in lines} == {"offline-fallback"}
