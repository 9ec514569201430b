"""Score types: what one scoring run concluded, per criterion and overall, with verified evidence.

A `Judgement` is what a scorer proposes (quotes still unchecked); a `CriterionResult` is what is
stored and shown, after every quote went through `quotes.verify`. Pure data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from milo_voice.scoring.quotes import Quote
from milo_voice.scoring.rubric import Bands, CriterionKind

OFFLINE = "offline"
LLM = "llm"
OFFLINE_LABEL = "Offline scorer (words and meaning matched against the rubric by a small local model; no LLM)"
OFFLINE_WORDS_LABEL = "Offline scorer (word matching only: the meaning model is missing; no LLM)"
"""How the offline scorer is named wherever a score is shown, so nobody mistakes it for a model."""


@dataclass(frozen=True, slots=True)
class Judgement:
    """A scorer's proposal for one criterion, before its quotes are verified."""

    criterion_id: str
    score: int | None
    """1-5 for scored criteria; None when the scorer could not decide."""
    passed: bool | None
    """Pass/fail and dealbreaker criteria: the verdict; None when undecided."""
    rationale: str
    quotes: tuple[str, ...] = ()
    review: str = ""
    """Why the scorer itself is unsure (e.g. words and meaning disagree): the result is flagged."""


class CriterionResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    criterion_id: str
    name: str
    kind: CriterionKind
    weight: float
    score: int | None
    passed: bool | None
    rationale: str
    quotes: list[Quote] = Field(default_factory=list)
    """Verified quotes only."""
    rejected_quotes: list[str] = Field(default_factory=list)
    """Quotes the scorer offered that are not in the transcript: never shown as evidence."""
    needs_review: bool = False
    review_reason: str = ""


class QuestionResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    position: int
    question: str
    rubric_version: int
    answered: bool
    criteria: list[CriterionResult]


class Knockout(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    question_position: int
    criterion_id: str
    reason: str
    quote: Quote


class ScoreCard(BaseModel):
    """One scoring run of one session: what the report shows and the `score` table stores."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scorer: str
    """`offline` or `llm`."""
    scorer_label: str
    model: str
    prompt_hash: str
    created_at: datetime
    bands: Bands
    overall: float | None
    band: str
    knockout: Knockout | None
    needs_review: bool
    review_reasons: list[str]
    questions: list[QuestionResult]

    @property
    def rubric_versions(self) -> dict[str, int]:
        return {str(q.position): q.rubric_version for q in self.questions}
