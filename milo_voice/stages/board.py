"""The board by stage: which column a candidate stands in (issue 18). Pure.

A candidate still in their pipeline stands in their current stage's column (named as the recruiter
named the stage: "Resume Screen", "Form", "Web Interview"); one who finished stands in Completed,
one knocked out in Knocked out, one a recruiter dismissed in Dismissed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from milo_voice.stages.types import StageSpec
from milo_voice.store.tables import CandidateStatus

COMPLETED, KNOCKED_OUT, DISMISSED = "Completed", "Knocked out", "Dismissed"
FINAL_LANES = (COMPLETED, KNOCKED_OUT, DISMISSED)
_FINAL = {
    CandidateStatus.COMPLETED.value: COMPLETED,
    CandidateStatus.SHORTLISTED.value: COMPLETED,
    CandidateStatus.KNOCKED_OUT.value: KNOCKED_OUT,
    CandidateStatus.DISMISSED.value: DISMISSED,
}


def lane_of(status: str, stages: Sequence[StageSpec], position: int) -> str:
    """The column of a candidate with `status` at stage `position` of `stages`."""
    if status in _FINAL:
        return _FINAL[status]
    return stages[min(position, len(stages) - 1)].name


def lane_order(pipelines: Iterable[Sequence[StageSpec]]) -> list[str]:
    """Stage columns in pipeline order (merged over several interviews), then the final ones."""
    order: list[str] = []
    for stages in pipelines:
        for spec in stages:
            if spec.name not in order and spec.name not in FINAL_LANES:
                order.append(spec.name)
    return [*order, *FINAL_LANES]
