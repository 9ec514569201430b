"""The bias audit (issue 20 item 4) over a synthetic population of 100 whose rates are worked out by hand.

Every expected value below is written as the arithmetic on the counts in `CELLS`, never taken from
the code under test.
"""

from __future__ import annotations

from datetime import date

import pytest

from milo_voice.workspace.bias_audit import AuditResult, AuditRow, Group, audit

HIGH, MID, LOW = 90.0, 50.0, 20.0
"""Scores of the population: banded great, good and bad."""
BANDS = {HIGH: "great", MID: "good", LOW: "bad"}

CELLS: list[tuple[str, str, int, int, int, int, int, int]] = [
    # sex, race/ethnicity, n, selected, scored high, mid, low, unscored
    ("male", "white", 20, 12, 10, 6, 4, 0),
    ("male", "black_or_african_american", 10, 7, 4, 4, 2, 0),
    ("male", "asian", 10, 3, 2, 4, 2, 2),
    ("female", "white", 20, 8, 6, 8, 6, 0),
    ("female", "black_or_african_american", 10, 2, 2, 4, 4, 0),
    ("female", "hispanic_or_latino", 10, 2, 2, 2, 6, 0),
    ("female", "american_indian_or_alaska_native", 1, 1, 1, 0, 0, 0),  # 1% of 100: a small group
    ("declined", "white", 5, 2, 1, 2, 2, 0),  # sex: prefer not to say -> unknown
    ("", "", 10, 4, 2, 3, 5, 0),  # no self-identification at all
    ("male", "declined", 4, 1, 1, 1, 2, 0),  # race: prefer not to say -> unknown
]
# Totals: n = 20+10+10+20+10+10+1+5+10+4 = 100; scored = 100 - 2 = 98;
# high = 10+4+2+6+2+2+1+1+2+1 = 31, mid = 6+4+4+8+4+2+0+2+3+1 = 34, low = 4+2+2+6+4+6+0+2+5+2 = 33.
# Sorted, the 98 scores are 33 lows, 34 mids (positions 34..67), 31 highs: the median (mean of the
# 49th and 50th) is MID = 50, so "above the median" means the highs only.

START, END = date(2026, 1, 1), date(2026, 6, 30)


def population() -> list[AuditRow]:
    rows = []
    for sex, race, n, selected, high, mid, low, unscored in CELLS:
        assert high + mid + low + unscored == n
        scores: list[float | None] = [HIGH] * high + [MID] * mid + [LOW] * low + [None] * unscored
        for i, score in enumerate(scores):
            rows.append(AuditRow(len(rows) + 1, sex, race, i < selected, score, BANDS.get(score or -1.0, "")))
    return rows


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return audit(population(), interview="Warehouse associate", start=START, end=END)


def group(result: AuditResult, dimension: str, category: str) -> Group:
    found = [g for g in result.groups if g.dimension == dimension and g.category == category]
    assert len(found) == 1, (dimension, category)
    return found[0]


def test_the_population_its_median_and_totals(result: AuditResult) -> None:
    assert result.population == 100
    assert result.scored == 98
    assert result.selected == 12 + 7 + 3 + 8 + 2 + 2 + 1 + 2 + 4 + 1
    assert result.median_score == MID


def test_rates_and_impact_ratios_by_sex(result: AuditResult) -> None:
    male, female = group(result, "sex", "Male"), group(result, "sex", "Female")
    # male: cells 1, 2, 3 and 10; female: cells 4 to 7
    assert (male.rates.n, male.rates.selected, male.rates.scored) == (
        20 + 10 + 10 + 4,
        12 + 7 + 3 + 1,
        44 - 2,
    )
    assert (female.rates.n, female.rates.selected, female.rates.scored) == (
        20 + 10 + 10 + 1,
        8 + 2 + 2 + 1,
        41,
    )
    assert male.rates.selection_rate == pytest.approx(23 / 44)
    assert female.rates.selection_rate == pytest.approx(13 / 41)
    assert male.selection_ratio == pytest.approx(1.0)
    assert female.selection_ratio == pytest.approx((13 / 41) / (23 / 44))  # 0.607
    assert male.rates.scoring_rate == pytest.approx((10 + 4 + 2 + 1) / 42)
    assert female.rates.scoring_rate == pytest.approx((6 + 2 + 2 + 1) / 41)
    assert female.scoring_ratio == pytest.approx((11 / 41) / (17 / 42))  # 0.663
    assert male.rates.good_rate == pytest.approx((16 + 8 + 6 + 2) / 42)
    assert female.rates.good_rate == pytest.approx((14 + 6 + 4 + 1) / 41)
    assert female.good_ratio == pytest.approx((25 / 41) / (32 / 42))  # 0.8003: just over four fifths
    assert female.share == pytest.approx(41 / 100)


