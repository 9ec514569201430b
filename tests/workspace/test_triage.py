"""Triage by score (issue 14): score and band columns, the band filter and the score sort in the list,
the board and the API, over the score of the session that counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring.result import ScoreCard
from milo_voice.scoring.rubric import Bands
from milo_voice.scoring.store import ScoringStore
from milo_voice.store.repo import Invalid
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.candidates import CandidateQuery, Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from workspace.sessions import store_session

SCORES = {"Gina Great": 88.0, "Gus Good": 61.0, "Bo Bad": 20.0, "Nell None": None, "Gwen Great": 79.0}


def score(store: SessionStore, session_id: int, overall: float | None) -> None:
    scoring = ScoringStore(store.engine)
    bands = Bands()
    scoring.add_score(scoring.context(session_id), ScoreCard(
        scorer="offline", scorer_label="Offline", model="", prompt_hash="0" * 64,
        created_at=datetime.now(UTC), bands=bands, overall=overall,
        band=bands.band(overall) if overall is not None else "", knockout=None, needs_review=False,
        review_reasons=[], questions=[]))


@pytest.fixture
def slug(store: SessionStore, tmp_path: Path) -> str:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Barista", questions=(QuestionForm("Why coffee?"),)))
    interviews.publish(row.slug)
    for name, overall in SCORES.items():
        candidate = Candidates(store.engine).add(slug=row.slug, name=name)
        assert candidate.id is not None
        sid = store_session(store, candidate_id=candidate.id, interview_id=candidate.interview_id,
                            directory=tmp_path / name.replace(" ", "-"))
        if overall is not None:
            score(store, sid, overall)
    return row.slug


def names(html: str) -> list[str]:
    return re.findall(r'<a href="/app/candidates/\d+">([^<]+)</a>', html)


@pytest.mark.parametrize(("band", "expected"), [
    ("great", {"Gina Great", "Gwen Great"}), ("good", {"Gus Good"}), ("bad", {"Bo Bad"}),
    ("unscored", {"Nell None"}), ("", set(SCORES)),
])
def test_the_list_filters_by_band(admin: TestClient, slug: str, band: str, expected: set[str]) -> None:
    page = admin.get("/app/candidates", params={"band": band})
    assert page.status_code == 200 and set(names(page.text)) == expected


def test_the_list_sorts_by_score_with_the_unscored_last(admin: TestClient, slug: str) -> None:
    down = names(admin.get("/app/candidates", params={"sort": "score", "dir": "desc"}).text)
    assert down == ["Gina Great", "Gwen Great", "Gus Good", "Bo Bad", "Nell None"]
    up = names(admin.get("/app/candidates", params={"sort": "score", "dir": "asc"}).text)
    assert up == ["Bo Bad", "Gus Good", "Gwen Great", "Gina Great", "Nell None"]


def test_score_and_band_columns_and_the_boards_cards_show_the_band(admin: TestClient, slug: str) -> None:
    table = admin.get("/app/candidates").text
    assert '<td class="score">88</td>' in table and '<span class="pill band great">Great</span>' in table
    board = admin.get("/app/candidates", params={"view": "board", "band": "bad"}).text
    assert names(board) == ["Bo Bad"] and '<span class="pill band bad">Bad</span> 20/100' in board


def test_an_unknown_band_is_a_clear_error(admin: TestClient, slug: str) -> None:
    page = admin.get("/app/candidates", params={"band": "superb"})
    assert page.status_code == 400 and "great, good, bad, unscored" in page.text
    with pytest.raises(Invalid):
        CandidateQuery(band="superb")


def test_the_api_filters_and_sorts_by_band_and_score(
    client: TestClient, accounts: Accounts, users: dict[str, int], slug: str
) -> None:
    _, key = accounts.create_api_key(user_id=users["admin"], name="ATS")
    auth = {"Authorization": f"Bearer {key}"}
    great = client.get("/api/candidates", params={"band": "great", "sort": "score"}, headers=auth).json()
    assert [(c["name"], c["score"], c["band"]) for c in great] == [
        ("Gina Great", 88.0, "great"), ("Gwen Great", 79.0, "great")]
    none = client.get("/api/candidates", params={"band": "unscored"}, headers=auth).json()
    assert [(c["name"], c["score"], c["band"]) for c in none] == [("Nell None", None, None)]
    assert client.get("/api/candidates", params={"band": "x"}, headers=auth).status_code == 400


def test_a_rescore_moves_the_candidate_to_the_new_band(store: SessionStore, slug: str) -> None:
    row = next(r for r in Candidates(store.engine).search(CandidateQuery()) if r.candidate.name == "Bo Bad")
    assert row.last_session is not None and row.last_session.id is not None
    score(store, row.last_session.id, 90.0)
    great = Candidates(store.engine).search(CandidateQuery(band="great"))
    assert "Bo Bad" in {r.candidate.name for r in great}
