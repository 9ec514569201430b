"""Triage by score: the band filter (Great / Good / Bad / not scored) and the score sort of the
candidate list, the board and the API, over the score of the session that counts.

The score of a session is its newest scoring run (`score` rows are append-only; re-scoring adds
one). A session without a run, or whose run scored nothing, is "unscored".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlmodel import Session, col, select

from milo_voice.store.tables import ScoreRecord

BANDS = ("great", "good", "bad", "unscored")
"""Band filter values, best first; "unscored" matches candidates without a score."""
BAND_LABELS = {"great": "Great", "good": "Good", "bad": "Bad", "unscored": "Not scored"}


@dataclass(frozen=True, slots=True)
class Scored:
    overall: float | None
    band: str


class HasScore(Protocol):
    @property
    def score(self) -> float | None: ...
    @property
    def band(self) -> str: ...


Row = TypeVar("Row", bound=HasScore)


def latest_scores(session: Session, session_ids: Sequence[int]) -> dict[int, Scored]:
    """The newest scoring run of each of these sessions, inside the caller's transaction."""
    found: dict[int, Scored] = {}
    if not session_ids:
        return found
    runs = session.exec(
        select(ScoreRecord).where(col(ScoreRecord.session_id).in_(list(session_ids))).order_by(col(ScoreRecord.id))
    )
    for run in runs:
        found[run.session_id] = Scored(run.overall, run.band if run.overall is not None else "")
    return found


def band_of(row: HasScore) -> str:
    return row.band if row.band in BANDS else "unscored"


def triage(rows: list[Row], *, band: str = "", by_score: bool = False, descending: bool = True) -> list[Row]:
    """Keep the rows in `band` (all if empty); with `by_score`, order by score (unscored last
    either way, ties in their given order)."""
    kept = [r for r in rows if not band or band_of(r) == band]
    if not by_score:
        return kept
    scored = sorted((r for r in kept if r.score is not None), key=lambda r: r.score or 0.0,
                    reverse=descending)
    return scored + [r for r in kept if r.score is None]
