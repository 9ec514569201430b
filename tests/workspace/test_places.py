"""Candidates by place (issue 17, the map view done as a grouping by region): country from the
location's last part (a name, or a US state) or else the phone number; the city is the last part
before the country, postcodes removed; the page groups one interview's candidates that way."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.places import NO_PLACE, UNKNOWN, Where, group, where


@pytest.mark.parametrize(("location", "phone", "region", "expected"), [
    ("Oakland, CA", "", "US", Where("United States", "Oakland, CA")),  # a state, not Canada
    ("Mapo-gu, Seoul, Republic of Korea", "", "US", Where("South Korea", "Seoul")),
    ("Musterweg 42, 12345 Berlin, Germany", "", "US", Where("Germany", "Berlin")),
    ("Paris 75001, France", "", "US", Where("France", "Paris")),
    ("", "+1 415 555 0134", "US", Where("United States", "San Francisco, CA")),
    ("", "020 7946 0958", "GB", Where("United Kingdom", "London")),
    ("Málaga", "+34 612 345 678", "US", Where("Spain", "Málaga")),
    ("", "not a number", "US", Where(UNKNOWN, NO_PLACE)),
])
def test_where_a_candidate_is(location: str, phone: str, region: str, expected: Where) -> None:
    assert where(location, phone, region) == expected


def test_groups_are_ordered_by_size_with_unknown_last() -> None:
    rows = [(1, "", ""), (2, "Austin, TX", ""), (3, "Dallas, TX", ""), (4, "Austin, TX", ""),
            (5, "Lyon, France", "")]
    countries = group(rows)
    assert [(c.name, c.count) for c in countries] == [("United States", 3), ("France", 1), (UNKNOWN, 1)]
    assert [(p.name, p.candidate_ids) for p in countries[0].places] == [("Austin, TX", [2, 4]),
                                                                        ("Dallas, TX", [3])]


def test_the_page_lists_an_interviews_candidates_by_place(
    viewer: TestClient, store: SessionStore
) -> None:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Driver", questions=(QuestionForm("Why?"),)))
    interviews.publish(row.slug)
    candidates = Candidates(store.engine)
    candidates.add(slug=row.slug, name="Ana <b>Lima</b>", location="Oakland, CA")
    candidates.add(slug=row.slug, name="Ben Ode", phone="+44 20 7946 0958")
    page = viewer.get(f"/app/interviews/{row.slug}/places")
    assert page.status_code == 200
    text = page.text
    assert text.index("<h2>United Kingdom") < text.index("<h2>United States")  # one each: by name
    assert "Oakland, CA" in text and "London" in text
    assert "Ana &lt;b&gt;Lima&lt;/b&gt;" in text and "<b>Lima</b>" not in text
