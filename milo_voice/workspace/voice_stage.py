"""The voice/video stage inside a pipeline: when scoring finishes a candidate's interview, the result
becomes that stage's outcome and the pipeline moves them on (issue 18).

Scoring writes candidate status through a `CandidateStatuses` sink; `StagedStatuses` wraps the sink
the server uses. For an interview without stages (one voice stage) it changes nothing. For a
candidate whose current stage is the voice stage of a pipeline, a scored session is recorded as the
stage's outcome (the knock-out with its quote; the pass score when the stage has one): a pass moves
them to the next stage, and only a final status (completed, knocked out) reaches the wrapped sink.
"""

from __future__ import annotations

from typing import Protocol

from sqlmodel import col, select

from milo_voice.stages.outcome import by_score
from milo_voice.stages.types import Evidence, StageOutcome, StageSpec
from milo_voice.store.tables import CandidateStatus, ScoreRecord, StageKind
from milo_voice.workspace.pipeline import Pipeline

FINAL = (CandidateStatus.COMPLETED, CandidateStatus.KNOCKED_OUT)


class Statuses(Protocol):
    def set_status(self, candidate_id: int, status: CandidateStatus) -> None: ...


def outcome_of(score: ScoreRecord | None, spec: StageSpec) -> StageOutcome:
    """A scored interview as a stage outcome."""
    if score is None:
        return StageOutcome(passed=None, reason="the interview has no score yet")
    card = score.card or {}
    knockout = card.get("knockout") or None
    if score.knocked_out and knockout:
        quote = (knockout.get("quote") or {}).get("text", "")
        source = f"Q{int(knockout.get('question_position', 0)) + 1}"
        return StageOutcome(passed=False, knocked_out=True, score=score.overall,
                            reason=str(knockout.get("reason", "a dealbreaker failed")),
                            evidence=(Evidence(quote, source),) if quote else (),
                            detail={"score_id": score.id})
    return by_score(score.overall, spec.pass_score, done="interview completed", detail={"score_id": score.id},
                    unscored="the interview could not be scored")


class StagedStatuses:
    def __init__(self, inner: Statuses, pipeline: Pipeline) -> None:
        self.inner, self.pipeline = inner, pipeline

    def set_status(self, candidate_id: int, status: CandidateStatus) -> None:
        place = self.pipeline.place(candidate_id)
        staged = len(place.stages) > 1 and place.stage.kind is StageKind.VOICE
        if not staged or CandidateStatus(status) not in FINAL:
            self.inner.set_status(candidate_id, status)
            return
        outcome = outcome_of(self._latest_score(candidate_id), place.stage)
        after = self.pipeline.record(candidate_id, place.position, outcome)
        if CandidateStatus(after.status) in FINAL:
            self.inner.set_status(candidate_id, CandidateStatus(after.status))

    def _latest_score(self, candidate_id: int) -> ScoreRecord | None:
        with self.pipeline.unit() as session:
            return session.exec(
                select(ScoreRecord).where(ScoreRecord.candidate_id == candidate_id)
                .order_by(col(ScoreRecord.id).desc())
            ).first()
