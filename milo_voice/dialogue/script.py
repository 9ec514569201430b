"""Interview scripts: the recruiter's ordered questions with follow-up policy. Pure data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from milo_voice.errors import MiloError


class AnswerShape(StrEnum):
    """What kind of answer a question expects; sets follow-up rules (and later, patience)."""

    SHORT_FACT = "short_fact"
    EXPLANATION = "explanation"
    STORY = "story"
    TECHNICAL = "technical"


MIN_WORDS: dict[AnswerShape, int] = {
    AnswerShape.SHORT_FACT: 1,
    AnswerShape.EXPLANATION: 20,
    AnswerShape.STORY: 30,
    AnswerShape.TECHNICAL: 25,
}
"""Below this many words an answer counts as thin and earns a follow-up (if any are left)."""

PATIENCE: dict[AnswerShape, float] = {
    AnswerShape.SHORT_FACT: 0.8,
    AnswerShape.EXPLANATION: 1.0,
    AnswerShape.STORY: 1.0,
    AnswerShape.TECHNICAL: 1.15,
}
"""Multiplier on every silence limit while the candidate answers a question of this shape: a
short fact is over sooner; a technical answer has thinking pauses mid-answer."""


@dataclass(frozen=True, slots=True)
class Question:
    """One scripted question."""

    text: str
    """What the interviewer asks, verbatim."""
    shape: AnswerShape = AnswerShape.EXPLANATION
    """Expected answer shape."""
    follow_ups: tuple[str, ...] = ()
    """Scripted follow-up prompts, used in order; a generic prompt is used when this is empty."""
    max_follow_ups: int = 1
    """At most this many follow-ups for this question (0 disables them)."""
    wants_example: bool = False
    """The question asks for a concrete example; an answer without one earns a follow-up."""

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise MiloError("a question needs text")
        if self.max_follow_ups < 0:
            raise MiloError(f"max_follow_ups={self.max_follow_ups}: expected >= 0")


@dataclass(frozen=True, slots=True)
class InterviewScript:
    """An interview as the session runs it."""

    title: str
    questions: tuple[Question, ...]
    greeting: str = "Hello, and thank you for taking the time to talk with me today."
    closing: str = "That was my last question. Thank you very much for your time, goodbye."
    role: str = ""
    version: int = 1
    key: str = field(default="", compare=False)
    """Stable identifier of this interview version (used for TTS caching)."""
    thinking_silence: float | None = None
    """The interview's own patience before an answer starts (s); None: the server's setting."""
    max_silence: float | None = None
    """The interview's own patience for a pause inside an answer (s); None: the server's setting."""

    def __post_init__(self) -> None:
        if not self.questions:
            raise MiloError(f"interview {self.title!r} has no questions")

    def fixed_lines(self) -> list[str]:
        """Lines spoken verbatim in every session: rendered once per version and cached."""
        lines = [self.greeting, self.closing, *ACKNOWLEDGEMENTS, *GENERIC_FOLLOW_UPS]
        lines += [*CHECK_IN_LINES, EMPTY_ANSWER_LINE, REPEAT_LINE, TIME_LINE]
        for q in self.questions:
            lines.append(q.text)
            lines.extend(q.follow_ups)
        return lines


ACKNOWLEDGEMENTS = ("Thank you.", "Thanks, that's helpful.", "Got it, thank you.")
GENERIC_FOLLOW_UPS = (
    "Could you tell me a little more about that?",
    "Could you give me a specific example?",
)
EMPTY_ANSWER_LINE = "That's all right, let's move on."
TIME_LINE = "Of course, take your time."
"""Said when the candidate asks for a moment to think."""
REPEAT_LINE = "Sure. Here is the question again."
"""Said before the question when the candidate asks to hear it again."""
CHECK_IN_LINES = (
    "Take your time, there's no rush.",
    "Would you like me to repeat the question? Here it is again.",
)
"""Said, in order, when the candidate has been silent for `thinking_silence` before answering."""


def demo_script() -> InterviewScript:
    """The seeded demo interview: three questions, one of each common shape."""
    return InterviewScript(
        title="Demo: Customer Support Specialist",
        role="Customer Support Specialist",
        key="demo-v1",
        questions=(
            Question(
                "To start, could you tell me a little about yourself and your background?",
                AnswerShape.EXPLANATION,
            ),
            Question(
                "Tell me about a time you helped someone solve a difficult problem.",
                AnswerShape.STORY,
                follow_ups=("What was the result, and what did you learn from it?",),
                wants_example=True,
            ),
            Question(
                "Why are you interested in this role?",
                AnswerShape.EXPLANATION,
                follow_ups=("What would you hope to achieve in your first months?",),
            ),
        ),
    )
