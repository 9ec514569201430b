"""Stages in real headless Chromium (issue 18) against the real app under uvicorn:

- a form stage on a phone-sized viewport: every question type, the skip logic applied live as the
  candidate answers, validation errors with clear messages, a file upload, then the next step;
- an LLM assessment against llama.cpp serving SmolLM2 (an OpenAI-compatible server on loopback, for
  plumbing): a message to the assistant and its reply, the deliverable written and submitted, and the
  judged result's quotes checked against the chat.
Screenshots go to $WORKSPACE_SCREENSHOTS when set (docs/screenshots/stages)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from fakes.llm_server import free_port, llama_server

from milo_voice.scoring.rubric import Criterion, QuestionRubric
from milo_voice.stages.types import (
    AssessmentSpec,
    FieldKind,
    FormField,
    FormSpec,
    KnockoutRule,
    SkipRule,
    StageSpec,
)
from milo_voice.store.db import create_engine
from milo_voice.store.tables import CandidateStatus, StageKind, StageStatus
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.pipeline import Pipeline
from workspace import test_browser

CHROMIUM, FLAGS = test_browser.CHROMIUM, test_browser.FLAGS
pytestmark = test_browser.pytestmark
PHONE = {"width": 390, "height": 844}
FORM = FormSpec(
    intro="Six quick questions before the interview.",
    fields=(
        FormField(id="name", kind=FieldKind.SHORT_TEXT, label="Preferred name"),
        FormField(
            id="authorised",
            kind=FieldKind.YES_NO,
            label="Are you authorised to work in the UK?",
            knockout=KnockoutRule(accept=("Yes",)),
        ),
        FormField(
            id="weekends",
            kind=FieldKind.YES_NO,
            label="Can you work weekends?",
            skip=(SkipRule(when="No", to="years"),),
        ),
        FormField(
            id="days",
            kind=FieldKind.MULTI_CHOICE,
            label="Which weekend days?",
            options=("Saturday", "Sunday"),
        ),
        FormField(id="years", kind=FieldKind.NUMBER, label="Years of experience", minimum=0, maximum=60),
        FormField(
            id="role", kind=FieldKind.SINGLE_CHOICE, label="Which role?", options=("Barista", "Shift lead")
        ),
        FormField(id="start", kind=FieldKind.DATE, label="Earliest start date"),
        FormField(id="why", kind=FieldKind.LONG_TEXT, label="Why this job?", minimum=10),
        FormField(id="cv", kind=FieldKind.FILE, label="Your CV", required=False),
    ),
)


def shots_to_docs(shots: Path) -> None:
    target = os.environ.get("WORKSPACE_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in shots.iterdir():
            shutil.copy(shot, Path(target) / shot.name)


def test_a_candidate_fills_a_form_on_a_phone(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with test_browser.app_server(tmp_path) as server:
        engine = create_engine(server.database_url)
        interviews = Interviews(engine)
        row = interviews.create(
            InterviewForm(
                title="Barista",
                role="Barista, Leeds",
                questions=(QuestionForm("Why coffee?"),),
                stages=(StageSpec(kind=StageKind.FORM, form=FORM), StageSpec(kind=StageKind.VOICE)),
            )
        )
        interviews.publish(row.slug)
        candidate = Candidates(engine).add(slug=row.slug, name="Ana Lima", email="ana@example.org")
        cv = tmp_path / "ana-cv.pdf"
        cv.write_bytes(b"%PDF-1.4\n% a CV\n")
        shots = tmp_path / "shots"
        shots.mkdir()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            try:
                page = browser.new_context(
                    viewport=PHONE, base_url=f"http://127.0.0.1:{server.port}", is_mobile=True, has_touch=True
                ).new_page()
                page.set_default_timeout(20_000)
                page.goto(f"/i/{candidate.token}")
                expect(page.locator("#steps")).to_contain_text("Step 1 of 2")
                page.screenshot(path=shots / "stages-form-phone.png", full_page=True)
                width = page.evaluate("() => document.documentElement.scrollWidth")
                assert width <= PHONE["width"], f"the form scrolls sideways on a phone: {width}px"

                expect(page.locator("#notice-text")).to_contain_text("An AI conducts this interview")
                page.check("#notice-agree")  # the first submit carries the notice's box
                page.click("button[type=submit]")  # nothing answered: the required ones say so
                expect(page.locator("#form-errors")).to_be_visible()
                expect(page.locator("#q-name [role=alert]")).to_have_text("Please answer this question.")
                page.fill("#f-years", "80")
                page.fill("#f-name", "Ana")
                page.click("button[type=submit]")
                expect(page.locator("#q-years [role=alert]")).to_have_text(
                    "Please enter a number between 0 and 60."
                )
                expect(page.locator("#f-name")).to_have_value("Ana")  # what was typed is kept
                page.screenshot(path=shots / "stages-form-errors.png", full_page=True)

                page.check("input[name=weekends][value=No]")
                expect(page.locator("#q-days")).to_be_hidden()  # skipped live
                page.check("input[name=weekends][value=Yes]")
                expect(page.locator("#q-days")).to_be_visible()
                page.check("input[name=days][value=Sunday]")
                page.check("input[name=authorised][value=Yes]")
                page.fill("#f-years", "4")
                page.check("input[name=role][value='Shift lead']")
                page.fill("#f-start", "2027-01-11")
                page.fill("#f-why", "I love busy mornings and good coffee.")
                page.set_input_files("#f-cv", str(cv))
                page.screenshot(path=shots / "stages-form-filled.png", full_page=True)
                page.click("button[type=submit]")
                expect(page.locator("#progress")).to_contain_text("Step 2 of 2")
                page.screenshot(path=shots / "stages-voice-next.png", full_page=True)
            finally:
                browser.close()
        [form] = [v.result for v in Pipeline(engine).views(candidate.id or 0) if v.position == 0]
        assert form is not None and form.status == StageStatus.PASSED.value
        answers = form.answers
        assert (answers["name"], answers["days"], answers["years"], answers["role"], answers["start"]) == (
            "Ana",
            ["Sunday"],
            4.0,
            "Shift lead",
            "2027-01-11",
        )
        assert (
            answers["cv"]["name"] == "ana-cv.pdf"
            and Path(answers["cv"]["path"]).read_bytes() == cv.read_bytes()
        )
        shots_to_docs(shots)


TASK = AssessmentSpec(
    task="Write a two-sentence apology to a customer whose order 1182 arrived two days late.",
    materials="Order 1182 arrived two days late. We refund the delivery fee.",
    rubric=QuestionRubric(
        criteria=(
            Criterion(
                id="apology",
                name="Apologises and offers the refund",
                anchors={1: "no apology", 5: "apologises for the late order and refunds the delivery fee"},
            ),
        )
    ),
)


def test_an_llm_assessment_in_the_browser(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with llama_server(free_port()) as (llm_url, _proc):
        env = {"MILO_ASSESSMENT_LLM_BASE_URL": llm_url, "MILO_ASSESSMENT_TIMEOUT": "120"}
        with test_browser.app_server(tmp_path, env) as server:
            engine = create_engine(server.database_url)
            interviews = Interviews(engine)
            row = interviews.create(
                InterviewForm(
                    title="Support agent",
                    questions=(QuestionForm("Why support?"),),
                    stages=(
                        StageSpec(kind=StageKind.ASSESSMENT, assessment=TASK),
                        StageSpec(kind=StageKind.VOICE),
                    ),
                )
            )
            interviews.publish(row.slug)
            candidate = Candidates(engine).add(slug=row.slug, name="Bo Chen", email="bo@example.org")
            prompt = ("Write a short apology for order 1182 being two days late "
                      "and offer to refund the delivery fee.")
            answer = (
                "We are sorry that order 1182 arrived two days late. "
                "We have refunded the delivery fee to your card."
            )
            shots = tmp_path / "shots"
            shots.mkdir()
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
                try:
                    page = browser.new_context(
                        viewport={"width": 1100, "height": 900}, base_url=f"http://127.0.0.1:{server.port}"
                    ).new_page()
                    page.set_default_timeout(120_000)
                    page.goto(f"/i/{candidate.token}")
                    page.check("#notice-agree")  # the notice first, then the task
                    page.click("#notice-continue")
                    expect(page.locator("#task")).to_contain_text("order 1182")
                    page.fill("#chat-input", prompt)
                    page.click("#chat-send")
                    expect(page.locator("#chat-log .assistant")).to_have_count(1)
                    page.fill("#deliverable", answer)
                    page.wait_for_timeout(1200)  # the draft is saved as it is written
                    expect(page.locator("#draft-status")).to_have_text("Saved.")
                    page.screenshot(path=shots / "stages-assessment.png", full_page=True)
                    page.click("#submit-deliverable")
                    expect(page.locator("#progress")).to_contain_text("Step 2 of 2")
                finally:
                    browser.close()
            place = Pipeline(engine).place(candidate.id or 0)
            assert place.candidate.status == CandidateStatus.INVITED.value and place.position == 1
            [result] = [v.result for v in Pipeline(engine).views(candidate.id or 0) if v.position == 0]
            assert result is not None and result.status == StageStatus.PASSED.value
            turns = result.answers["turns"]
            assert [t["role"] for t in turns] == ["candidate", "assistant"] and turns[1]["text"]
            assert result.answers["deliverable"] == answer
            assert result.evidence, "the judged result quotes the candidate"
            for e in result.evidence:
                assert e["quote"] in answer or e["quote"] in prompt, e
            shots_to_docs(shots)
