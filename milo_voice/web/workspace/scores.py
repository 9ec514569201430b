"""Scores with evidence quotes for the profile, read from the scoring area's `score` and `job` tables.

The scoring area (issue 6) owns those tables and `ScoringStore`; this module only reads them and
turns the newest score card into plain view data, so the profile template never depends on
scoring's internals. Nothing here is shown as fact that the scorer did not back: flagged
criteria say so, rejected quotes are listed as "not evidence" with no time to seek to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request

from milo_voice.scoring.pdf import verdict as report_verdict
from milo_voice.scoring.result import OFFLINE, CriterionResult, ScoreCard
from milo_voice.scoring.rubric import BAND_MEANINGS, CriterionKind
from milo_voice.scoring.service import SCORE_JOB
from milo_voice.scoring.store import ScoringStore
from milo_voice.store.tables import ScoreRecord
from milo_voice.web.repos import repo

OFFLINE_BADGE = "Offline scorer: deterministic word and meaning matching (small local model), no LLM"
"""Shown beside every offline score: the issue asks that it is never mistaken for a model's."""
KIND_LABELS = {
    CriterionKind.SCORED: "scored 1-5",
    CriterionKind.PASS_FAIL: "pass / fail",
    CriterionKind.DEALBREAKER: "dealbreaker",
}
MAX_EARLIER = 10
"""Earlier runs listed by date on the profile; the rest are only counted."""


@dataclass(frozen=True, slots=True)
class Quote:
    text: str
    start: float
    """Seconds into the recording (the player seeks there)."""
    estimated: bool = False
    """The offset was interpolated within the turn (shown with a `~`)."""


@dataclass(frozen=True, slots=True)
class CriterionView:
    name: str
    kind: str
    weight: float
    verdict: str
    rationale: str
    quotes: tuple[Quote, ...] = ()
    rejected: tuple[str, ...] = ()
    """Quotes the scorer offered that are not in the transcript: listed as not evidence."""
    flagged: bool = False
    review_reason: str = ""


@dataclass(frozen=True, slots=True)
class QuestionView:
    number: int
    text: str
    rubric_version: int
    answered: bool
    criteria: tuple[CriterionView, ...]


@dataclass(frozen=True, slots=True)
class KnockoutView:
    question_number: int
    reason: str
    quote: Quote


@dataclass(frozen=True, slots=True)
class EarlierRun:
    at: datetime
    scorer: str
    overall: float | None
    band: str
    knocked_out: bool
    needs_review: bool


@dataclass(frozen=True, slots=True)
class ProfileScores:
    """What the profile's Scores card shows for one session."""

    state: str
    """`scored`, `evaluating` (a job is queued or running, no card yet) or `not_scored`."""
    rescoring: bool = False
    """A newer scoring job is queued or running while an older card is shown."""
    overall: float | None = None
    band: str = ""
    band_great: float = 0.0
    band_good: float = 0.0
    offline: bool = False
    scorer_label: str = ""
    model: str = ""
    scored_at: datetime | None = None
    needs_review: bool = False
    review_reasons: tuple[str, ...] = ()
    knockout: KnockoutView | None = None
    questions: tuple[QuestionView, ...] = ()
    earlier: tuple[EarlierRun, ...] = ()
    earlier_count: int = 0
    """All kept earlier runs (re-scoring never deletes); `earlier` lists the newest of them."""
    not_listed: int = 0

    @property
    def badge(self) -> str:
        return OFFLINE_BADGE if self.offline else ""

    @property
    def band_meaning(self) -> str:
        return BAND_MEANINGS.get(self.band, "")


def verdict(result: CriterionResult) -> str:
    """The report's verdict ("4/5", "pass", "fail", "undecided"), in the page's lower case."""
    return report_verdict(result).lower()


def _criterion(result: CriterionResult) -> CriterionView:
    return CriterionView(
        name=result.name,
        kind=KIND_LABELS.get(result.kind, result.kind.value),
        weight=result.weight,
        verdict=verdict(result),
        rationale=result.rationale,
        quotes=tuple(Quote(q.text, q.start_s, q.estimated_timing) for q in result.quotes),
        rejected=tuple(result.rejected_quotes),
        flagged=result.needs_review,
        review_reason=result.review_reason,
    )


def _earlier(row: ScoreRecord) -> EarlierRun:
    return EarlierRun(row.created_at, row.scorer, row.overall, row.band, row.knocked_out, row.needs_review)


def card_view(card: ScoreCard, runs: list[ScoreRecord], *, rescoring: bool = False) -> ProfileScores:
    """The view of the newest card; `runs` are every stored run, newest first (the card is runs[0])."""
    knockout = None
    if card.knockout is not None:
        k = card.knockout
        quote = Quote(k.quote.text, k.quote.start_s, k.quote.estimated_timing)
        knockout = KnockoutView(k.question_position + 1, k.reason, quote)
    older = runs[1:]
    return ProfileScores(
        state="scored",
        rescoring=rescoring,
        overall=card.overall,
        band=card.band,
        band_great=card.bands.great,
        band_good=card.bands.good,
        offline=card.scorer == OFFLINE,
        scorer_label=card.scorer_label,
        model=card.model,
        scored_at=card.created_at,
        needs_review=card.needs_review,
        review_reasons=tuple(card.review_reasons),
        knockout=knockout,
        questions=tuple(
            QuestionView(
                q.position + 1, q.question, q.rubric_version, q.answered, tuple(map(_criterion, q.criteria))
            )
            for q in card.questions
        ),
        earlier=tuple(_earlier(r) for r in older[:MAX_EARLIER]),
        earlier_count=len(older),
        not_listed=max(len(older) - MAX_EARLIER, 0),
    )


def load(store: ScoringStore, session_id: int, interview_id: int) -> ProfileScores | None:
    """The session's scores; None when there is nothing to say (the interview has no rubric).

    Blocking (a few short reads): call it from a thread.
    """
    runs = store.scores(session_id)
    card = ScoreCard.model_validate(runs[0].card) if runs else None
    pending = store.job_pending(SCORE_JOB, session_id)
    if card is not None and card.questions:
        return card_view(card, runs, rescoring=pending)
    if not any(q.rubric is not None for q in store.questions(interview_id)):
        return None  # not a scored interview: no card at all, not an error
    return ProfileScores(state="evaluating" if pending else "not_scored")


def scores_for(request: Request, session_id: int, interview_id: int) -> ProfileScores | None:
    """The session's scores for the profile (blocking: run in a thread)."""
    return load(repo(request, ScoringStore), session_id, interview_id)
