"""Scores on the candidate profile: the offline scorer's card read from the scoring tables, with
seekable (and escaped) evidence quotes, the evaluating state, knockouts, review flags, kept runs."""

from __future__ import annotations

import html
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import run  # tests/helpers.py
from scorer.scoring_builders import build_session  # tests/scorer/scoring_builders.py
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring.result import Judgement
from milo_voice.scoring.rubric import Criterion, QuestionRubric
from milo_voice.scoring.scorer import QuestionInput
from milo_voice.scoring.service import build
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.web.workspace.scores import OFFLINE_BADGE
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from workspace import test_browser
from workspace.sessions import ANSWER, store_session
from workspace.support import PASSWORD

RECIPE = QuestionRubric(
    criteria=(
        Criterion(id="dish", name="Names a dish", anchors={1: "Names nothing.", 5: "Makes soup and bread."}),
    )
)
CHROMIUM, FLAGS = test_browser.CHROMIUM, test_browser.FLAGS
server = test_browser.server
"""The browser test's fixture: the real app under uvicorn on 127.0.0.1 with a first admin."""
QUOTE = re.compile(r'<blockquote class="quote" data-start="([0-9.]+)"[^>]*>“(.*?)”', re.S)


def quotes(page: str) -> list[tuple[float, str]]:
    """The seekable quotes of a page: (data-start, the quote's text as the browser shows it)."""
    return [(float(start), html.unescape(text)) for start, text in QUOTE.findall(page)]


def scores_card(page: str) -> str:
    start = page.index('id="scores"')
    return page[start : page.index("</section>", start)]


def recipe_interview(store: SessionStore, rubric: QuestionRubric | None) -> tuple[int, int]:
    """A published one-question interview (with `rubric` on its question) and a candidate for it."""
    interviews = Interviews(store.engine)
    row = interviews.create(
        InterviewForm(title="Cook", questions=(QuestionForm("What is your favourite recipe?"),))
    )
    interviews.publish(row.slug)
    assert row.id is not None
    if rubric is not None:
        Interviews(store.engine).set_rubric_at(row.id, 0, rubric)
    candidate = Candidates(store.engine).add(slug=row.slug, name="Sam Cook")
    assert candidate.id is not None
    return row.id, candidate.id


def score_now(settings: Settings, store: SessionStore, session_id: int) -> None:
    """What the server does when a session ends: queue the scoring job, which the worker runs."""
    runtime = build(settings, store.engine, Candidates(store.engine))
    runtime.service.enqueue_scoring(session_id)
    assert run(runtime.worker.run_until_idle) == 1


def test_the_profile_shows_the_offline_score_with_seekable_escaped_quotes(
    admin: TestClient, viewer: TestClient, settings: Settings, store: SessionStore, tmp_path: Path
) -> None:
    interview_id, cid = recipe_interview(store, RECIPE)
    sid = store_session(store, candidate_id=cid, interview_id=interview_id, directory=tmp_path / "rec")
    runtime = build(settings, store.engine, Candidates(store.engine))
    runtime.service.enqueue_scoring(sid)
    waiting = admin.get(f"/app/candidates/{cid}")
    assert 'id="score-evaluating"' in waiting.text and "/100" not in waiting.text

    assert run(runtime.worker.run_until_idle) == 1
    card = ScoringStore(store.engine).latest_card(sid)
    assert card is not None and card.overall is not None
    for client in (admin, viewer):  # viewers review candidates: they see the scores too
        page = client.get(f"/app/candidates/{cid}")
        assert page.status_code == 200
        section = scores_card(page.text)
        assert f'<b id="score-overall">{card.overall:.0f}/100</b>' in section
        assert f">{card.band.capitalize()}</span>" in section
        assert OFFLINE_BADGE in section and "model: none" in section
        assert "Names a dish" in section and card.questions[0].criteria[0].rationale in html.unescape(section)
        [(start, text)] = quotes(section)
        assert text == ANSWER.rstrip(".")  # the sentence as spoken, without the full stop
        assert start == pytest.approx(4.0, abs=0.01)  # the answer turn starts 4 s into the recording
        assert "<script>alert" not in section and "&lt;script&gt;alert(&#39;x&#39;)" in section
        assert "Previous results" not in section

    # Re-scoring keeps the earlier run, and the profile says so.
    runtime.service.enqueue_scoring(sid)
    rescoring = admin.get(f"/app/candidates/{cid}").text
    assert "Re-scoring is in progress" in rescoring and "/100" in rescoring
    assert run(runtime.worker.run_until_idle) == 1
    again = admin.get(f"/app/candidates/{cid}").text
    assert "Previous results: 1" in again and "Re-scoring" not in again


