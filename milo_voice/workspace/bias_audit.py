"""The bias audit of one interview over a date range, in the way NYC Local Law 144 asks (issue 20 item 4).

Pure functions over plain `AuditRow`s (`audit`), so the arithmetic is testable without a database, and
one thin loader (`load_rows`) that reads the rows from the workspace. Definitions (docs/bias_audit.md):

- population: the interview's candidates (every version of its slug) added in the date range, both
  days included (UTC), who were assessed: status completed, shortlisted, dismissed or knocked_out, or
  moved on by a stage of the pipeline;
- selected: moved on. Status shortlisted (a recruiter's advance), or at least one pipeline stage
  passed (automatically or by a recruiter's override);
- scoring rate: the share of a category's scored candidates whose overall score is strictly above
  the median overall score of the whole scored population; beside it, the share banded Good or Great;
- impact ratio: a category's rate / the highest rate of the categories of the same kind (sex, race,
  sex x race) that are not small; under 0.8 is a warning (the four-fifths rule);
- unknown: no answer, or "prefer not to say"; counted and reported, never a category of a ratio;
- small: a category with fewer than 2% of the population; LL144 lets an auditor leave it out of the
  impact ratios, which this audit does (its n and rates are still reported, it gets no ratio).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import median
from typing import Any

from milo_voice.store.tables import CandidateStatus, RaceEthnicity, Sex, StageStatus
from milo_voice.workspace.candidates import CandidateQuery, Candidates
from milo_voice.workspace.pipeline import Pipeline
from milo_voice.workspace.self_identification import RACE_LABELS, SEX_LABELS, SelfIdentifications

SMALL_SHARE = 0.02
"""Categories under this share of the population are flagged small and left out of impact ratios."""
FOUR_FIFTHS = 0.8
"""An impact ratio under this is a warning (the four-fifths rule)."""
ASSESSED = (
    CandidateStatus.COMPLETED.value,
    CandidateStatus.SHORTLISTED.value,
    CandidateStatus.DISMISSED.value,
    CandidateStatus.KNOCKED_OUT.value,
)
"""Statuses of candidates the interview assessed (besides those a stage moved on)."""
GOOD_BANDS = ("good", "great")
DIMENSIONS = ("sex", "race_ethnicity", "intersection")
DIMENSION_LABELS = {"sex": "Sex", "race_ethnicity": "Race/ethnicity", "intersection": "Sex x race/ethnicity"}
UNKNOWN = "Unknown"
SEXES = tuple(s.value for s in Sex if s is not Sex.DECLINED)
RACES = tuple(r.value for r in RaceEthnicity if r is not RaceEthnicity.DECLINED)


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One assessed candidate, as the audit needs them: answers ("" if none), outcome, score."""

    candidate_id: int
    sex: str
    race_ethnicity: str
    selected: bool
    score: float | None
    band: str = ""


@dataclass(frozen=True, slots=True)
class Rates:
    """Counts and rates of one category (or of the unknowns of one dimension)."""

    n: int
    selected: int
    scored: int
    above_median: int
    good_or_great: int

    @property
    def selection_rate(self) -> float | None:
        return self.selected / self.n if self.n else None

    @property
    def scoring_rate(self) -> float | None:
        return self.above_median / self.scored if self.scored else None

    @property
    def good_rate(self) -> float | None:
        return self.good_or_great / self.scored if self.scored else None


@dataclass(frozen=True, slots=True)
class Group:
    """One line of the audit: a category of a dimension, its rates and its impact ratios."""

    dimension: str
    category: str
    rates: Rates
    share: float
    """n / the whole population (unknowns included)."""
    small: bool
    unknown: bool = False
    selection_ratio: float | None = None
    scoring_ratio: float | None = None
    good_ratio: float | None = None


@dataclass(frozen=True, slots=True)
class AuditResult:
    interview: str
    start: date
    end: date
    population: int
    selected: int
    scored: int
    median_score: float | None
    groups: tuple[Group, ...]
    warnings: tuple[str, ...]

    def unknowns(self, dimension: str) -> int:
        return sum(g.rates.n for g in self.groups if g.dimension == dimension and g.unknown)


# -- the arithmetic ---------------------------------------------------------------------------------


def sex_of(row: AuditRow) -> str:
    return row.sex if row.sex in SEXES else ""


def race_of(row: AuditRow) -> str:
    return row.race_ethnicity if row.race_ethnicity in RACES else ""


def intersection_of(row: AuditRow) -> str:
    return f"{sex_of(row)}|{race_of(row)}" if sex_of(row) and race_of(row) else ""


def intersection_label(key: str) -> str:
    sex, race = key.split("|")
    return f"{SEX_LABELS[sex]} / {RACE_LABELS[race]}"


