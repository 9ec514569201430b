"""The seam between a scoring run and whoever judges the answers: the offline scorer or an LLM.

A scorer sees one question at a time: its text as asked, its rubric, and the candidate's answer
turns (text; no audio, and word timings only to cut quotes at pauses), and proposes a `Judgement`
per criterion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from milo_voice.scoring.result import Judgement
from milo_voice.scoring.rubric import QuestionRubric
from milo_voice.scoring.transcript import TimedWord


@dataclass(frozen=True, slots=True)
class QuestionInput:
    """Everything a scorer may use for one question."""

    position: int
    question: str
    """The question as scripted."""
    rubric: QuestionRubric
    answers: tuple[str, ...]
    """The candidate's answer turns (follow-up answers included), stored transcript text, in order."""
    asked: tuple[str, ...] = ()
    """What the interviewer actually said for this question (question and follow-ups)."""
    answer_words: tuple[tuple[TimedWord, ...], ...] = ()
    """The word timings of each of `answers` (parallel to it; an empty tuple where unknown), used only
    to cut quotes at pauses. Never part of a fingerprint: the same text scores the same."""


class Scorer(Protocol):
    name: str
    """`offline` or `llm`."""
    label: str
    """How reports name it."""
    model: str

    def fingerprint(self, question: QuestionInput) -> str:
        """The exact input this scorer judges `question` from (its prompt); hashed into the score."""
        ...

    async def judge(self, question: QuestionInput) -> list[Judgement]:
        """One judgement per criterion of `question.rubric` (missing ones count as undecided)."""
        ...