def test_a_knocked_out_candidate_shows_the_dealbreaker_reason_and_its_quote(
    admin: TestClient, settings: Settings, store: SessionStore
) -> None:
    built = build_session(store, {0: "No, I would need a visa sponsor.", 1: "I listen and apologise."})
    score_now(settings, store, built.session_id)
    card = ScoringStore(store.engine).latest_card(built.session_id)
    assert card is not None and card.knockout is not None
    section = scores_card(admin.get(f"/app/candidates/{built.candidate_id}").text)
    knockout = section[section.index('id="knockout"') :]
    assert "Knocked out" in knockout and "Right to work" in knockout
    start, text = quotes(knockout)[0]
    assert text == "No, I would need a visa sponsor" and start == card.knockout.quote.start_s


class InventingScorer:
    """A scorer that quotes words the candidate never said, as a careless model might."""

    name, label, model = "llm", "LLM scorer (inventive)", "inventive-1"

    def fingerprint(self, question: QuestionInput) -> str:
        return question.question

    async def judge(self, question: QuestionInput) -> list[Judgement]:
        invented = ("I ran a team of forty",)
        return [Judgement(c.id, 5, True, "Strong answer.", invented) for c in question.rubric.criteria]


def test_flagged_scores_are_shown_as_flagged_and_invented_quotes_never_as_evidence(
    admin: TestClient, settings: Settings, store: SessionStore
) -> None:
    built = build_session(store, {0: "Yes.", 1: "I listen and apologise, then fix it."})
    scoring = ScoringStore(store.engine)
    card = run(
        lambda: build(settings, store.engine, Candidates(store.engine)).service.score(
            built.session_id, scorer=InventingScorer())
    )
    assert card.needs_review
    scoring.add_score(scoring.context(built.session_id), card)
    section = scores_card(admin.get(f"/app/candidates/{built.candidate_id}").text)
    assert "Flagged for review" in section and "Needs human review" in section
    assert "(flagged)" in section and "not in the transcript, not evidence" in section
    assert "LLM scorer (inventive)" in section and "model: inventive-1" in section
    assert OFFLINE_BADGE not in section
    assert "I ran a team of forty" in section
    assert all("forty" not in text for _, text in quotes(section)), "an invented quote is never seekable"


def test_an_interview_without_a_rubric_shows_no_scores_and_no_error(
    admin: TestClient, settings: Settings, store: SessionStore, tmp_path: Path
) -> None:
    interview_id, cid = recipe_interview(store, None)
    sid = store_session(store, candidate_id=cid, interview_id=interview_id, directory=tmp_path / "rec")
    score_now(settings, store, sid)  # the job runs anyway and stores an empty card
    page = admin.get(f"/app/candidates/{cid}")
    assert page.status_code == 200 and 'id="transcript"' in page.text
    assert 'id="scores"' not in page.text