def test_rates_and_impact_ratios_by_race(result: AuditResult) -> None:
    white = group(result, "race_ethnicity", "White")  # cells 1, 4 and 8 (sex unknown, race known)
    assert (white.rates.n, white.rates.selected, white.rates.scored) == (20 + 20 + 5, 12 + 8 + 2, 45)
    black = group(result, "race_ethnicity", "Black or African American")
    asian = group(result, "race_ethnicity", "Asian")
    hispanic = group(result, "race_ethnicity", "Hispanic or Latino")
    assert white.selection_ratio == pytest.approx(1.0)  # 22/45 = 0.489, the highest of the counted
    assert black.selection_ratio == pytest.approx((9 / 20) / (22 / 45))
    assert asian.selection_ratio == pytest.approx((3 / 10) / (22 / 45))
    assert hispanic.selection_ratio == pytest.approx((2 / 10) / (22 / 45))
    assert black.scoring_ratio == pytest.approx((6 / 20) / (17 / 45))  # 0.794
    assert asian.rates.scoring_rate == pytest.approx(2 / 8)  # the two unscored are not in the denominator
    assert asian.good_ratio == pytest.approx(1.0)  # 6/8 = 0.75 is the highest Good-or-Great rate
    assert white.good_ratio == pytest.approx((33 / 45) / (6 / 8))
    assert hispanic.good_ratio == pytest.approx((4 / 10) / (6 / 8))


def test_intersections(result: AuditResult) -> None:
    mb = group(result, "intersection", "Male / Black or African American")
    mw = group(result, "intersection", "Male / White")
    fh = group(result, "intersection", "Female / Hispanic or Latino")
    assert mb.selection_ratio == pytest.approx(1.0)  # 7/10 is the highest
    assert mw.selection_ratio == pytest.approx((12 / 20) / (7 / 10))
    assert fh.selection_ratio == pytest.approx((2 / 10) / (7 / 10))
    assert mw.scoring_ratio == pytest.approx(1.0)  # 10/20
    assert mb.scoring_ratio == pytest.approx((4 / 10) / (10 / 20))  # exactly 0.8: not under, no warning
    assert fh.good_ratio == pytest.approx((4 / 10) / (16 / 20))


def test_unknowns_are_counted_and_left_out_of_the_ratios(result: AuditResult) -> None:
    assert result.unknowns("sex") == 5 + 10  # prefer not to say + no answer
    assert result.unknowns("race_ethnicity") == 10 + 4
    assert result.unknowns("intersection") == 5 + 10 + 4
    unknown = group(result, "sex", "Unknown")
    assert unknown.unknown and unknown.rates.selected == 2 + 4
    assert (unknown.selection_ratio, unknown.scoring_ratio, unknown.good_ratio) == (None, None, None)
    assert not any(g.category == "Prefer not to say" for g in result.groups)


def test_a_small_group_is_flagged_and_is_not_the_reference(result: AuditResult) -> None:
    native = group(result, "race_ethnicity", "American Indian or Alaska Native")
    assert native.small and native.share == pytest.approx(1 / 100)
    assert native.rates.selection_rate == pytest.approx(1.0)  # 1 of 1: highest, yet not the reference
    assert native.selection_ratio is None
    assert group(result, "race_ethnicity", "White").selection_ratio == pytest.approx(1.0)
    empty = group(result, "race_ethnicity", "Two or More Races")
    assert empty.small and empty.rates.n == 0 and empty.rates.selection_rate is None
    assert not group(result, "sex", "Female").small


def test_warnings_exactly_where_an_impact_ratio_is_under_four_fifths(result: AuditResult) -> None:
    expected = {
        ("Sex", "Female", "selection"), ("Sex", "Female", "scoring"),
        ("Race/ethnicity", "Black or African American", "scoring"),
        ("Race/ethnicity", "Asian", "selection"), ("Race/ethnicity", "Asian", "scoring"),
        ("Race/ethnicity", "Hispanic or Latino", "selection"),
        ("Race/ethnicity", "Hispanic or Latino", "scoring"),
        ("Race/ethnicity", "Hispanic or Latino", "Good-or-Great"),
    }  # fmt: skip
    for cell in ("Male / Asian", "Female / White", "Female / Black or African American",
                 "Female / Hispanic or Latino"):  # fmt: skip
        expected |= {("Sex x race/ethnicity", cell, "selection"), ("Sex x race/ethnicity", cell, "scoring")}
    for cell in ("Female / Black or African American", "Female / Hispanic or Latino"):
        expected.add(("Sex x race/ethnicity", cell, "Good-or-Great"))
    lines = {f"WARNING: {d} {c}: {what} impact ratio" for d, c, what in expected}
    assert len(result.warnings) == len(expected)
    assert {w.split(" impact ratio")[0] + " impact ratio" for w in result.warnings} == lines
    assert all("under 0.8 (the four-fifths rule)" in w for w in result.warnings)


def test_an_empty_audit_has_no_rates_and_no_warnings() -> None:
    empty = audit([], interview="x", start=START, end=END)
    assert (empty.population, empty.median_score, empty.warnings) == (0, None, ())
    assert all(g.selection_ratio is None for g in empty.groups)
