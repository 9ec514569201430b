"""Candidates and their review: list, filters, board, bulk decisions, the profile (recording with
Range, transcript, timing), notes and ratings with who/when, escaping, and the audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.workspace.candidate_feedback import CandidateFeedback
from milo_voice.workspace.candidates import CandidateQuery, Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from workspace.sessions import ANSWER, store_session
from workspace.support import ADMIN, VIEWER, form_token

XSS = "<script>alert(1)</script>"


@pytest.fixture
def slug(store: SessionStore) -> str:
    interviews = Interviews(store.engine)
    row = interviews.create(
        InterviewForm(title="Barista", questions=(QuestionForm("What is your favourite recipe?"),))
    )
    interviews.publish(row.slug)
    return row.slug


def test_add_a_candidate_and_copy_an_unguessable_link(
    admin: TestClient, slug: str, store: SessionStore
) -> None:
    token = form_token(admin, f"/app/interviews/{slug}")
    response = admin.post(
        "/app/candidates",
        data={"csrf_token": token, "interview": slug, "name": XSS, "email": "c@example.com"},
    )
    assert response.status_code == 200 and "Candidate added" in response.text
    assert XSS not in response.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    [row] = Candidates(store.engine).search(CandidateQuery())
    link = f"http://127.0.0.1:8000/i/{row.candidate.token}"
    assert f'value="{link}"' in response.text
    assert len(row.candidate.token) >= 43  # 256 bits
    public = admin.get(f"/i/{row.candidate.token}")
    assert public.status_code == 200 and "Barista" in public.text
    assert "c@example.com" not in public.text


def test_filters_search_sorting_columns_and_board(admin: TestClient, slug: str, store: SessionStore) -> None:
    candidates = Candidates(store.engine)
    for name in ("Bea", "Al", "Cy 100%_off"):
        candidates.add(slug=slug, name=name)
    ids = {r.candidate.name: r.candidate.id for r in candidates.search(CandidateQuery())}
    candidates.decide([ids["Al"]], "shortlisted")
    names = lambda q: [r.candidate.name for r in candidates.search(q)]  # noqa: E731
    assert names(CandidateQuery(sort="name", descending=False)) == ["Al", "Bea", "Cy 100%_off"]
    assert names(CandidateQuery(status="shortlisted")) == ["Al"]
    assert names(CandidateQuery(search="%_")) == ["Cy 100%_off"]  # LIKE wildcards are literal
    assert names(CandidateQuery(search="BE")) == ["Bea"]
    page = admin.get("/app/candidates", params={"sort": "name", "dir": "asc", "cols": ["email", "status"]})
    assert page.text.index(">Al<") < page.text.index(">Bea<") < page.text.index(">Cy 100%_off<")
    assert "<th><a" in page.text and ">Email" in page.text and ">Duration" not in page.text
    board = admin.get("/app/candidates", params={"view": "board"})
    shortlisted_lane = board.text.split('data-status="shortlisted"')[1].split("</section>")[0]
    assert ">Al<" in shortlisted_lane and ">Bea<" not in shortlisted_lane


def test_bulk_shortlist_and_dismiss_by_a_viewer(viewer: TestClient, slug: str, store: SessionStore) -> None:
    candidates = Candidates(store.engine)
    a, b, c = (candidates.add(slug=slug, name=n) for n in ("A", "B", "C"))
    token = form_token(viewer, "/app/candidates")
    viewer.post(
        "/app/candidates/bulk", data={"csrf_token": token, "ids": [a.id, b.id], "decision": "dismissed"}
    )
    status = {r.candidate.name: r.candidate.status for r in candidates.search(CandidateQuery())}
    assert status == {"A": "dismissed", "B": "dismissed", "C": "new"}
    refused = viewer.post(
        "/app/candidates/bulk", data={"csrf_token": token, "ids": [c.id], "decision": "hired"}
    )
    assert refused.status_code == 400


def test_the_profile_syncs_recording_and_transcript_and_escapes_everything(
    admin: TestClient, viewer: TestClient, slug: str, store: SessionStore, settings: Settings
) -> None:
    version = Interviews(store.engine).latest(slug)
    candidate = Candidates(store.engine).add(slug=slug, name=XSS)
    assert candidate.id is not None and version.id is not None
    sid = store_session(
        store, candidate_id=candidate.id, interview_id=version.id, directory=settings.recordings_dir / "s1"
    )
    page = viewer.get(f"/app/candidates/{candidate.id}")
    assert page.status_code == 200
    assert XSS not in page.text and "<script>alert('x')" not in page.text
    assert "I make a &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; soup &amp; bread." in page.text
    assert 'data-start="4.0" data-end="9.5"' in page.text  # the answer's line, seekable
    assert "Question 1: What is your favourite recipe?" in page.text
    assert "Barge-ins: 1" in page.text and "0.7 s" in page.text  # dead air 9.5 -> 10.2
    src = f"/app/candidates/{candidate.id}/sessions/{sid}/recording"
    assert f'src="{src}"' in page.text
    whole = viewer.get(src)
    assert whole.headers["content-type"] == "audio/ogg" and whole.content.startswith(b"OggS")
    part = viewer.get(src, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert viewer.get(f"/app/candidates/{candidate.id + 99}/sessions/{sid}/recording").status_code == 404
    assert ANSWER not in admin.get("/app/audit").text


def test_notes_ratings_and_decisions_carry_who_and_when(
    admin: TestClient, viewer: TestClient, slug: str, store: SessionStore
) -> None:
    candidate = Candidates(store.engine).add(slug=slug, name="Dana")
    url = f"/app/candidates/{candidate.id}"
    token = form_token(viewer, url)
    viewer.post(f"{url}/notes", data={"csrf_token": token, "text": f"Great energy {XSS}"})
    viewer.post(f"{url}/rating", data={"csrf_token": token, "stars": "4"})
    viewer.post(f"{url}/rating", data={"csrf_token": token, "thumb": "1"})
    admin_token = form_token(admin, url)
    admin.post(f"{url}/rating", data={"csrf_token": admin_token, "stars": "2"})
    admin.post(f"{url}/decision", data={"csrf_token": admin_token, "decision": "shortlisted"})
    assert viewer.post(f"{url}/rating", data={"csrf_token": token, "stars": "9"}).status_code == 400
    assert viewer.post(f"{url}/notes", data={"csrf_token": token, "text": "  "}).status_code == 400
    page = admin.get(url).text
    assert "Great energy &lt;script&gt;" in page and XSS not in page
    feedback = CandidateFeedback(store.engine).feedback(candidate.id or 0)
    assert [(r.stars, r.thumb, email) for r, email in feedback.ratings] == [(4, 1, VIEWER), (2, None, ADMIN)]
    assert [email for _, email in feedback.notes] == [VIEWER]
    [row] = Candidates(store.engine).search(CandidateQuery())
    assert (row.candidate.status, row.stars, row.thumbs_up) == ("shortlisted", 3.0, 1)
    activity = page.split('id="activity"')[1]
    assert f"{ADMIN} · status status=shortlisted" in activity and f"{VIEWER} · rate stars=4" in activity
    audit = admin.get("/app/audit").text
    assert f"{VIEWER}</td><td>view</td>" in audit and "login" in audit


def test_analytics_say_no_data_then_count(
    admin: TestClient, slug: str, store: SessionStore, settings: Settings
) -> None:
    assert 'id="no-data">No data' in admin.get(f"/app/interviews/{slug}/analytics").text
    version = Interviews(store.engine).latest(slug)
    done = Candidates(store.engine).add(slug=slug, name="Done")
    Candidates(store.engine).add(slug=slug, name="Waiting")
    store_session(
        store,
        candidate_id=done.id or 0,
        interview_id=version.id or 0,
        directory=Path(settings.recordings_dir) / "s2",
    )
    page = admin.get(f"/app/interviews/{slug}/analytics").text
    assert "No data" not in page
    assert "<b>2</b>candidates" in page and "<b>1</b>completed" in page and "<b>100%</b>completion" in page
    day_chart = page.split('aria-label="candidates added, interviews started', 1)[1].split("</svg>", 1)[0]
    assert day_chart.count("<rect") == 3  # one day: added, started, completed (days with 0 draw no bar)
    assert page.count('<tr data-day="') == 30 and '<text class="axis day"' in page  # dated, 30 days
