"""The candidate's voluntary self-identification form over the real app (Starlette TestClient, real SQLite):
on the thank-you page with its notice, saved, changed and removed through the real writer, garbage refused
with a 400 that changes nothing, and the answers never shown on any recruiter surface (profile, list,
exports, JSON API, report ZIP)."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from workspace.support import ADMIN, PASSWORD, login

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring.result import ScoreCard
from milo_voice.scoring.rubric import Bands
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.stages.types import FieldKind, FormField, FormSpec, StageSpec
from milo_voice.store.tables import Candidate, CandidateStatus, StageKind
from milo_voice.web.app import create_app
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.self_identification import RACE_LABELS, SEX_LABELS, SelfIdentifications


@pytest.fixture
def client(settings: Settings, store: SessionStore) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store.engine), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def candidate(store: SessionStore) -> Candidate:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Warehouse associate", questions=(QuestionForm("Why us?"),)))
    interviews.publish(row.slug)
    return Candidates(store.engine).add(slug=row.slug, name="Sam Sender", email="sam@example.org")


def stored(store: SessionStore, candidate: Candidate) -> tuple[str, str] | None:
    found = SelfIdentifications(store.engine).for_audit([candidate.id or 0]).get(candidate.id or 0)
    return None if found is None else (found.sex, found.race_ethnicity)


def checked(page: str) -> dict[str, str]:
    """The radio buttons checked in the self-identification form: name -> value."""
    form = page.split('id="self-id-form"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'<input type="radio" name="(\w+)" value="(\w+)" checked>', form))


def test_the_thank_you_page_offers_the_voluntary_form_with_its_notice(
    client: TestClient, candidate: Candidate
) -> None:
    page = client.get(f"/i/{candidate.token}/thanks")
    assert page.status_code == 200 and "Your interview has ended" in page.text
    assert f'action="/i/{candidate.token}/self-identification"' in page.text
    notice = re.sub(r"<[^>]+>|\s+", " ", page.text.split('id="self-id-notice">', 1)[1].split("</p>", 1)[0])
    for words in (
        "voluntary",
        "bias audit",
        "only in aggregate",
        "no scorer, person or AI, ever sees them",
        "does not affect your application",
    ):
        assert words in notice, words
    for value, label in (*SEX_LABELS.items(), *RACE_LABELS.items()):
        assert f'value="{value}"' in page.text and f"<span>{label}</span>" in page.text
    assert checked(page.text) == {"sex": "declined", "race_ethnicity": "declined"}, (
        "Prefer not to say by default"
    )
    alone = client.get(f"/i/{candidate.token}/self-identification")
    assert alone.status_code == 200 and checked(alone.text) == {
        "sex": "declined",
        "race_ethnicity": "declined",
    }
    assert client.get("/i/not-a-token/self-identification").status_code == 404
    assert client.post("/i/not-a-token/self-identification", data={"sex": "male"}).status_code == 404


def test_the_last_step_of_a_pipeline_ends_on_the_same_form(client: TestClient, store: SessionStore) -> None:
    form = FormSpec(fields=(FormField(id="years", kind=FieldKind.NUMBER, label="Years of experience"),))
    stages = (StageSpec(kind=StageKind.FORM, form=form), StageSpec(kind=StageKind.VOICE))
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Barista", questions=(QuestionForm("Why?"),), stages=stages))
    interviews.publish(row.slug)
    people = Candidates(store.engine)
    done = people.add(slug=row.slug, name="Pat Pipeline")
    people.set_status(done.id or 0, CandidateStatus.COMPLETED)
    page = client.get(f"/i/{done.token}")
    assert "You have completed every step" in page.text
    assert f'action="/i/{done.token}/self-identification"' in page.text and 'id="self-id-notice"' in page.text


def test_send_change_and_remove_the_answers(
    client: TestClient, store: SessionStore, candidate: Candidate
) -> None:
    url = f"/i/{candidate.token}/self-identification"
    sent = client.post(
        url, data={"sex": "female", "race_ethnicity": "asian", "action": "save"}, follow_redirects=False
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"{url}?done=saved"
    assert stored(store, candidate) == ("female", "asian")
    thanks = client.get(sent.headers["location"])
    assert "Thank you. Your answers are saved." in thanks.text
    assert checked(thanks.text) == {"sex": "declined", "race_ethnicity": "declined"}, "never shown back"
    assert "Asian</span>" in thanks.text and 'asian" checked' not in thanks.text
    client.post(url, data={"sex": "male", "race_ethnicity": "two_or_more_races", "action": "save"})
    assert stored(store, candidate) == ("male", "two_or_more_races"), "sent again: replaced"
    gone = client.post(
        url, data={"sex": "male", "race_ethnicity": "white", "action": "withdraw"}, follow_redirects=False
    )
    assert gone.headers["location"] == f"{url}?done=removed" and stored(store, candidate) is None
    assert "Your answers are removed." in client.get(gone.headers["location"]).text


def test_prefer_not_to_say_is_stored_as_declined(
    client: TestClient, store: SessionStore, candidate: Candidate
) -> None:
    page = client.get(f"/i/{candidate.token}/thanks").text
    defaults = checked(page)  # the form as the candidate sees it, sent untouched
    client.post(f"/i/{candidate.token}/self-identification", data={**defaults, "action": "save"})
    assert stored(store, candidate) == ("declined", "declined")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sex": "other", "race_ethnicity": "white"}, "Sex: &#39;other&#39; is not one of the choices"),
        (
            {"sex": "female", "race_ethnicity": "<b>martian</b>"},
            "Race/ethnicity: &#39;&lt;b&gt;martian&lt;/b&gt;&#39;",
        ),
        ({"sex": "female"}, "Race/ethnicity: no answer was sent"),
        ({"sex": ["female", "male"], "race_ethnicity": "white"}, "Sex: choose one answer, not 2"),
        ({"sex": "Female", "race_ethnicity": "White"}, "Sex: &#39;Female&#39; is not one of the choices"),
        ({"sex": "x" * 5000, "race_ethnicity": "white"}, "is not one of the choices"),
    ],
)
def test_garbage_is_refused_with_a_clear_400_and_nothing_is_lost(
    client: TestClient, store: SessionStore, candidate: Candidate, data: dict[str, Any], message: str
) -> None:
    url = f"/i/{candidate.token}/self-identification"
    client.post(url, data={"sex": "male", "race_ethnicity": "asian"})
    refused = client.post(url, data={**data, "action": "save"}, follow_redirects=False)
    assert refused.status_code == 400 and message in refused.text
    assert "Your answers were not saved" in refused.text and "<b>martian</b>" not in refused.text
    assert stored(store, candidate) == ("male", "asian"), "the earlier answers are kept as they were"
    if data.get("race_ethnicity") == "white":
        assert checked(refused.text)["race_ethnicity"] == "white", "the valid answer is shown as sent"


def scored_session(store: SessionStore, candidate: Candidate) -> int:
    """A completed session with a stored score, so the profile, exports and report ZIP have content."""
    sid = store.start_session(
        candidate_id=candidate.id or 0,
        interview_id=candidate.interview_id,
        channel="simulate",
        recording_dir="/nonexistent",
        settings={},
    )
    store.add_turn(
        session_id=sid,
        index=0,
        speaker="interviewer",
        text="Why us?",
        start_s=0.0,
        end_s=1.0,
        question_position=0,
        is_follow_up=False,
        kind="question",
    )
    store.add_turn(
        session_id=sid,
        index=1,
        speaker="candidate",
        text="I like the team.",
        start_s=1.5,
        end_s=3.0,
        question_position=0,
        is_follow_up=False,
        kind="answer",
    )
    store.end_session(session_id=sid, status="completed", duration_s=3.0, recording_path=None)
    scoring, bands = ScoringStore(store.engine), Bands()
    scoring.add_score(
        scoring.context(sid),
        ScoreCard(
            scorer="offline",
            scorer_label="Offline",
            model="",
            prompt_hash="0" * 64,
            created_at=datetime.now(UTC),
            bands=bands,
            overall=72.0,
            band=bands.band(72.0),
            knockout=None,
            needs_review=False,
            review_reasons=[],
            questions=[],
        ),
    )
    return sid


def zip_text(content: bytes, folder: Path) -> str:
    """Every file of a report ZIP as text (PDFs through pdftotext)."""
    out = []
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        for name in package.namelist():
            data = package.read(name)
            if name.endswith(".pdf"):
                (folder / "r.pdf").write_bytes(data)
                data = subprocess.run(
                    ["pdftotext", str(folder / "r.pdf"), "-"], capture_output=True, check=True
                ).stdout
            out.append(data.decode("utf-8", "replace"))
    return "\n".join(out)


def test_the_answers_never_reach_a_recruiter_surface(
    client: TestClient, store: SessionStore, candidate: Candidate, tmp_path: Path
) -> None:
    sid = scored_session(store, candidate)
    url = f"/i/{candidate.token}/self-identification"
    client.post(url, data={"sex": "female", "race_ethnicity": "native_hawaiian_or_pacific_islander"})
    assert stored(store, candidate) == ("female", "native_hawaiian_or_pacific_islander")
    accounts = Accounts(store.engine)
    admin = accounts.create_user(email=ADMIN, password=PASSWORD, role="admin", name="Ada Admin")
    _, key = accounts.create_api_key(user_id=admin.id or 0, name="audit test")
    login(client, ADMIN)
    cid, slug = candidate.id, Interviews(store.engine).get(candidate.interview_id).slug
    bearer = {"Authorization": f"Bearer {key}"}
    surfaces = {
        "profile": client.get(f"/app/candidates/{cid}").text,
        "list": client.get("/app/candidates").text,
        "list of the interview": client.get("/app/candidates", params={"interview": slug}).text,
        "export csv": client.get(f"/app/interviews/{slug}/candidates.csv").text,
        "export json": client.get(f"/app/interviews/{slug}/candidates.json").text,
        "api candidate": client.get(f"/api/candidates/{cid}", headers=bearer).text,
        "api list": client.get("/api/candidates", headers=bearer).text,
        "report": client.get(f"/app/candidates/{cid}/sessions/{sid}/report").text,
        "report json": client.get(f"/app/candidates/{cid}/sessions/{sid}/report.json").text,
        "report zip": zip_text(
            client.get(f"/app/candidates/{cid}/sessions/{sid}/report.zip").content, tmp_path
        ),
    }
    for surface, text in surfaces.items():
        assert "Sam Sender" in text or "sam@example.org" in text or surface.startswith("report"), surface
        for shown in (
            "native_hawaiian",
            "Native Hawaiian",
            "Pacific Islander",
            "female",
            "Female",
            "self_identification",
            "self-identification",
            "Self-identification",
        ):
            assert shown not in text, f"{surface} shows {shown!r}"
    assert "I like the team." in surfaces["report zip"], "the ZIP was read (its transcript is there)"
