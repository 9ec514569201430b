"""Rubric types: what a recruiter asks the scorer to judge for one question. Pure data, no I/O.

A `QuestionRubric` holds criteria. A *scored* criterion is judged 1-5 against its anchors and
weighted into the overall 0-100; a *pass_fail* criterion is passed or not (it counts 5 or 1 when
weighted); a *dealbreaker* states the required answer, and failing it knocks the candidate out.
The workspace editor (issue 5) imports these types; they are stored as JSON on `question.rubric`.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCALE = (1, 2, 3, 4, 5)
"""The anchor points of a scored criterion."""


class CriterionKind(StrEnum):
    SCORED = "scored"
    PASS_FAIL = "pass_fail"
    DEALBREAKER = "dealbreaker"


class Criterion(BaseModel):
    """One line of a rubric."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_\-]+$")
    """Stable key within the question (lower-case letters, digits, `_`, `-`)."""
    name: str = Field(min_length=1, max_length=200)
    """What is judged, as the recruiter reads it ("Explains the trade-off")."""
    kind: CriterionKind = CriterionKind.SCORED
    weight: float = Field(default=1.0, ge=0.0, le=100.0)
    """Relative weight in the overall score (dealbreakers are not weighted: they knock out)."""
    anchors: dict[int, str] = Field(default_factory=dict)
    """Scored: what an answer at 1..5 looks like (1 and 5 at least). Pass/fail: 5 = what passes."""
    required_answer: str = ""
    """Dealbreaker: the answer that keeps the candidate in ("yes", or a phrase that must be said)."""
    keywords: tuple[str, ...] = ()
    """Optional terms a good answer uses; the offline scorer looks for them beside anchor 5."""
    listens_to_delivery: bool = False
    """Only when true may fluency, pauses or thinking time matter; the scorer never gets audio either way."""

    @field_validator("anchors")
    @classmethod
    def _anchors_on_the_scale(cls, anchors: dict[int, str]) -> dict[int, str]:
        bad = sorted(k for k in anchors if k not in SCALE)
        if bad:
            raise ValueError(f"anchor points {bad} are off the 1-5 scale")
        return {k: v.strip() for k, v in sorted(anchors.items()) if v.strip()}

    @model_validator(mode="after")
    def _complete_for_its_kind(self) -> Criterion:
        if self.kind is CriterionKind.SCORED and not {1, 5} <= set(self.anchors):
            raise ValueError(f"scored criterion {self.id!r} needs anchors for 1 and 5 at least")
        if self.kind is CriterionKind.PASS_FAIL and 5 not in self.anchors:
            raise ValueError(f"pass/fail criterion {self.id!r} needs anchor 5: what passes")
        if self.kind is CriterionKind.DEALBREAKER and not self.required_answer.strip():
            raise ValueError(f"dealbreaker {self.id!r} needs the required answer")
        return self

    @property
    def target(self) -> str:
        """The text that describes a full-marks answer (what the offline scorer compares against)."""
        if self.kind is CriterionKind.DEALBREAKER:
            return self.required_answer
        return " ".join([self.anchors.get(5, ""), *self.keywords]).strip()


class QuestionRubric(BaseModel):
    """The rubric of one question. `version` rises with every edit; scores record the one they used."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(default=1, ge=1)
    criteria: tuple[Criterion, ...] = Field(min_length=1)

    @field_validator("criteria")
    @classmethod
    def _unique_ids(cls, criteria: tuple[Criterion, ...]) -> tuple[Criterion, ...]:
        ids = [c.id for c in criteria]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"criterion ids must be unique; repeated: {dupes}")
        return criteria

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise LookupError(f"no criterion {criterion_id!r} in this rubric")


class Bands(BaseModel):
    """Overall-score thresholds: >= great is Great, >= good is Good, anything lower is Bad."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    great: float = Field(default=75.0, ge=0.0, le=100.0)
    good: float = Field(default=50.0, ge=0.0, le=100.0)

    @model_validator(mode="after")
    def _ordered(self) -> Bands:
        if self.good > self.great:
            raise ValueError(f"band thresholds good={self.good} > great={self.great}; expected good <= great")
        return self

    def band(self, overall: float) -> str:
        if overall >= self.great:
            return "great"
        return "good" if overall >= self.good else "bad"


BAND_MEANINGS = {
    "great": "calibrated: a human grader would most likely give full marks",
    "good": "calibrated: uncertain, check the evidence",
    "bad": "calibrated: full marks are unlikely",
}
"""What a band says, the same on every rubric (measured precision per band: docs/scoring.md)."""


def slug_id(name: str) -> str:
    """A criterion id made from its name ("Explains the trade-off" -> "explains_the_trade_off")."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40] or "criterion"
