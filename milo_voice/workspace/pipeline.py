"""A candidate's way through the stages of their interview version (issue 18); the one writer of
`candidate_stage`.

The rules, in one place:
- a candidate starts at stage 0 when added (`candidates.add_candidate` stamps its kind);
- a judged stage is recorded with its score, reason and quoted evidence. Passing moves the candidate
  on to the next stage (status invited: the outreach planner invites them to it), or to completed
  after the last stage;
- a knock-out ends the pipeline (status knocked_out) with the reason and its quote; the candidate
  sees the stage's knock-out message;
- an undecided or below-the-pass-score result waits for a recruiter (stage status not_passed);
- no automatic move undoes a recruiter's decision (shortlisted, dismissed);
- a recruiter may override a stage (advance the candidate, or knock them out): audited, with why.
Every decision is logged with its reason (`stages.decision`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from milo_voice.scoring.jobs import JobQueue
from milo_voice.stages.types import Evidence, StageOutcome, StageSpec
from milo_voice.store.repo import Invalid, NotFound, Repo, get_row
from milo_voice.store.tables import Candidate, CandidateStage, CandidateStatus, StageKind, StageStatus
from milo_voice.workspace import interview_stages
from milo_voice.workspace.attempts import HUMAN
from milo_voice.workspace.audit import Audit, Principal
from milo_voice.workspace.candidates import enter_stage, set_status
from milo_voice.workspace.retention import ANSWERS, MARK, REMOVED_REASON, SCORES, with_mark

log = logging.getLogger(__name__)

RESUME_JOB = "stages.resume"
"""Job kind: screen one candidate's resume (payload: candidate_id)."""
OPEN = (CandidateStatus.NEW.value, CandidateStatus.INVITED.value, CandidateStatus.IN_PROGRESS.value)
"""Statuses of a candidate still at work on a stage."""


@dataclass(frozen=True, slots=True)
class StageView:
    """One stage of a candidate's pipeline as the profile shows it."""

    position: int
    spec: StageSpec
    result: CandidateStage | None
    current: bool


@dataclass(frozen=True, slots=True)
class Place:
    """Where a candidate is: their pipeline and their current stage (`position`)."""

    candidate: Candidate
    stages: tuple[StageSpec, ...]
    position: int

    @property
    def stage(self) -> StageSpec:
        return self.stages[min(self.position, len(self.stages) - 1)]

    @property
    def step(self) -> int:
        """1-based, for "step 2 of 3"."""
        return min(self.position, len(self.stages) - 1) + 1


