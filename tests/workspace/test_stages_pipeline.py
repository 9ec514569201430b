"""A three-stage pipeline end to end (issue 18): Resume, then Form, then Voice.

1. a candidate whose resume passes is moved to the form and invited to it (the outreach planner);
2. a form answer that fails a dealbreaker knocks another candidate out with the reason and its quote;
3. a third candidate completes the voice stage (a stored session scored by the server's worker);
4. the board by stage shows each of them in the right column.
Also: a recruiter's override is audited; editing stages of a published interview makes a new version
and candidates keep theirs; bad stage JSON gets a clear message."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from helpers import run
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.intake.resumes import Resumes
from milo_voice.outreach.planner import OutreachConfig, triggers
from milo_voice.scoring.rubric import Criterion, QuestionRubric
from milo_voice.scoring.service import enqueue_scoring
from milo_voice.settings import Settings
from milo_voice.stages.types import (
    FieldKind,
    FormField,
    FormSpec,
    KnockoutRule,
    ResumeSpec,
    SkipRule,
    StageSpec,
)
from milo_voice.store.tables import CandidateStatus, StageKind, StageStatus, UserRole
from milo_voice.workspace.accounts import Accounts, Principal
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.background import build_worker
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.pipeline import Pipeline
from milo_voice.workspace.resume_stage import ResumeScreen
from workspace.sessions import store_session
from workspace.support import csrf_of

RESUME_RUBRIC = QuestionRubric(
    criteria=(
        Criterion(
            id="service",
            name="Customer service experience",
            anchors={
                1: "No customer-facing work.",
                5: "Years of customer service as a barista, cashier or waiter serving customers.",
            },
        ),
    )
)
FORM = FormSpec(
    fields=(
        FormField(
            id="authorised",
            kind=FieldKind.YES_NO,
            label="Are you authorised to work in the UK?",
            knockout=KnockoutRule(accept=("Yes",), reason="Not authorised to work in the UK"),
        ),
        FormField(
            id="weekends",
            kind=FieldKind.YES_NO,
            label="Can you work weekends?",
            skip=(SkipRule(when="No", to="years"),),
        ),
        FormField(
            id="which",
            kind=FieldKind.MULTI_CHOICE,
            label="Which weekend days?",
            options=("Saturday", "Sunday"),
        ),
        FormField(id="years", kind=FieldKind.NUMBER, label="Years of experience", minimum=0, maximum=60),
    )
)
STAGES = (
    StageSpec(kind=StageKind.RESUME, pass_score=50, resume=ResumeSpec(rubric=RESUME_RUBRIC)),
    StageSpec(kind=StageKind.FORM, form=FORM),
    StageSpec(kind=StageKind.VOICE),
)
GOOD_RESUME = (
    "Mira Okafor\nmira@example.org\nExperience\nBarista, Bean There Cafe, 2019-2024: served customers, "
    "five years of customer service as a barista and cashier.\nWaiter, The Grill, 2017-2019."
)
POOR_RESUME = "Sam Reed\nsam@example.org\nExperience\nWarehouse picker, night shifts, forklift licence."
SMS_ONLY = '[{"kind": "sms", "sms": {"questions": [{"text": "Why this job?"}]}}]'
RUBRIC = QuestionRubric(
    criteria=(
        Criterion(id="dish", name="Names a dish", anchors={1: "Names nothing.", 5: "Makes soup and bread."}),
    )
)

AGREE = {"notice.agree": "yes", "notice.version": "0"}
"""The notice's box on a browser stage's first submit (the built-in notice: version 0)."""


@pytest.fixture
def slug(store: SessionStore) -> str:
    interviews = Interviews(store.engine)
    row = interviews.create(
        InterviewForm(title="Barista", questions=(QuestionForm("Favourite recipe?"),), stages=STAGES)
    )
    interviews.publish(row.slug)
    interviews.set_rubric_at(row.id or 0, 0, RUBRIC)
    return row.slug


def with_resume(store: SessionStore, slug: str, name: str, text: str) -> int:
    candidate = Candidates(store.engine).add(
        slug=slug, name=name, email=f"{name.split()[0].lower()}@example.org"
    )
    cid = candidate.id or 0
    Resumes(store.engine).attach(cid, filename="cv.pdf", path="cv.pdf", size=len(text), text=text)
    return cid


def screen(store: SessionStore, cid: int) -> bool:
    pipeline = Pipeline(store.engine)
    return run(lambda: ResumeScreen(pipeline, Resumes(store.engine)).screen(cid))


def test_three_stages_end_to_end(
    client: TestClient,
    admin: TestClient,
    settings: Settings,
    store: SessionStore,
    slug: str,
    tmp_path: Path,
) -> None:
    pipeline, candidates = Pipeline(store.engine), Candidates(store.engine)
    mira = with_resume(store, slug, "Mira Okafor", GOOD_RESUME)
    sam = with_resume(store, slug, "Sam Reed", POOR_RESUME)
    added, _ = candidates.get(mira)
    assert (
        added.stage_kind == "resume"
        and list(triggers(added, OutreachConfig(base_url="http://x"), added.created_at)) == []
    )

    # 1. the resume screen: Mira passes and is invited to the form; Sam waits for a recruiter
    assert screen(store, mira) and screen(store, sam)
    moved, _ = candidates.get(mira)
    assert (moved.stage_position, moved.stage_kind, moved.status) == (
        1,
        "form",
        CandidateStatus.INVITED.value,
    )
    [resume_result] = [v.result for v in pipeline.views(mira) if v.position == 0]
    assert resume_result is not None and resume_result.status == StageStatus.PASSED.value
    assert resume_result.evidence and all(
        e["quote"] in " ".join(GOOD_RESUME.split()) for e in resume_result.evidence
    )
    due = [d.key for d in triggers(moved, OutreachConfig(base_url="http://x"), moved.stage_entered_at)]
    assert f"invitation:s2:email:{mira}" in due  # invited to stage 2 through the outreach planner
    held, _ = candidates.get(sam)
    assert held.stage_position == 0 and held.status == CandidateStatus.EVALUATING.value
    page = client.get(f"/i/{held.token}")
    assert "reviewing" in page.text  # nothing for Sam to do while a person decides

    # a recruiter advances Sam past the resume screen: audited, with the reason
    pipeline.override(_admin(store), sam, 0, advance=True, reason="Strong references by phone")
    assert candidates.get(sam)[0].stage_kind == "form"
    [event] = Audit(store.engine).recent(target_type="candidate", target_id=sam)
    assert event.action == "stage.override" and event.detail["reason"] == "Strong references by phone"

    # 2. the form: Sam is not authorised to work -> knocked out with the reason and the quote
    form_page = client.get(f"/i/{held.token}")
    assert "Step 2 of 3" in form_page.text and 'name="authorised"' in form_page.text
    bad = client.post(
        f"/i/{held.token}/form",
        data={"authorised": "No", "weekends": "No", "years": "3", **AGREE},  # the first submit: the notice
        follow_redirects=False,
    )
    assert bad.status_code == 303
    out, _ = candidates.get(sam)
    assert out.status == CandidateStatus.KNOCKED_OUT.value
    [form_result] = [v.result for v in pipeline.views(sam) if v.position == 1]
    assert form_result is not None and form_result.status == StageStatus.KNOCKED_OUT.value
    assert form_result.reason == "Not authorised to work in the UK: answered No"
    assert form_result.evidence == [{"quote": "No", "source": "Q1 Are you authorised to work in the UK?"}]
    assert "unable to move forward" in client.get(f"/i/{held.token}").text

    # Mira: a wrong answer first keeps what she typed; then the form passes and she reaches the voice stage
    retry = client.post(
        f"/i/{moved.token}/form", data={"authorised": "Yes", "weekends": "Yes", "years": "many", **AGREE}
    )
    assert retry.status_code == 400 and "Please enter a number between 0 and 60." in retry.text
    assert "Please choose" not in retry.text and 'value="many"' not in retry.text
    ok = client.post(
        f"/i/{moved.token}/form",
        data={"authorised": "Yes", "weekends": "Yes", "which": ["Saturday", "Sunday"], "years": "5"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    at_voice, _ = candidates.get(mira)
    assert (at_voice.stage_kind, at_voice.status) == ("voice", CandidateStatus.INVITED.value)
    [form_ok] = [v.result for v in pipeline.views(mira) if v.position == 1]
    assert form_ok is not None and form_ok.answers["which"] == ["Saturday", "Sunday"]
    assert "Step 3 of 3 · Web Interview" in client.get(f"/i/{moved.token}").text  # the voice page, branded
    assert form_ok.answers["years"] == 5.0

    # 3. the voice stage: a stored session scored by the server's worker completes the pipeline
    sid = store_session(
        store, candidate_id=mira, interview_id=at_voice.interview_id, directory=tmp_path / "rec"
    )
    enqueue_scoring(settings, store.engine, sid, candidates=candidates)
    run(build_worker(settings, store.engine).worker.run_until_idle)
    done, _ = candidates.get(mira)
    assert done.status == CandidateStatus.COMPLETED.value
    [voice] = [v.result for v in pipeline.views(mira) if v.position == 2]
    assert voice is not None and voice.status == StageStatus.PASSED.value and voice.score is not None

    # 4. the board by stage, and the per-type status columns
    third = with_resume(store, slug, "Lee Chan", GOOD_RESUME)
    assert screen(store, third)
    board = admin.get("/app/candidates", params={"interview": slug, "view": "stages"}).text
    lanes = {
        name: board.split(f'data-stage="{name}"')[1].split("</section>")[0]
        for name in ("Resume Screen", "Form", "Web Interview", "Completed", "Knocked out")
    }
    assert "Mira Okafor" in lanes["Completed"] and "Sam Reed" in lanes["Knocked out"]
    assert "Lee Chan" in lanes["Form"]
    listing = admin.get("/app/candidates", params={"interview": slug}).text
    assert "Resume status" in listing and "Web interview status" in listing and "knocked out" in listing
    profile = admin.get(f"/app/candidates/{sam}").text
    assert 'id="stages"' in profile and "Not authorised to work in the UK" in profile


def _admin(store: SessionStore) -> Principal:
    user = Accounts(store.engine).create_user(
        email="lead@example.org", password="a long password 1", role="admin", name="Lead"
    )
    return Principal(user_id=user.id or 0, email=user.email, role=UserRole.ADMIN)


def test_editing_stages_makes_a_version_and_candidates_keep_theirs(store: SessionStore, slug: str) -> None:
    interviews, candidates = Interviews(store.engine), Candidates(store.engine)
    first = interviews.latest(slug)
    kept = candidates.add(slug=slug, name="Early Bird", email="early@example.org")
    saved = interviews.set_stages(slug, (STAGES[1], STAGES[2]))
    assert saved.version == first.version + 1
    assert [s.kind for s in interviews.stages(saved.id or 0)] == [StageKind.FORM, StageKind.VOICE]
    assert len(interviews.questions(saved.id or 0)) == 1  # the questions come along
    assert [s.kind for s in Pipeline(store.engine).place(kept.id or 0).stages] == [
        StageKind.RESUME,
        StageKind.FORM,
        StageKind.VOICE,
    ]
    late = candidates.add(slug=slug, name="Late Comer", email="late@example.org")
    assert late.stage_kind == "form"


def test_the_stage_editor_saves_and_explains_mistakes(
    admin: TestClient, slug: str, store: SessionStore
) -> None:
    page = admin.get(f"/app/interviews/{slug}/stages")
    assert page.status_code == 200 and '"kind": "resume"' in html.unescape(page.text)
    token = csrf_of(page.text)
    bad = admin.post(
        f"/app/interviews/{slug}/stages", data={"csrf_token": token, "stages": '[{"kind": "form"}]'}
    )
    assert bad.status_code == 400 and "stage 1" in bad.text and "form stage needs its questions" in bad.text
    sms = admin.post(f"/app/interviews/{slug}/stages", data={"csrf_token": token, "stages": SMS_ONLY})
    assert sms.status_code == 400 and "needs an SMS channel" in sms.text
    broken = admin.post(f"/app/interviews/{slug}/stages", data={"csrf_token": token, "stages": "[{"})
    assert broken.status_code == 400 and "not valid JSON" in broken.text
    good = admin.post(
        f"/app/interviews/{slug}/stages",
        data={"csrf_token": token, "stages": '[{"kind": "voice"}]'},
        follow_redirects=False,
    )
    assert good.status_code == 303
    assert [
        s.kind for s in Interviews(store.engine).stages(Interviews(store.engine).latest(slug).id or 0)
    ] == [StageKind.VOICE]


def test_a_stage_judged_by_an_llm_that_is_down_is_judged_offline_and_says_so(settings: Settings) -> None:
    from fakes.llm_server import free_port

    from milo_voice.stages.resume_screen import screen_resume
    from milo_voice.workspace.stage_settings import judged

    dead = settings.with_overrides(
        scorer="llm", scoring_llm_base_url=f"http://127.0.0.1:{free_port()}/v1", scoring_timeout=2.0
    )
    spec = STAGES[0]
    outcome = run(lambda: judged(dead, lambda scorer: screen_resume(GOOD_RESUME, spec, scorer=scorer)))
    assert outcome.reason.startswith("the LLM scorer was unavailable, scored offline: ")
    assert outcome.passed is True and outcome.score is not None


def test_the_editor_buttons_add_move_and_remove_stages_each_as_a_new_version(
    admin: TestClient, slug: str, store: SessionStore
) -> None:
    interviews = Interviews(store.engine)

    def kinds() -> list[StageKind]:
        return [s.kind for s in interviews.stages(interviews.latest(slug).id or 0)]

    page = admin.get(f"/app/interviews/{slug}/stages")
    token, before = csrf_of(page.text), interviews.latest(slug).version
    act = f"/app/interviews/{slug}/stages/action"
    assert admin.post(act, data={"csrf_token": token, "action": "add", "kind": "form"}).status_code == 200
    assert kinds() == [StageKind.RESUME, StageKind.FORM, StageKind.VOICE, StageKind.FORM]
    admin.post(act, data={"csrf_token": token, "action": "up", "position": "3"})
    assert kinds() == [StageKind.RESUME, StageKind.FORM, StageKind.FORM, StageKind.VOICE]
    admin.post(act, data={"csrf_token": token, "action": "remove", "position": "1"})
    assert kinds() == [StageKind.RESUME, StageKind.FORM, StageKind.VOICE]
    assert interviews.latest(slug).version == before + 3  # each change on a published interview: a version
    moved = admin.post(act, data={"csrf_token": token, "action": "up", "position": "1"})
    assert moved.status_code == 400 and "resume screen comes first" in moved.text
    shown = admin.get(f"/app/interviews/{slug}/stages").text
    assert shown.count('data-kind="') == 3 and "Add a stage" in shown


def test_a_candidate_without_a_resume_uploads_it_at_the_resume_screen(
    client: TestClient, store: SessionStore, slug: str
) -> None:
    from conftest import REPO

    candidate = Candidates(store.engine).add(slug=slug, name="Ines Duarte", email="ines@example.org")
    page = client.get(f"/i/{candidate.token}")
    assert page.status_code == 200 and 'name="resume"' in page.text and "Step 1 of 3" in page.text
    fake = client.post(
        f"/i/{candidate.token}/resume", files={"resume": ("cv.pdf", b"not a pdf at all", "application/pdf")},
        data=AGREE,  # the first submit carries the notice's box
    )
    assert fake.status_code == 400 and "We could not use that file" in fake.text
    pdf = (REPO.parent / "shared" / "data" / "resumes" / "cv_dev_01.pdf").read_bytes()
    sent = client.post(
        f"/i/{candidate.token}/resume",
        files={"resume": ("my cv.pdf", pdf, "application/pdf")},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    resume = Resumes(store.engine).get(candidate.id or 0)
    assert resume is not None and resume.filename == "my cv.pdf" and len(resume.text) > 200
    [screened] = [v.result for v in Pipeline(store.engine).views(candidate.id or 0) if v.position == 0]
    assert screened is not None and screened.status in (
        StageStatus.PASSED.value,
        StageStatus.NOT_PASSED.value,
    )
    assert 'name="resume"' not in client.get(f"/i/{candidate.token}").text  # screened: no second upload


def test_candidate_posts_refuse_oversized_bodies_and_garbage_while_arriving(
    client: TestClient, store: SessionStore, slug: str
) -> None:
    from milo_voice.web.resume_candidate import MAX_RESUME_BYTES
    from milo_voice.web.stage_candidate import MAX_FORM_BYTES

    resume_first = Candidates(store.engine).add(slug=slug, name="Big File", email="big@example.org")
    huge = b"%PDF-1.4\n" + b"0" * (MAX_RESUME_BYTES + 1)
    refused = client.post(
        f"/i/{resume_first.token}/resume", files={"resume": ("cv.pdf", huge, "application/pdf")}
    )
    assert refused.status_code == 400 and "too large" in refused.text
    assert Resumes(store.engine).get(resume_first.id or 0) is None  # nothing kept

    at_form = with_resume(store, slug, "Form Filler", GOOD_RESUME)
    assert screen(store, at_form)
    token = Candidates(store.engine).get(at_form)[0].token
    big = client.post(
        f"/i/{token}/form", files={"cv": ("a.bin", b"0" * (MAX_FORM_BYTES + 1))}, data={"authorised": "Yes"}
    )
    assert big.status_code == 400 and "too large" in big.text
    garbage = client.post(
        f"/i/{token}/form",
        content=b"--x\r\nnot multipart",
        headers={"content-type": "multipart/form-data; boundary=y"},
    )
    assert garbage.status_code in (200, 400)  # read as an empty form: the questions come back with errors
    still, _ = Candidates(store.engine).get(at_form)  # nothing judged: still invited to the form
    assert (still.stage_kind, still.status) == ("form", CandidateStatus.INVITED.value)
