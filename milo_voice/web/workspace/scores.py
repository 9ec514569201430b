"""Scores with evidence quotes for the profile, read from the scoring area when it is installed.

The scoring area (issue 6) owns its tables and API; until it provides them, profiles show no
scores. Kept apart so the profile page does not depend on scoring's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request


@dataclass(frozen=True, slots=True)
class Quote:
    text: str
    start: float


@dataclass(frozen=True, slots=True)
class ScoreView:
    label: str
    value: str
    rationale: str = ""
    quotes: tuple[Quote, ...] = field(default=())


def scores_for(request: Request, session_id: int) -> list[ScoreView]:
    """The session's scores, or [] while no scoring is stored (blocking: run in a thread)."""
    return []