class Pipeline(Repo):
    def __init__(self, engine: Any, *, queue: JobQueue | None = None, **kw: Any) -> None:
        super().__init__(engine, **kw)
        self.queue = queue
        self.audit = Audit(self.engine, now=self.now)

    # -- reading ------------------------------------------------------------------------------

    def place(self, candidate_id: int) -> Place:
        with self.unit() as session:
            candidate = get_row(session, Candidate, candidate_id)
            stages = interview_stages.pipeline(session, candidate.interview_id)
        return Place(candidate, stages, candidate.stage_position)

    def views(self, candidate_id: int) -> list[StageView]:
        place = self.place(candidate_id)
        results = self.results([candidate_id]).get(candidate_id, {})
        return [StageView(i, spec, results.get(i), i == place.position)
                for i, spec in enumerate(place.stages)]

    def results(self, candidate_ids: Sequence[int]) -> dict[int, dict[int, CandidateStage]]:
        """Each candidate's stage results by position."""
        found: dict[int, dict[int, CandidateStage]] = {}
        if not candidate_ids:
            return found
        with self.unit() as session:
            query = select(CandidateStage).where(col(CandidateStage.candidate_id).in_(candidate_ids))
            for row in session.exec(query):
                found.setdefault(row.candidate_id, {})[row.position] = row
        return found

    def statuses_by_kind(self, candidate_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        """The list's per-type columns: candidate -> stage kind -> that stage's status."""
        found = self.results(candidate_ids)
        return {cid: {r.kind: r.status for r in rows.values()} for cid, rows in found.items()}

    # -- moving on ----------------------------------------------------------------------------

    def start_stage(self, candidate_id: int) -> CandidateStage:
        """The candidate began their current stage (opened the form): its row, in progress."""
        with self.unit() as session:
            candidate = get_row(session, Candidate, candidate_id)
            stages = interview_stages.pipeline(session, candidate.interview_id)
            row = _row(session, candidate, stages)
            if row.status == StageStatus.INVITED.value:
                row.status = StageStatus.IN_PROGRESS.value
                row.started_at = self.now()
            if candidate.status in (CandidateStatus.NEW.value, CandidateStatus.INVITED.value):
                set_status(session, candidate_id, CandidateStatus.IN_PROGRESS)
            return row

    def save_answers(self, candidate_id: int, answers: dict[str, Any]) -> None:
        """Keep what the candidate entered so far at their current stage (nothing is lost on an error)."""
        with self.unit() as session:
            candidate = get_row(session, Candidate, candidate_id)
            row = _row(session, candidate, interview_stages.pipeline(session, candidate.interview_id))
            row.answers = dict(answers)

    def record(self, candidate_id: int, position: int, outcome: StageOutcome) -> Candidate:
        """Store the judgement of one stage and move the candidate on as the rules say."""
        with self.unit() as session:
            candidate = get_row(session, Candidate, candidate_id)
            stages = interview_stages.pipeline(session, candidate.interview_id)
            if position != candidate.stage_position:
                raise Invalid(f"candidate {candidate_id} is at stage {candidate.stage_position + 1}, "
                              f"not {position + 1}")
            row = _row(session, candidate, stages)
            _judged(row, outcome, self.now())
            self._move(session, candidate, stages, outcome.passed, outcome.knocked_out)
            _log_decision(candidate, stages[position], outcome)
            return candidate

    def override(
        self, who: Principal, candidate_id: int, position: int, *, advance: bool, reason: str,
    ) -> Candidate:
        """A recruiter's decision on a stage: advance the candidate (past a knock-out too) or knock
        them out. The automatic result stays in `detail`; the audit log keeps who, when and why."""
        reason = reason.strip()
        if not reason:
            raise Invalid("say why you override the result (it is kept in the audit log)")
        with self.unit() as session:
            candidate = get_row(session, Candidate, candidate_id)
            stages = interview_stages.pipeline(session, candidate.interview_id)
            if not 0 <= position <= candidate.stage_position or position >= len(stages):
                raise Invalid(f"stage {position + 1} is not one this candidate has reached")
            row = _row(session, candidate, stages, position)
            before = row.status
            row.status = (StageStatus.PASSED if advance else StageStatus.KNOCKED_OUT).value
            row.reason = f"Overridden by a recruiter: {reason[:1000]}"
            row.overridden_by, row.finished_at = who.user_id, self.now()
            row.detail = {**row.detail, "automatic": {"status": before}}
            self._move(session, candidate, stages, advance, not advance, manual=True, position=position)
        self.audit.record(who, "stage.override", "candidate", candidate_id, stage=position + 1,
                          kind=stages[position].kind.value, before=before, after=row.status,
                          reason=reason[:300])
        log.info("stages.decision", extra={"candidate_id": candidate_id, "stage": position + 1,
                                           "decision": "override", "status": row.status, "reason": reason})
        return candidate

    def _move(
        self, session: Session, candidate: Candidate, stages: Sequence[StageSpec], passed: bool | None,
        knocked_out: bool, *, manual: bool = False, position: int | None = None,
    ) -> None:
        cid, at = candidate.id or 0, candidate.stage_position if position is None else position
        if not manual and CandidateStatus(candidate.status) in HUMAN:
            return  # a recruiter decided: the result is on the profile, the candidate stays put
        kind = stages[at].kind.value
        if knocked_out:
            enter_stage(session, cid, at, kind, CandidateStatus.KNOCKED_OUT)
        elif passed and at + 1 < len(stages):
            nxt = stages[at + 1].kind
            enter_stage(session, cid, at + 1, nxt.value, CandidateStatus.INVITED, self.now())
            _row(session, candidate, stages, at + 1)
            if nxt is StageKind.RESUME:
                self._queue_resume(cid)
        elif passed:
            enter_stage(session, cid, at, kind, CandidateStatus.COMPLETED)
        elif manual or candidate.status in OPEN:
            enter_stage(session, cid, at, kind, CandidateStatus.EVALUATING)  # waits for a recruiter

    def _queue_resume(self, candidate_id: int) -> None:
        if self.queue is not None:
            self.queue.enqueue(RESUME_JOB, {"candidate_id": candidate_id})

    def resume_arrived(self, candidate_id: int) -> bool:
        """A resume was stored for the candidate: queue its screen when they are at a resume stage."""
        place = self.place(candidate_id)
        if place.stage.kind is not StageKind.RESUME or place.candidate.status not in (
                CandidateStatus.NEW.value, CandidateStatus.INVITED.value):
            return False
        self._queue_resume(candidate_id)
        return True


    # -- retention (`workspace.retention_sweep`): the result stays, its text goes ---------------

    def forget_answers(self, cutoff: datetime) -> int:
        """Empty the answers (what the candidate typed or texted) of stages finished before `cutoff`,
        with the mark in `detail`; returns how many stages had answers."""
        at, changed = self.now(), 0
        with self.unit() as session:
            for row in session.exec(select(CandidateStage).where(col(CandidateStage.finished_at) < cutoff)):
                if row.answers:
                    row.answers, row.detail = {}, with_mark(row.detail, ANSWERS, at)
                    changed += 1
        return changed

    def forget_scores(self, cutoff: datetime) -> int:
        """Remove the score, quoted evidence, judgement (`detail`) and reason of stages finished before
        `cutoff`; the status (the decision) stays. Returns how many stages had any."""
        at, changed = self.now(), 0
        with self.unit() as session:
            for row in session.exec(select(CandidateStage).where(col(CandidateStage.finished_at) < cutoff)):
                marks = {k: v for k, v in row.detail.items() if k == MARK}
                if row.score is None and not row.evidence and marks == row.detail and row.reason in (
                        "", REMOVED_REASON):
                    continue
                row.score, row.evidence, row.reason = None, [], REMOVED_REASON
                row.detail = with_mark(marks, SCORES, at)
                changed += 1
        return changed


def _row(
    session: Session, candidate: Candidate, stages: Sequence[StageSpec], position: int | None = None,
) -> CandidateStage:
    """The candidate's row for a stage (their current one by default), made when missing."""
    at = candidate.stage_position if position is None else position
    if not 0 <= at < len(stages):
        raise NotFound(f"candidate {candidate.id} has no stage {at + 1}")
    row = session.exec(select(CandidateStage).where(
        CandidateStage.candidate_id == candidate.id, CandidateStage.position == at)).first()
    if row is None:
        row = CandidateStage(candidate_id=candidate.id or 0, position=at, kind=stages[at].kind.value)
        session.add(row)
        session.flush()
    return row


def _judged(row: CandidateStage, outcome: StageOutcome, now: Any) -> None:
    if outcome.knocked_out:
        status = StageStatus.KNOCKED_OUT
    else:
        status = StageStatus.PASSED if outcome.passed else StageStatus.NOT_PASSED
    row.status, row.score, row.reason = status.value, outcome.score, outcome.reason[:4000]
    row.evidence = [_evidence(e) for e in outcome.evidence]
    row.detail, row.finished_at = dict(outcome.detail), now


def _evidence(item: Evidence) -> dict[str, str]:
    return {"quote": item.quote, "source": item.source}


def _log_decision(candidate: Candidate, spec: StageSpec, outcome: StageOutcome) -> None:
    decision = "knocked_out" if outcome.knocked_out else {True: "passed", False: "not_passed"}.get(
        outcome.passed, "needs_review")  # type: ignore[arg-type]
    log.info("stages.decision", extra={
        "candidate_id": candidate.id, "stage": candidate.stage_position + 1, "kind": spec.kind.value,
        "decision": decision, "score": outcome.score, "reason": outcome.reason[:300],
        "quote": outcome.evidence[0].quote[:200] if outcome.evidence else "",
    })


def pipelines(engine: Any, interview_ids: Sequence[int]) -> dict[int, tuple[StageSpec, ...]]:
    """The pipeline of each of these interview versions (the board's columns, in one query each)."""
    with Repo(engine).unit() as session:
        return {i: interview_stages.pipeline(session, i) for i in sorted(set(interview_ids))}
