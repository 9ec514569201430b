"""Accommodations end to end over the real app (Starlette TestClient, real SQLite, the app on a fake clock):
the candidate's request from their link, escalated to "Needs a person", answered by an admin on the profile
with a note, audited; viewers neither see nor change it; garbage is a 400 that records nothing; a link that
posts too often is refused; a granted written path serves the voice stage's questions as a form, judged and
recorded on the voice stage; extra time lengthens an assessment's minutes; reports never carry any of it."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from workspace.sessions import store_session
from workspace.support import ADMIN, PASSWORD, VIEWER, csrf_of, login

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.contacts import Contacts
from milo_voice.scoring.rubric import Criterion, QuestionRubric
from milo_voice.settings import Settings
from milo_voice.stages.types import AssessmentSpec, FieldKind, FormField, FormSpec, StageSpec
from milo_voice.store.tables import StageKind
from milo_voice.web.app import create_app
from milo_voice.workspace.accommodations import Accommodations
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.pipeline import Pipeline

QUESTION = "Tell me about a dish you cook well."
RUBRIC = QuestionRubric(
    criteria=(Criterion(id="dish", name="Names a dish", anchors={1: "Names nothing.", 5: "Soup and bread."}),)
)
FORM_THEN_VOICE = (
    StageSpec(
        kind=StageKind.FORM,
        form=FormSpec(fields=(FormField(id="adult", kind=FieldKind.YES_NO, label="Over 18?"),)),
    ),
    StageSpec(kind=StageKind.VOICE),
)
WORDS = "I stammer, and writing is easier for me."


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def interview(store: SessionStore, stages: tuple[StageSpec, ...]) -> str:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Cook", questions=(QuestionForm(QUESTION),), stages=stages))
    interviews.publish(row.slug)
    interviews.set_rubric_at(row.id or 0, 0, RUBRIC)
    return row.slug


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(settings: Settings, store: SessionStore, clock: Clock) -> Iterator[dict[str, Any]]:
    accounts = Accounts(store.engine)
    accounts.create_user(email=ADMIN, password=PASSWORD, role="admin")
    accounts.create_user(email=VIEWER, password=PASSWORD, role="viewer")
    app = create_app(settings, store.engine, now=clock)
    candidate = Candidates(store.engine).add(slug=interview(store, FORM_THEN_VOICE), name="Ria Request")
    with (
        TestClient(app) as visitor,
        TestClient(app) as admin,
        TestClient(app) as viewer,
    ):
        login(admin, ADMIN)
        login(viewer, VIEWER)
        yield {
            "visitor": visitor,
            "admin": admin,
            "viewer": viewer,
            "cid": candidate.id,
            "token": candidate.token,
        }


def answer(client: TestClient, cid: int, **data: str) -> Any:
    token = csrf_of(client.get("/app/interviews").text)
    return client.post(
        f"/app/candidates/{cid}/accommodation", data={"csrf_token": token, **data}, follow_redirects=False
    )


def test_a_request_reaches_a_person_who_grants_it_with_a_note(
    store: SessionStore, world: dict[str, Any]
) -> None:
    visitor, admin, viewer, cid, token = (world[k] for k in ("visitor", "admin", "viewer", "cid", "token"))
    page = visitor.get(f"/i/{token}")
    assert f'href="/i/{token}/accommodation">Need an accommodation?' in page.text
    form = visitor.get(f"/i/{token}/accommodation")
    assert form.status_code == 200 and 'name="more_time"' in form.text and 'name="in_writing"' in form.text
    sent = visitor.post(
        f"/i/{token}/accommodation",
        data={"more_time": "yes", "in_writing": "yes", "text": WORDS},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"/i/{token}/accommodation?sent=1"
    confirmed = visitor.get(sent.headers["location"]).text
    assert "a person from the hiring team will reply to you" in " ".join(confirmed.split())

    queue = admin.get("/app/needs-a-person").text
    assert "Ria Request" in queue and "asked for an accommodation" in queue and "stammer" not in queue
    profile = admin.get(f"/app/candidates/{cid}").text
    assert 'id="accommodation-request-text"' in profile and WORDS in profile
    assert "Asked for: more time to answer; to answer in writing instead of speaking." in profile

    seen_by_viewer = viewer.get(f"/app/candidates/{cid}")
    assert seen_by_viewer.status_code == 200 and "stammer" not in seen_by_viewer.text
    assert 'id="accommodation"' not in seen_by_viewer.text
    assert answer(viewer, cid, action="grant", multiplier="2").status_code == 403
    assert Accommodations(store.engine).get(cid).status == "requested"

    granted = answer(admin, cid, action="grant", multiplier="2", text_only="yes", note="Agreed by email.")
    assert granted.status_code == 303 and granted.headers["location"].endswith("#accommodation")
    row = Accommodations(store.engine).get(cid)
    assert (row.status, row.patience_multiplier, row.text_only, row.note) == (
        "granted",
        2.0,
        True,
        "Agreed by email.",
    )
    shown = admin.get(f"/app/candidates/{cid}").text
    assert "×2</strong>" in shown and f"Granted by {ADMIN}" in shown and "Agreed by email." in shown
    assert "Ria Request" not in admin.get("/app/needs-a-person").text  # answered: handled
    events = [(e.action, e.actor) for e in reversed(Audit(store.engine).recent(target_type="accommodation"))]
    assert events == [
        ("accommodation.request", "anonymous"),
        ("accommodation.grant", ADMIN),
        ("resume_outreach", ADMIN),  # the "Needs a person" flag, handled by the answer
    ]
    assert "accommodation" not in shown.split('id="activity"', 1)[1]  # viewers' activity list: nothing of it


def test_garbage_is_refused_with_a_400_and_nothing_is_recorded(
    store: SessionStore, world: dict[str, Any]
) -> None:
    visitor, admin, cid, token = (world[k] for k in ("visitor", "admin", "cid", "token"))
    url = f"/i/{token}/accommodation"
    for data, says in (
        ({"more_time": "maybe", "text": "kept words"}, "is not a valid choice"),
        ({"text": "x" * 2001}, "please keep it to 2000"),
        ({"text": "  "}, "Tick what you need"),
        ({"text": "hi", "evil": "1"}, "Unexpected fields: evil"),
        ({"text": ["one", "two"]}, "Send one text box"),
    ):
        refused = visitor.post(url, data=data)
        assert refused.status_code == 400 and says in refused.text, data
    assert (
        "kept words</textarea>" in visitor.post(url, data={"more_time": "maybe", "text": "kept words"}).text
    )
    assert visitor.post("/i/not-a-token/accommodation", data={"text": "hi"}).status_code == 404

    for data, says in (
        ({"action": "grant", "multiplier": "5"}, "out of range"),
        ({"action": "grant", "multiplier": "abc"}, "is not a number"),
        ({"action": "grant", "multiplier": "2", "text_only": "please"}, "is not a choice"),
        ({"action": "decline", "note": ""}, "say why"),
        ({"action": "frobnicate"}, "expected grant or decline"),
    ):
        refused = answer(admin, cid, **data)
        assert refused.status_code == 400 and says in refused.text, data
    assert answer(admin, 9999, action="grant", multiplier="2").status_code == 404
    row = Accommodations(store.engine).get(cid)
    assert (row.id, row.status, row.patience_multiplier) == (None, "none", 1.0)
    assert (
        Audit(store.engine).recent(target_type="accommodation") == []
        and Contacts(store.engine).flagged() == []
    )


def test_a_link_that_posts_too_often_is_refused_until_the_hour_has_passed(
    world: dict[str, Any], clock: Clock
) -> None:
    visitor, url = world["visitor"], f"/i/{world['token']}/accommodation"
    for _ in range(5):
        assert visitor.post(url, data={"text": "more time please"}, follow_redirects=False).status_code == 303
    refused = visitor.post(url, data={"text": "more time please"})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"
    clock.at += timedelta(hours=1, seconds=1)
    assert visitor.post(url, data={"text": "again"}, follow_redirects=False).status_code == 303


def test_the_written_path_serves_the_voice_questions_as_a_form(
    store: SessionStore, world: dict[str, Any]
) -> None:
    visitor, admin, cid, token = (world[k] for k in ("visitor", "admin", "cid", "token"))
    version = re.search(r'name="notice.version" value="(\d+)"', visitor.get(f"/i/{token}").text)
    assert version, "the form carries the notice until it is agreed to"
    agreed = {"adult": "Yes", "notice.agree": "yes", "notice.version": version.group(1)}
    assert visitor.post(f"/i/{token}/form", data=agreed, follow_redirects=False).status_code == 303
    assert Pipeline(store.engine).place(cid).stage.kind is StageKind.VOICE
    voice_page = visitor.get(f"/i/{token}").text
    assert (
        "/api/rtc/" in voice_page and f'action="/i/{token}/written"' not in voice_page
    )  # not granted: voice
    early = visitor.post(f"/i/{token}/written", data={"q1": "Soup."}, follow_redirects=False)
    assert early.status_code == 303 and Pipeline(store.engine).place(cid).position == 1  # nothing recorded

    assert (
        answer(admin, cid, action="grant", multiplier="1", text_only="yes", note="Writes.").status_code == 303
    )
    written = visitor.get(f"/i/{token}").text
    assert f'action="/i/{token}/written"' in written and QUESTION in written and "/api/rtc/" not in written
    empty = visitor.post(f"/i/{token}/written", data={"q1": ""})
    assert empty.status_code == 400 and "Please answer this question." in empty.text
    text = "I make a vegetable soup and fresh bread every Sunday for my family."
    done = visitor.post(f"/i/{token}/written", data={"q1": text}, follow_redirects=False)
    assert done.status_code == 303
    voice = Pipeline(store.engine).views(cid)[1].result
    assert voice is not None and voice.answers == {"q1": text}
    assert voice.reason.startswith("answered in writing: ") and voice.status == "passed"
    assert "dish" in str(voice.detail["card"])  # judged against the voice question's rubric
    assert Candidates(store.engine).get(cid)[0].status == "completed"


def test_no_written_path_without_a_text_stage_and_extra_time_on_an_assessment(
    store: SessionStore, world: dict[str, Any]
) -> None:
    visitor, admin = world["visitor"], world["admin"]
    voice_only = Candidates(store.engine).add(slug=interview(store, ()), name="Vi Voice").id or 0
    assert 'id="no-text-path"' in admin.get(f"/app/candidates/{voice_only}").text
    refused = answer(admin, voice_only, action="grant", multiplier="1", text_only="yes")
    assert refused.status_code == 400 and "no form or SMS stage" in refused.text

    task = AssessmentSpec(task="Reply to the customer.", minutes=20, rubric=RUBRIC)
    slug = interview(
        store, (StageSpec(kind=StageKind.ASSESSMENT, assessment=task), StageSpec(kind=StageKind.VOICE))
    )
    plain, helped = (Candidates(store.engine).add(slug=slug, name=n) for n in ("Pat Plain", "Hal Helped"))
    assert answer(admin, helped.id or 0, action="grant", multiplier="1.5").status_code == 303
    for candidate, told in ((plain, "About 20 minutes."), (helped, "About 30 minutes.")):
        gate = visitor.get(f"/i/{candidate.token}").text  # the assessment opens on the notice
        version = re.search(r'name="notice.version" value="(\d+)"', gate)
        assert version
        data = {"notice.agree": "yes", "notice.version": version.group(1)}
        assert (
            visitor.post(f"/i/{candidate.token}/notice", data=data, follow_redirects=False).status_code == 303
        )
        assert told in visitor.get(f"/i/{candidate.token}").text


def test_reports_carry_nothing_of_an_accommodation(
    store: SessionStore, world: dict[str, Any], tmp_path: Path
) -> None:
    admin, cid = world["admin"], world["cid"]
    world["visitor"].post(f"/i/{world['token']}/accommodation", data={"in_writing": "yes", "text": WORDS})
    answer(admin, cid, action="grant", multiplier="2.5", text_only="yes", note="Agreed by email.")
    interview_id = Candidates(store.engine).get(cid)[0].interview_id
    sid = store_session(store, candidate_id=cid, interview_id=interview_id, directory=tmp_path / "session")
    base = f"/app/candidates/{cid}/sessions/{sid}/report"
    page, package = admin.get(base), admin.get(f"{base}.zip")
    assert page.status_code == 200 and package.status_code == 200
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        texts = [
            archive.read(n).decode("utf-8", "replace")
            for n in archive.namelist()
            if not n.startswith("media/")
        ]
    for text in (page.text, *texts):
        for secret in ("stammer", "Agreed by email", "accommodation", "2.5"):
            assert secret not in text, secret
