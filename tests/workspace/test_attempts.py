"""Attempt rules (issue 14): a decision sticks, ending early stops for good, retakes are allowed per
interview or granted per candidate and keep every session, and a recruiter marks which one counts."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import Candidate, CandidateStatus, InterviewSession, SessionStatus
from milo_voice.workspace import attempts
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import CandidateQuery, Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.review import Review
from workspace.sessions import store_session
from workspace.support import form_token

OFFER = {"sdp": "v=0\r\n", "type": "offer", "consent": True}


@pytest.fixture
def slug(store: SessionStore) -> str:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Barista", questions=(QuestionForm("Why coffee?"),)))
    interviews.publish(row.slug)
    return row.slug


def interviewed(
    store: SessionStore, slug: str, tmp_path: Path, name: str = "Robin Reader"
) -> tuple[int, str, int]:
    """A candidate with one completed session: (candidate id, link token, session id)."""
    candidate = Candidates(store.engine).add(
        slug=slug, name=name, email=f"{name.split()[0].lower()}@example.com"
    )
    assert candidate.id is not None
    session_id = store_session(
        store,
        candidate_id=candidate.id,
        interview_id=candidate.interview_id,
        directory=tmp_path / f"rec-{candidate.id}-{len(list(tmp_path.iterdir()))}",
    )
    return candidate.id, candidate.token, session_id


def start(store: SessionStore, candidate: Candidate) -> int:
    assert candidate.id is not None
    return store.start_session(candidate_id=candidate.id, interview_id=candidate.interview_id,
                               channel="webrtc", recording_dir="", settings={})


def session(status: str, sid: int, error: str | None = None) -> InterviewSession:
    return InterviewSession(
        id=sid, candidate_id=1, interview_id=1, channel="webrtc", status=status, error=error
    )


# -- the rules, pure --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "used", "allowed", "open_", "reason"),
    [
        ("invited", 0, 1, True, ""),
        ("in_progress", 0, 1, True, ""),
        ("completed", 1, 1, False, "completed"),
        ("completed", 1, 2, True, ""),
        ("evaluating", 1, 1, False, "completed"),
        ("ended_early", 1, 1, False, "ended_early"),
        ("ended_early", 1, 2, True, ""),
        ("shortlisted", 1, 5, False, "decided"),
        ("dismissed", 0, 5, False, "decided"),
        ("knocked_out", 1, 5, False, "decided"),
        ("invited", 1, 2, True, ""),  # a granted retake
    ],
)
def test_the_link_opens_only_while_an_attempt_is_left_and_no_decision_is_made(
    status: str, used: int, allowed: int, open_: bool, reason: str
) -> None:
    state = attempts.link_state(status, used, allowed)
    assert (state.open, state.reason) == (open_, reason)
    assert bool(state.message) is not open_


def test_a_session_our_process_lost_does_not_use_up_an_attempt() -> None:
    rows = [
        session("completed", 1),
        session("interrupted", 2),
        session("interrupted", 3, error="process ended during the session"),
        session("failed", 4),
    ]
    assert attempts.attempts_used(rows) == 2


@pytest.mark.parametrize(
    ("current", "wanted", "result"),
    [
        ("shortlisted", CandidateStatus.COMPLETED, CandidateStatus.SHORTLISTED),
        ("dismissed", CandidateStatus.IN_PROGRESS, CandidateStatus.DISMISSED),
        ("shortlisted", CandidateStatus.KNOCKED_OUT, CandidateStatus.SHORTLISTED),
        ("completed", CandidateStatus.KNOCKED_OUT, CandidateStatus.KNOCKED_OUT),
        ("knocked_out", CandidateStatus.COMPLETED, CandidateStatus.COMPLETED),  # a re-score that passes
        ("in_progress", CandidateStatus.ENDED_EARLY, CandidateStatus.ENDED_EARLY),
    ],
)
def test_automatic_moves_never_undo_a_recruiters_decision(
    current: str, wanted: CandidateStatus, result: CandidateStatus
) -> None:
    assert attempts.next_status(current, wanted) is result


def test_the_marked_session_counts_else_the_newest_completed_else_the_newest() -> None:
    rows = [session("completed", 1), session("completed", 2), session("interrupted", 3)]
    assert attempts.counted(rows, None).id == 2  # type: ignore[union-attr]
    assert attempts.counted(rows, 1).id == 1  # type: ignore[union-attr]
    assert attempts.counted(rows, 99).id == 2  # type: ignore[union-attr]  # a stale mark
    assert attempts.counted([session("interrupted", 5)], None).id == 5  # type: ignore[union-attr]
    assert attempts.counted([], None) is None


# -- through the store and the app ----------------------------------------------------------


def test_a_shortlisted_candidates_link_is_closed_and_the_reviewed_session_untouched(
    admin: TestClient, store: SessionStore, slug: str, tmp_path: Path
) -> None:
    cid, token, sid = interviewed(store, slug, tmp_path)
    admin.post(
        f"/app/candidates/{cid}/decision",
        data={"csrf_token": form_token(admin, f"/app/candidates/{cid}"), "decision": "shortlisted"},
    )
    page = admin.get(f"/i/{token}")
    assert page.status_code == 200 and "This interview is closed" in page.text
    assert "consent" not in page.text.lower()
    offer = admin.post(f"/api/rtc/{token}/offer", json=OFFER)
    assert offer.status_code == 410 and "hiring team" in offer.json()["error"]
    candidate, _ = Candidates(store.engine).get(cid)
    assert candidate.status == "shortlisted" and candidate.counted_session_id is None
    assert [(s.id, s.status) for s in Review(store.engine).sessions(cid)] == [(sid, SessionStatus.COMPLETED)]


def test_a_session_ending_after_a_decision_leaves_the_decision(store: SessionStore, slug: str) -> None:
    candidate = Candidates(store.engine).add(slug=slug, name="Sam Late")
    assert candidate.id is not None
    sid = start(store, candidate)
    Candidates(store.engine).decide([candidate.id], "dismissed")
    store.end_session(session_id=sid, status="completed", duration_s=10.0, recording_path=None)
    Candidates(store.engine).set_status(candidate.id, CandidateStatus.EVALUATING)  # scoring's move
    assert Candidates(store.engine).get(candidate.id)[0].status == "dismissed"


def test_ending_early_stops_for_good_unless_the_interview_allows_a_retake(
    client: TestClient, store: SessionStore, slug: str
) -> None:
    candidate = Candidates(store.engine).add(slug=slug, name="Eve Early")
    assert candidate.id is not None
    sid = start(store, candidate)
    store.end_session(session_id=sid, status="interrupted", duration_s=3.0, recording_path=None)
    assert Candidates(store.engine).get(candidate.id)[0].status == CandidateStatus.ENDED_EARLY
    page = client.get(f"/i/{candidate.token}")
    assert "ended before the last question" in page.text
    assert client.post(f"/api/rtc/{candidate.token}/offer", json=OFFER).status_code == 410
    interviews = Interviews(store.engine)
    form = interviews.form(interviews.latest(slug))
    interviews.save(slug, replace(form, retakes_allowed=1))
    interviews.publish(slug)
    found = Candidates(store.engine).link(candidate.token)
    assert found is not None and found[1].open and found[1].retake  # the policy follows the newest version
    assert found[0].interview_id == candidate.interview_id  # the questions stay those they were invited to


def test_a_process_that_died_mid_interview_leaves_the_link_open(store: SessionStore, slug: str) -> None:
    candidate = Candidates(store.engine).add(slug=slug, name="Kim Crash")
    assert candidate.id is not None
    sid = start(store, candidate)
    store.end_session(
        session_id=sid,
        status="interrupted",
        duration_s=None,
        recording_path=None,
        error="process ended during the session; nothing was recorded",
    )
    found = Candidates(store.engine).link(candidate.token)
    assert found is not None and found[1].open and found[0].status == "invited"


def test_a_granted_retake_keeps_both_sessions_and_the_chosen_one_counts(
    admin: TestClient, store: SessionStore, slug: str, tmp_path: Path
) -> None:
    cid, token, first = interviewed(store, slug, tmp_path)
    admin.post(
        f"/app/candidates/{cid}/decision",
        data={"csrf_token": form_token(admin, f"/app/candidates/{cid}"), "decision": "shortlisted"},
    )
    granted = admin.post(
        f"/app/candidates/{cid}/retake", data={"csrf_token": form_token(admin, f"/app/candidates/{cid}")}
    )
    assert granted.status_code == 200 and "Retake granted" in granted.text
    assert "This interview is closed" not in admin.get(f"/i/{token}").text
    second = store_session(
        store,
        candidate_id=cid,
        interview_id=Candidates(store.engine).get(cid)[1].id or 0,
        directory=tmp_path / "second",
    )
    profile = admin.get(f"/app/candidates/{cid}").text
    assert f"Session {first}" in profile and f"Session {second}" in profile
    assert _counted_marker(profile) == second  # the newest completed one, until a recruiter chooses
    chosen = admin.post(
        f"/app/candidates/{cid}/sessions/{first}/count",
        data={"csrf_token": form_token(admin, f"/app/candidates/{cid}")},
    )
    assert chosen.status_code == 200 and _counted_marker(chosen.text) == first
    assert _counted_marker(admin.get(f"/app/candidates/{cid}").text) == first
    assert "This interview is closed" in admin.get(f"/i/{token}").text  # both attempts used
    actions = [e.action for e in Audit(store.engine).recent(target_type="candidate", target_id=cid)]
    assert "grant_retake" in actions and "count_session" in actions


def _counted_marker(html: str) -> int:
    found = re.findall(r"Session (\d+) · [^<]*· <strong class=\"counts\">counts</strong>", html)
    assert len(found) == 1, html[:2000]
    return int(found[0])


def test_a_session_of_another_candidate_cannot_be_marked(
    admin: TestClient, store: SessionStore, slug: str, tmp_path: Path
) -> None:
    cid, _, _ = interviewed(store, slug, tmp_path)
    _, _, other = interviewed(store, slug, tmp_path, name="Pat Other")
    response = admin.post(
        f"/app/candidates/{cid}/sessions/{other}/count",
        data={"csrf_token": form_token(admin, f"/app/candidates/{cid}")},
    )
    assert response.status_code == 404
    assert Candidates(store.engine).get(cid)[0].counted_session_id is None


def test_the_same_email_twice_on_one_interview_is_refused(store: SessionStore, slug: str) -> None:
    Candidates(store.engine).add(slug=slug, name="Robin Reader", email="robin@example.com")
    with pytest.raises(Invalid, match="already a candidate"):
        Candidates(store.engine).add(slug=slug, name="Robin R.", email="ROBIN@example.com")
    assert len(Candidates(store.engine).search(CandidateQuery())) == 1


def test_a_retake_allowed_by_the_interview_opens_the_link_once_more(
    store: SessionStore, tmp_path: Path
) -> None:
    interviews = Interviews(store.engine)
    row = interviews.create(
        InterviewForm(title="Cashier", questions=(QuestionForm("Why retail?"),), retakes_allowed=1)
    )
    interviews.publish(row.slug)
    cid, token, _ = interviewed(store, row.slug, tmp_path)
    found = Candidates(store.engine).link(token)
    assert found is not None and found[1].open and found[1].retake
    store_session(store, candidate_id=cid, interview_id=found[0].interview_id, directory=tmp_path / "again")
    found = Candidates(store.engine).link(token)
    assert found is not None and not found[1].open and found[1].reason == "completed"


def test_the_page_after_an_action_is_not_logged_as_another_view(
    admin: TestClient, store: SessionStore, slug: str, tmp_path: Path
) -> None:
    cid, _, _ = interviewed(store, slug, tmp_path)
    admin.get(f"/app/candidates/{cid}")
    admin.post(
        f"/app/candidates/{cid}/notes",
        data={"csrf_token": form_token(admin, f"/app/candidates/{cid}"), "text": "Good fit."},
    )
    actions = [e.action for e in Audit(store.engine).recent(target_type="candidate", target_id=cid)]
    assert actions.count("view") == 1 and "note" in actions
    assert sum(1 for e in Audit(store.engine).recent() if e.action == "view") == 1


def test_the_exports_read_the_session_that_counts(store: SessionStore, slug: str, tmp_path: Path) -> None:
    from milo_voice.scoring.store import ScoringStore

    cid, _, first = interviewed(store, slug, tmp_path)
    Candidates(store.engine).grant_retake(cid)
    second = store_session(store, candidate_id=cid, interview_id=Candidates(store.engine).get(cid)[1].id or 0,
                           directory=tmp_path / "second")
    scoring = ScoringStore(store.engine)
    assert (scoring.counted_session(Candidates(store.engine).get(cid)[0]) or InterviewSession()).id == second
    Candidates(store.engine).count_session(cid, first)
    assert (scoring.counted_session(Candidates(store.engine).get(cid)[0]) or InterviewSession()).id == first


@pytest.mark.parametrize(("email", "phone", "error"), [
    ("robin@", "", "not an email address"),
    ("robin example.com", "", "not an email address"),
    ("", "12345", "not a phone number we can reach"),
    ("", "+1 415 555", "not a phone number we can reach"),
])
def test_an_invalid_email_or_phone_is_refused_when_the_candidate_is_added(
    store: SessionStore, slug: str, email: str, phone: str, error: str
) -> None:
    with pytest.raises(Invalid, match=error):
        Candidates(store.engine).add(slug=slug, name="Robin Reader", email=email, phone=phone)
    assert Candidates(store.engine).search(CandidateQuery()) == []
    added = Candidates(store.engine).add(slug=slug, name="Robin Reader", email="robin@example.com",
                                         phone="(415) 555-0100")
    assert added.phone == "(415) 555-0100"  # kept as written; outreach texts its E.164 form