@pytest.mark.e2e
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium")
def test_rubric_editing_and_quote_seeking_in_a_real_browser(server: Settings, tmp_path: Path) -> None:
    """An admin writes a rubric in the editor (rows added with the page's JavaScript); a stored
    session is scored offline; on the profile, clicking the evidence quote seeks the player."""
    from playwright.sync_api import expect, sync_playwright

    from milo_voice.store.db import create_engine

    base = f"http://127.0.0.1:{server.port}"
    shots = tmp_path / "screenshots"
    shots.mkdir()
    store = SessionStore(create_engine(server.database_url))
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            try:
                page = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=base).new_page()
                page.set_default_timeout(15_000)
                page.goto("/app/login")
                page.fill("input[name=email]", "first@example.com")
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                expect(page).to_have_url(f"{base}/app/interviews")

                page.goto("/app/interviews/new")
                page.fill("input[name=title]", "Cook")
                page.fill("textarea[name=q_text]", "What is your favourite recipe?")
                page.click("details.rubric summary")
                rows = page.locator(".criterion-row")
                expect(rows).to_have_count(2)
                page.click("[data-add-criterion]")
                expect(rows).to_have_count(3)
                rows.nth(2).locator("[data-remove-criterion]").click()
                expect(rows).to_have_count(2)
                first = rows.nth(0)
                first.locator("input[name=c_name]").fill("Names a dish")
                first.locator("textarea[name=c_a1]").fill("Names nothing.")
                first.locator("textarea[name=c_a5]").fill("Makes soup and bread.")
                page.click("#add-question")  # a new question starts with blank, closed rubric rows
                expect(page.locator("li.question").nth(1).locator(".criterion-row")).to_have_count(2)
                assert (
                    page.locator("li.question").nth(1).locator("input[name=c_name]").first.input_value() == ""
                )
                assert (
                    page.locator("li.question").nth(1).locator("input[name=c_q]").first.input_value() == "1"
                )
                page.locator("[data-remove]").nth(1).click()
                page.screenshot(path=shots / "rubric-editor.png", full_page=True)
                page.click("button[type=submit]")
                expect(page.locator("h1")).to_contain_text("Cook")
                page.click("button:has-text('Publish')")
                expect(page.locator(".pill.published")).to_be_visible()

                slug = page.url.rsplit("/", 1)[1]
                latest = Interviews(store.engine).latest(slug)
                assert latest.id is not None
                [stored] = ScoringStore(store.engine).questions(latest.id)
                assert stored.rubric is not None and stored.rubric.criteria[0].id == "names_a_dish"
                candidate = Candidates(store.engine).add(slug=slug, name="Sam <i>Cook</i>")
                assert candidate.id is not None
                sid = store_session(
                    store, candidate_id=candidate.id, interview_id=latest.id, directory=tmp_path / "r"
                )
                with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's loop
                    pool.submit(score_now, server, store, sid).result(timeout=60)

                card = ScoringStore(store.engine).latest_card(sid)
                assert card is not None and card.overall is not None and card.overall >= 75  # Great
                page.goto(f"/app/candidates/{candidate.id}")
                expect(page.locator("#score-overall")).to_have_text(f"{card.overall:.0f}/100")
                expect(page.locator("#band-meaning")).to_contain_text("calibrated")
                expect(page.locator("#scorer")).to_contain_text(OFFLINE_BADGE)
                quote = page.locator("#scores blockquote.quote").first
                expect(quote).to_contain_text("<script>alert('x')</script> soup & bread")  # shown as text
                start = float(quote.get_attribute("data-start") or "nan")
                assert page.evaluate("document.getElementById('player').currentTime") == 0
                quote.click()
                test_browser.wait_until(  # not wait_for_function: its in-page eval is refused by the CSP
                    page, f"Math.abs(document.getElementById('player').currentTime - {start}) < 1.0"
                )
                page.evaluate("document.getElementById('player').pause()")
                page.screenshot(path=shots / "profile-scores.png", full_page=True)
            finally:
                browser.close()
    finally:
        store.engine.dispose()

    target = os.environ.get("WORKSPACE_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in shots.iterdir():
            shutil.copy(shot, Path(target) / shot.name)
