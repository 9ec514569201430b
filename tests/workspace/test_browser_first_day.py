"""The recruiter's first day in real headless Chromium (issue 14): a decision sticks when the candidate
reopens their link, a granted retake keeps both sessions and the chosen one counts, and the list
filters by band and sorts by score. The app runs under uvicorn on 127.0.0.1 (the `server` fixture
of test_browser.py); sessions and scores are stored through the real writers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.review import Review
from workspace.sessions import store_session
from workspace.support import PASSWORD
from workspace.test_browser import CHROMIUM, FLAGS, server  # noqa: F401  (the fixture)
from workspace.test_triage import score

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium"),
]


def scored_session(store: SessionStore, candidate_id: int, interview_id: int, directory: Path,
                   overall: float) -> int:
    sid = store_session(store, candidate_id=candidate_id, interview_id=interview_id, directory=directory)
    score(store, sid, overall)
    return sid


def seed(settings: Settings, tmp_path: Path) -> dict[str, tuple[int, str, int]]:
    """Three interviewed candidates: name -> (candidate id, link token, session id)."""
    store = SessionStore(create_engine(settings.database_url))
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Barista", questions=(QuestionForm("Why coffee?"),)))
    interviews.publish(row.slug)
    seeded = {}
    for name, overall in (("Gina Great", 91.0), ("Gus Good", 62.0), ("Bo Bad", 18.0)):
        c = Candidates(store.engine).add(slug=row.slug, name=name)
        assert c.id is not None
        sid = scored_session(store, c.id, c.interview_id, tmp_path / name.replace(" ", "-"), overall)
        seeded[name] = (c.id, c.token, sid)
    store.engine.dispose()
    return seeded


def test_decisions_stick_retakes_keep_sessions_and_the_list_triages_by_band(
    server: Settings, tmp_path: Path  # noqa: F811
) -> None:
    from playwright.sync_api import expect, sync_playwright

    seeded = seed(server, tmp_path)
    gina, token, first = seeded["Gina Great"]
    base = f"http://127.0.0.1:{server.port}"
    shots = tmp_path / "shots"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=base).new_page()
            page.set_default_timeout(15_000)
            page.goto("/app/login")
            page.fill("input[name=email]", "first@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")

            page.goto(f"/app/candidates/{gina}")
            page.click("button:has-text('Shortlist')")
            expect(page.locator("#status")).to_have_text("Shortlisted")
            candidate_page = browser.new_context(base_url=base).new_page()
            candidate_page.goto(f"/i/{token}")
            expect(candidate_page.locator("main")).to_contain_text("This interview is closed")
            expect(candidate_page.locator("main")).to_contain_text("the hiring team has it")
            assert "consent" not in candidate_page.content().lower()
            candidate_page.screenshot(path=shots / "candidate-closed.png")
            engine = create_engine(server.database_url)
            assert [(s.id, s.status) for s in Review(engine).sessions(gina)] == [(first, "completed")]

            page.click("#grant-retake")
            expect(page.locator("#retake-granted")).to_be_visible()
            expect(page.locator("#status")).to_have_text("Invited")
            candidate_page.goto(f"/i/{token}")
            expect(candidate_page.locator("main")).not_to_contain_text("This interview is closed")
            expect(candidate_page.locator("main")).to_contain_text("record")  # the consent step
            store = SessionStore(engine)
            second = scored_session(store, gina, Candidates(engine).get(gina)[1].id or 0,
                                    tmp_path / "retake", 40.0)
            page.goto(f"/app/candidates/{gina}")
            tabs = page.locator("#sessions a")
            expect(tabs).to_have_count(2)
            expect(page.locator("#sessions a", has_text=f"Session {second}")).to_contain_text("counts")
            page.click(f"#sessions a:has-text('Session {first}')")
            page.click("#count-this")
            expect(page.locator("#sessions a", has_text=f"Session {first}")).to_contain_text("counts")
            expect(page.locator("#sessions a", has_text=f"Session {second}")).not_to_contain_text("counts")
            page.screenshot(path=shots / "profile-sessions.png", full_page=True)

            page.goto("/app/candidates")
            page.select_option("#band-filter", "great")
            page.click("#filters button:has-text('Apply')")
            rows = page.locator("#candidates tbody tr")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("Gina Great")  # her first session (91) counts, not the retake
            page.select_option("#band-filter", "")
            page.click("#filters button:has-text('Apply')")
            page.click("#candidates th a:has-text('Score')")
            names = page.locator("#candidates tbody tr td:nth-child(2)").all_inner_texts()
            scores = [int(s) for s in page.locator("#candidates td.score").all_inner_texts()]
            assert scores == sorted(scores) or scores == sorted(scores, reverse=True)
            assert set(names) == {"Gina Great", "Gus Good", "Bo Bad"}
            page.screenshot(path=shots / "candidates-by-score.png", full_page=True)
            assert re.search(r"band great", page.content())

            page.goto("/app/settings/phone")
            page.fill("input[name=number]", "+1 (415) 555-0142")
            page.select_option("select[name=interview]", label="Barista (version 1)")
            page.click("button:has-text('Map number')")
            expect(page.locator("main")).to_contain_text("+1 415-555-0142")
            page.goto(f"/app/candidates/{seeded['Bo Bad'][0]}")
            expect(page.locator("#phone-numbers")).to_contain_text("415")
            code = page.locator("#access-code").inner_text().replace(" ", "")
            assert re.fullmatch(r"\d{8}", code), code
            page.screenshot(path=shots / "profile-phone.png", full_page=True)
        finally:
            browser.close()
