"""Rubric types refuse incomplete criteria with a message naming them; bands split the 0-100 range."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from milo_voice.scoring.rubric import Bands, Criterion, CriterionKind, QuestionRubric


def test_a_scored_criterion_needs_both_ends_of_the_scale() -> None:
    with pytest.raises(ValidationError, match="needs anchors for 1 and 5"):
        Criterion(id="x", name="X", anchors={5: "great"})
    with pytest.raises(ValidationError, match=r"off the 1-5 scale"):
        Criterion(id="x", name="X", anchors={0: "bad", 5: "great"})


def test_a_dealbreaker_needs_its_required_answer_and_ids_are_unique() -> None:
    with pytest.raises(ValidationError, match="needs the required answer"):
        Criterion(id="d", name="D", kind=CriterionKind.DEALBREAKER)
    c = Criterion(id="a", name="A", anchors={1: "no", 5: "yes"})
    with pytest.raises(ValidationError, match="repeated"):
        QuestionRubric(criteria=(c, c))


def test_a_rubric_survives_its_json_round_trip() -> None:
    rubric = QuestionRubric(
        version=3,
        criteria=(
            Criterion(
                id="a", name="A", anchors={1: "vague", 3: "some", 5: "specific"}, weight=2, keywords=("sql",)
            ),
            Criterion(id="d", name="D", kind=CriterionKind.DEALBREAKER, required_answer="yes"),
        ),
    )
    assert QuestionRubric.model_validate(rubric.model_dump(mode="json")) == rubric
    assert rubric.criterion("a").target == "specific sql"


@given(st.floats(0, 100), st.floats(0, 100), st.floats(0, 100))
def test_bands_are_monotonic(a: float, b: float, score: float) -> None:
    bands = Bands(good=min(a, b), great=max(a, b))
    order = {"bad": 0, "good": 1, "great": 2}
    assert order[bands.band(score)] <= order[bands.band(min(score + 5, 100))]
    assert bands.band(bands.great) == "great"


def test_bands_refuse_good_above_great() -> None:
    with pytest.raises(ValidationError, match=r"good=80\.0 > great=60\.0"):
        Bands(good=80, great=60)
