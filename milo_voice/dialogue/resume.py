"""Where an interview goes on after its call moved to another node: the resume point, from the turns stored.

A node that died mid-interview leaves its turns in the database. The node that takes the call over reads
them and goes on at the current question: the last question or follow-up the candidate heard is asked
again (after a short apology) unless a whole answer to it is stored, in which case the next question is
asked (the move the dead node was about to make is not guessed); when the last question was answered,
the interview closes. What the candidate said in the cut answer stays stored (kind `partial`), and the
new answer is a new turn: the transcript keeps both. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from milo_voice.dialogue.planner import Line, MoveKind
from milo_voice.dialogue.script import InterviewScript
from milo_voice.dialogue.session_types import DialogueState

RESUME_LINE = "Sorry, we lost the connection for a moment. Let's pick up where we left off."
PROMPTS = ("question", "follow_up")
"""Stored kinds of an interviewer turn that asks something."""


class StoredTurn(Protocol):
    """A stored turn as the resume point reads it (the `turn` table's row has these)."""

    index: int
    speaker: str
    kind: str
    text: str
    question_position: int
    is_follow_up: bool


@dataclass(frozen=True, slots=True)
class ResumePoint:
    question_index: int
    prompt_text: str
    prompt_is_follow_up: bool = False
    follow_ups_asked: int = 0
    earlier_answer: str = ""
    next_turn_index: int = 0
    closing: bool = False
    """Every question was answered: only the closing line is left."""

    def state(self) -> DialogueState:
        return DialogueState(question_index=self.question_index, follow_ups_asked=self.follow_ups_asked,
                             earlier_answer=self.earlier_answer, prompt_text=self.prompt_text,
                             prompt_is_follow_up=self.prompt_is_follow_up, turn_index=self.next_turn_index)

    def opening(self, script: InterviewScript) -> list[Line]:
        q = self.question_index
        if self.closing:
            return [Line(script.closing, MoveKind.CLOSE, q, "script")]
        kind = MoveKind.FOLLOW_UP if self.prompt_is_follow_up else MoveKind.NEXT_QUESTION
        return [Line(RESUME_LINE, MoveKind.ASIDE, q, "script"),
                Line(self.prompt_text, kind, q, "script", is_prompt=True)]


def first_state(script: InterviewScript, resume: ResumePoint | None) -> DialogueState:
    """The dialogue's state at its start: a new interview's, or the resume point's."""
    if resume is not None:
        state = resume.state()
        state.closing = resume.closing
        return state
    return DialogueState(prompt_text=script.questions[0].text)


def opening_lines(script: InterviewScript, resume: ResumePoint | None) -> list[Line]:
    """What the interviewer says first: the greeting and the first question, or the resume point's lines."""
    if resume is not None:
        return resume.opening(script)
    return [Line(script.greeting, MoveKind.NEXT_QUESTION, 0, "script"),
            Line(script.questions[0].text, MoveKind.NEXT_QUESTION, 0, "script", is_prompt=True)]


def resume_point(script: InterviewScript, turns: Sequence[StoredTurn]) -> ResumePoint:
    """Where to go on, from a session's stored turns (any order)."""
    ordered = sorted(turns, key=lambda t: t.index)
    next_index = ordered[-1].index + 1 if ordered else 0
    asked = [t for t in ordered if t.speaker == "interviewer" and t.kind in PROMPTS]
    if not asked:
        return ResumePoint(0, script.questions[0].text, next_turn_index=next_index)
    prompt = asked[-1]
    q = min(max(prompt.question_position, 0), len(script.questions) - 1)
    answered = any(t.speaker == "candidate" and t.kind == "answer" and t.index > prompt.index
                   for t in ordered)
    if answered:
        if q + 1 < len(script.questions):
            return ResumePoint(q + 1, script.questions[q + 1].text, next_turn_index=next_index)
        return ResumePoint(q, prompt.text, next_turn_index=next_index, closing=True)
    opened = max((t.index for t in asked if t.question_position == q and not t.is_follow_up), default=-1)
    since = [t for t in ordered if t.index > opened]
    follow_ups = sum(1 for t in since if t.speaker == "interviewer" and t.kind == "follow_up")
    earlier = " ".join(t.text for t in since if t.speaker == "candidate" and t.kind == "answer" and t.text)
    return ResumePoint(q, prompt.text, prompt_is_follow_up=prompt.is_follow_up, follow_ups_asked=follow_ups,
                       earlier_answer=earlier, next_turn_index=next_index)