CATEGORIES: dict[str, tuple[Callable[[AuditRow], str], tuple[str, ...], Callable[[str], str]]] = {
    "sex": (sex_of, SEXES, SEX_LABELS.__getitem__),
    "race_ethnicity": (race_of, RACES, RACE_LABELS.__getitem__),
    "intersection": (intersection_of, tuple(f"{s}|{r}" for s in SEXES for r in RACES), intersection_label),
}
"""Dimension -> (the category of a row, "" if unknown; the categories in report order; their labels)."""


def rates(rows: Sequence[AuditRow], median_score: float | None) -> Rates:
    scored = [r for r in rows if r.score is not None]
    above = sum(1 for r in scored if median_score is not None and (r.score or 0.0) > median_score)
    return Rates(
        n=len(rows),
        selected=sum(1 for r in rows if r.selected),
        scored=len(scored),
        above_median=above,
        good_or_great=sum(1 for r in scored if r.band in GOOD_BANDS),
    )


def ratio(rate: float | None, best: float | None) -> float | None:
    if rate is None or not best:
        return None
    return rate / best


def dimension(rows: Sequence[AuditRow], name: str, median_score: float | None) -> list[Group]:
    """The groups of one dimension: every category (small ones flagged, no ratio), then the unknowns."""
    category_of, categories, label = CATEGORIES[name]
    total = len(rows)
    plain = []
    for key in categories:
        found = rates([r for r in rows if category_of(r) == key], median_score)
        share = found.n / total if total else 0.0
        plain.append(Group(name, label(key), found, share, small=share < SMALL_SHARE))
    counted = [g for g in plain if not g.small]
    best = {
        "selection": max((g.rates.selection_rate or 0.0 for g in counted), default=0.0),
        "scoring": max((g.rates.scoring_rate or 0.0 for g in counted), default=0.0),
        "good": max((g.rates.good_rate or 0.0 for g in counted), default=0.0),
    }
    groups = [
        g
        if g.small
        else Group(
            g.dimension,
            g.category,
            g.rates,
            g.share,
            g.small,
            selection_ratio=ratio(g.rates.selection_rate, best["selection"]),
            scoring_ratio=ratio(g.rates.scoring_rate, best["scoring"]),
            good_ratio=ratio(g.rates.good_rate, best["good"]),
        )
        for g in plain
    ]
    unknown = rates([r for r in rows if not category_of(r)], median_score)
    unknown_share = unknown.n / total if total else 0.0
    groups.append(Group(name, UNKNOWN, unknown, unknown_share, small=False, unknown=True))
    return groups


def warnings_of(groups: Sequence[Group]) -> list[str]:
    """One line per impact ratio under four fifths."""
    out = []
    for g in groups:
        for what, value in (
            ("selection", g.selection_ratio),
            ("scoring", g.scoring_ratio),
            ("Good-or-Great", g.good_ratio),
        ):
            if value is not None and value < FOUR_FIFTHS:
                out.append(
                    f"WARNING: {DIMENSION_LABELS[g.dimension]} {g.category}: {what} impact ratio "
                    f"{value:.2f} is under {FOUR_FIFTHS} (the four-fifths rule)"
                )
    return out


def audit(rows: Sequence[AuditRow], *, interview: str, start: date, end: date) -> AuditResult:
    """The whole audit of these assessed candidates (see the module's docstring for the definitions)."""
    scores = [r.score for r in rows if r.score is not None]
    median_score = median(scores) if scores else None
    groups = [g for name in DIMENSIONS for g in dimension(rows, name, median_score)]
    return AuditResult(
        interview=interview,
        start=start,
        end=end,
        population=len(rows),
        selected=sum(1 for r in rows if r.selected),
        scored=len(scores),
        median_score=median_score,
        groups=tuple(groups),
        warnings=tuple(warnings_of(groups)),
    )


# -- the loader ---------------------------------------------------------------------------------------


def load_rows(engine: Any, slug: str, start: date, end: date) -> tuple[str, list[AuditRow]]:
    """The interview's title and its assessed candidates added from `start` to `end` (both included, UTC)."""
    since = datetime(start.year, start.month, start.day, tzinfo=UTC)
    until = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    found = Candidates(engine).search(CandidateQuery(slug=slug, limit=10**9))
    found = [r for r in found if since <= r.candidate.created_at < until]
    ids = [r.candidate.id for r in found if r.candidate.id is not None]
    passed = {
        cid
        for cid, stages in Pipeline(engine).results(ids).items()
        if any(s.status == StageStatus.PASSED.value for s in stages.values())
    }
    answers = SelfIdentifications(engine).for_audit(ids)
    title = found[0].interview.title if found else slug
    rows = []
    for r in found:
        cid = r.candidate.id or 0
        selected = r.candidate.status == CandidateStatus.SHORTLISTED.value or cid in passed
        if not selected and r.candidate.status not in ASSESSED:
            continue
        given = answers.get(cid)
        rows.append(
            AuditRow(
                cid,
                given.sex if given else "",
                given.race_ethnicity if given else "",
                selected,
                r.score,
                r.band,
            )
        )
    return title, rows
