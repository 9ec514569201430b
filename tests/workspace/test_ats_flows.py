"""The Greenhouse and Workable flows end to end (issue 17): the ATS (a loopback fake speaking the
documented requests) lists tests and sends one; the candidate is created and invited; a simulated
interview completes and is scored by the real worker; the status, score and report reach the ATS
(Greenhouse: PATCH, then test_status; Workable: PUT to the callback), with a retry when it is down.
Both directions are real HTTP on 127.0.0.1: the app under uvicorn, the fakes' receivers under uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.greenhouse_ats import Applicant, FakeGreenhouse
from fakes.loopback import ServerThread
from fakes.workable_ats import FakeWorkable
from helpers import run
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.planner import INVITE_WINDOW
from milo_voice.scoring.rubric import Criterion, QuestionRubric
from milo_voice.scoring.service import enqueue_scoring
from milo_voice.settings import Settings
from milo_voice.web.app import create_app
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.ats import SECRETS, WORKABLE_CALLBACK
from milo_voice.workspace.background import build_worker
from milo_voice.workspace.candidates import CandidateQuery, Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from workspace.sessions import store_session

RUBRIC = QuestionRubric(criteria=(
    Criterion(id="dish", name="Names a dish", anchors={1: "Names nothing.", 5: "Makes soup and bread."}),))


@pytest.fixture
def cook(store: SessionStore) -> str:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Line cook", questions=(QuestionForm("Favourite recipe?"),)))
    interviews.publish(row.slug)
    interviews.set_rubric_at(row.id or 0, 0, RUBRIC)
    draft = interviews.create(InterviewForm(title="Draft only", questions=(QuestionForm("Q?"),)))
    assert draft.slug != row.slug
    return row.slug


@pytest.fixture
def served(settings: Settings, store: SessionStore) -> Iterator[str]:
    """The real app under uvicorn on 127.0.0.1: the ATS fakes call it over loopback HTTP."""
    server = ServerThread(create_app(settings, store.engine))
    server.start()
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture
def greenhouse(served: str, store: SessionStore) -> Iterator[FakeGreenhouse]:
    key = Accounts(store.engine).rotate_secret(SECRETS["greenhouse"])
    with FakeGreenhouse(f"{served}/ats/greenhouse", key) as fake:
        yield fake


def complete_interview(settings: Settings, store: SessionStore, slug: str, external_id: str,
                       tmp: Path) -> int:
    """The candidate the ATS sent takes the interview; the session is scored by the server's worker."""
    [row] = Candidates(store.engine).search(CandidateQuery(slug=slug, external_id=external_id))
    sid = store_session(store, candidate_id=row.candidate.id or 0, interview_id=row.interview.id or 0,
                        directory=tmp / "rec")
    enqueue_scoring(settings, store.engine, sid, candidates=Candidates(store.engine))
    worker = build_worker(settings, store.engine).worker
    run(worker.run_until_idle)
    return row.candidate.id or 0


def test_greenhouse_sends_a_test_and_gets_the_score_back(
    greenhouse: FakeGreenhouse, settings: Settings, store: SessionStore, cook: str, tmp_path: Path
) -> None:
    assert greenhouse.list_tests() == [(cook, "Line cook")]  # drafts are not offered
    partner_id = greenhouse.send_test(cook, Applicant(application_id=5150))
    assert greenhouse.send_test(cook, Applicant(application_id=5150)) == partner_id  # a retry: same order
    pending = greenhouse.test_status(partner_id)
    assert pending["partner_status"] == "pending" and "partner_score" not in pending
    [row] = Candidates(store.engine).search(CandidateQuery(slug=cook))
    assert (row.candidate.name, row.candidate.email, row.candidate.source) == (
        "Mira Okafor", "mira.okafor@example.org", "ats")
    assert row.candidate.phone == "+44 20 7946 0018"
    assert row.candidate.created_at > store.now() - INVITE_WINDOW  # the outreach planner invites it
    greenhouse.fail_next(1)  # Greenhouse is down for the first PATCH: the job retries
    fast = settings.with_overrides(job_backoff=0.0)
    cid = complete_interview(fast, store, cook, "greenhouse:5150", tmp_path)
    [answer] = greenhouse.follow_patches(1)
    assert [status for _, status in greenhouse.attempts] == [500, 200]
    assert answer["partner_status"] == "complete"
    assert answer["partner_profile_url"].endswith(f"/app/candidates/{cid}")
    assert 0 <= answer["partner_score"] <= 100 and answer["metadata"]["Band"] in ("Great", "Good", "Bad")


def test_greenhouse_refuses_wrong_keys_bad_bodies_and_unknown_tests(
    greenhouse: FakeGreenhouse, cook: str
) -> None:
    assert greenhouse.raw("GET", "list_tests", headers=greenhouse.auth("wrong")).status_code == 401
    assert greenhouse.raw("GET", "list_tests").status_code == 401
    bad = greenhouse.raw("POST", "send_test", body=b'{"partner_test_id": "x"}', headers=greenhouse.auth())
    assert bad.status_code == 400 and "candidate" in bad.json()["error"]
    with pytest.raises(AssertionError):
        greenhouse.send_test("no-such-interview")
    missing = greenhouse.raw("GET", "test_status", headers=greenhouse.auth(),
                             params={"partner_interview_id": "mv_nope"})
    assert missing.status_code == 404


def test_workable_creates_an_assessment_and_gets_the_result_put_back(
    served: str, settings: Settings, store: SessionStore, cook: str, tmp_path: Path
) -> None:
    accounts = Accounts(store.engine)
    token = accounts.rotate_secret(SECRETS["workable"])
    with FakeWorkable(f"{served}/ats/workable", token) as workable:
        accounts.set_secret(WORKABLE_CALLBACK, workable.callback_token)
        assert workable.tests() == [(cook, "Line cook")]
        assessment = workable.create_assessment(cook)
        assert workable.raw("GET", "tests", headers=workable.auth("wrong")).status_code == 401
        [row] = Candidates(store.engine).search(CandidateQuery(slug=cook))
        complete_interview(settings, store, cook, row.candidate.external_id or "", tmp_path)
        [callback] = workable.wait_callbacks(1)
    assert callback.body["status"] == "completed"
    assert callback.body["results_url"].endswith(f"/app/candidates/{row.candidate.id}")
    assert callback.body["assessment"]["grade"] in ("failed", "passed", "excelled")
    assert assessment


def test_admins_make_and_rotate_keys_on_the_settings_page(admin: TestClient, viewer: TestClient,
                                                         store: SessionStore) -> None:
    from workspace.support import form_token

    assert viewer.get("/app/settings/ats").status_code == 403
    token = form_token(admin, "/app/settings/ats")
    admin.post("/app/settings/ats", data={"csrf_token": token, "action": "rotate_greenhouse"})
    first = Accounts(store.engine).stored_secret(SECRETS["greenhouse"])
    assert first and first in admin.get("/app/settings/ats").text
    admin.post("/app/settings/ats", data={"csrf_token": token, "action": "rotate_greenhouse"})
    assert Accounts(store.engine).stored_secret(SECRETS["greenhouse"]) not in ("", first)
    admin.post("/app/settings/ats", data={"csrf_token": token, "action": "workable_callback",
                                          "token": "issued-by-workable"})
    assert Accounts(store.engine).stored_secret(WORKABLE_CALLBACK) == "issued-by-workable"
    old = FakeGreenhouse(f"{admin.base_url}/ats/greenhouse", first, client=admin)  # type: ignore[arg-type]
    assert old.raw("GET", "list_tests", headers=old.auth()).status_code == 401  # the old key stopped working
