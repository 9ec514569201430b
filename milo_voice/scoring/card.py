"""One scoring run: ask a scorer about every question, verify its quotes, weigh the result.

This is where "never shown as fact" is enforced: a quote that is not a verbatim span of the
candidate's turns is moved to `rejected_quotes` and the criterion is flagged for review; a
dealbreaker knocks the candidate out only with a verified quote; an undecided criterion is
flagged, never guessed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from milo_voice.scoring.quotes import verify
from milo_voice.scoring.result import CriterionResult, Judgement, Knockout, QuestionResult, ScoreCard
from milo_voice.scoring.rubric import Bands, Criterion, CriterionKind, QuestionRubric
from milo_voice.scoring.scorer import QuestionInput, Scorer
from milo_voice.scoring.transcript import Transcript

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScriptedQuestion:
    """A question of the interview with its rubric (None: the question is not scored)."""

    position: int
    text: str
    rubric: QuestionRubric | None


def input_hash(fingerprints: Sequence[str]) -> str:
    """SHA-256 of the scorer inputs of a whole session, in question order."""
    digest = hashlib.sha256()
    for text in fingerprints:
        digest.update(text.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def points(result: CriterionResult) -> float | None:
    """A criterion's contribution on the 0-100 scale: scored 1..5 -> 0..100; pass 100, fail 0."""
    if result.kind is CriterionKind.PASS_FAIL and result.passed is not None:
        return 100.0 if result.passed else 0.0
    if result.kind is CriterionKind.SCORED and result.score is not None:
        return (result.score - 1) * 25.0
    return None


def overall(questions: Sequence[QuestionResult]) -> float | None:
    """Weighted mean of every decided, weighted scored/pass-fail criterion, 0-100; None if none."""
    total = weight = 0.0
    for question in questions:
        for result in question.criteria:
            value = points(result)
            if value is not None and result.weight > 0:
                total += value * result.weight
                weight += result.weight
    return round(total / weight, 1) if weight else None


def _question_input(
    question: ScriptedQuestion, rubric: QuestionRubric, transcript: Transcript
) -> QuestionInput:
    """What a scorer sees of `question`: the answers' text, and their word timings for cutting quotes."""
    answers = transcript.answers(question.position)
    return QuestionInput(
        position=question.position,
        question=question.text,
        rubric=rubric,
        answers=tuple(u.text for u in answers),
        asked=tuple(u.text for u in transcript.asked(question.position)),
        answer_words=tuple(u.words for u in answers),
    )


async def score_transcript(
    scorer: Scorer,
    questions: Sequence[ScriptedQuestion],
    transcript: Transcript,
    *,
    bands: Bands,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ScoreCard:
    """Score every question that has a rubric; returns the card (nothing is stored here)."""
    results: list[QuestionResult] = []
    fingerprints: list[str] = []
    for question in questions:
        if question.rubric is None:
            continue
        item = _question_input(question, question.rubric, transcript)
        fingerprints.append(scorer.fingerprint(item))
        judgements = {j.criterion_id: j for j in await scorer.judge(item)}
        criteria = [
            _checked(c, judgements.get(c.id), transcript, question.position) for c in question.rubric.criteria
        ]
        results.append(
            QuestionResult(
                position=question.position,
                question=question.text,
                rubric_version=question.rubric.version,
                answered=bool(item.answers),
                criteria=criteria,
            )
        )
    knockout = _knockout(results)
    total = overall(results)
    reasons = [
        f"Q{q.position + 1} {c.name}: {c.review_reason}"
        for q in results
        for c in q.criteria
        if c.needs_review
    ]
    card = ScoreCard(
        scorer=scorer.name,
        scorer_label=scorer.label,
        model=scorer.model,
        prompt_hash=input_hash(fingerprints),
        created_at=now(),
        bands=bands,
        overall=total,
        band=bands.band(total) if total is not None else "",
        knockout=knockout,
        needs_review=bool(reasons),
        review_reasons=reasons,
        questions=results,
    )
    log.info("scoring.card", extra={"scorer": scorer.name, "questions": len(results), "review": len(reasons)})
    return card


def _checked(
    criterion: Criterion, judgement: Judgement | None, transcript: Transcript, position: int
) -> CriterionResult:
    """The judgement with its quotes verified against the transcript, and review flags set."""
    if judgement is None:
        judgement = Judgement(criterion.id, None, None, "The scorer returned nothing for this criterion.")
    prefer = transcript.answers(position)
    verified, rejected = [], []
    for text in judgement.quotes:
        found = verify(text, transcript, prefer)
        if found is None:
            rejected.append(text)
        elif found not in verified:
            verified.append(found)
    score = judgement.score if criterion.kind is not CriterionKind.DEALBREAKER else None
    if score is not None and not 1 <= score <= 5:
        score = None
    passed = judgement.passed if criterion.kind is not CriterionKind.SCORED else None
    reason = ""
    if rejected:
        reason = f"{len(rejected)} quote(s) are not in the transcript and were rejected"
    elif criterion.kind is CriterionKind.SCORED and score is None:
        reason = "the scorer gave no valid 1-5 score"
    elif criterion.kind is not CriterionKind.SCORED and passed is None:
        reason = "the scorer could not decide pass or fail"
    elif criterion.kind is CriterionKind.DEALBREAKER and passed is False and not verified:
        reason = "a failed dealbreaker needs a verified quote before it knocks anyone out"
    elif judgement.review:
        reason = judgement.review
    return CriterionResult(
        criterion_id=criterion.id,
        name=criterion.name,
        kind=criterion.kind,
        weight=criterion.weight,
        score=score,
        passed=passed,
        rationale=judgement.rationale.strip()[:2000],
        quotes=verified,
        rejected_quotes=rejected,
        needs_review=bool(reason),
        review_reason=reason,
    )


def _knockout(results: Sequence[QuestionResult]) -> Knockout | None:
    """The first failed dealbreaker that is backed by a verified quote."""
    for question in results:
        for c in question.criteria:
            if c.kind is CriterionKind.DEALBREAKER and c.passed is False and c.quotes:
                return Knockout(
                    question_position=question.position,
                    criterion_id=c.criterion_id,
                    reason=f"{c.name}: {c.rationale}",
                    quote=c.quotes[0],
                )
    return None
