"""The last step of judging every stage, in one place: with no knock-out and nothing left for a person,
the pass score decides (none set: finishing the stage is enough; no score: a person decides)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from milo_voice.stages.types import Evidence, StageOutcome


def by_score(score: float | None, pass_score: float | None, *, done: str, evidence: Sequence[Evidence] = (),
             detail: dict[str, Any] | None = None, unscored: str = "could not be scored") -> StageOutcome:
    """`done` is the reason when no pass score is set ("form completed"); `unscored` says what could
    not be done when there is a pass score but no score."""
    detail, evidence = dict(detail or {}), tuple(evidence)
    if pass_score is None:
        return StageOutcome(passed=True, score=score, reason=done, evidence=evidence, detail=detail)
    if score is None:
        return StageOutcome(passed=None, reason=f"{unscored}: a person decides", evidence=evidence,
                            detail=detail)
    passed = score >= pass_score
    side = "at or above" if passed else "below"
    return StageOutcome(passed=passed, score=score, evidence=evidence, detail=detail,
                        reason=f"scored {score:g}, {side} the pass score {pass_score:g}")
