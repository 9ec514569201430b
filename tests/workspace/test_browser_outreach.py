"""Outreach in real headless Chromium (issue 16): the template editor's live preview and its refusal
of an unknown variable, the nudge button and the message log on the profile, the Needs a person
queue, the outreach settings, and the funnel charts. The app runs under uvicorn on 127.0.0.1 (the
`server` fixture of test_browser.py). Screenshots go to $WORKSPACE_SCREENSHOTS/outreach when set
(how docs/screenshots/outreach/ is refreshed)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.types import ChannelName, MessageKind, Receipt
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine
from milo_voice.store.tables import CandidateSource
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from workspace.support import PASSWORD
from workspace.test_browser import CHROMIUM, FLAGS, server  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium"),
]


def seed(settings: Settings) -> tuple[str, int, int]:
    """An interview with a small funnel: (slug, a candidate with a message log, a flagged candidate)."""
    engine = create_engine(settings.database_url)
    store = SessionStore(engine)
    interviews = Interviews(engine)
    questions = (QuestionForm("Why coffee?"), QuestionForm("A busy shift?"))
    row = interviews.create(InterviewForm(title="Barista", role="Barista", questions=questions))
    version = interviews.publish(row.slug)
    added = datetime.now(UTC) - timedelta(hours=30)
    candidates = Candidates(engine, now=lambda: added)
    people = {}
    for name, source in (("Robin Reader", CandidateSource.MANUAL), ("Ana Apply", CandidateSource.SHARE_LINK),
                         ("Sam Bulk", CandidateSource.API), ("Kim Quiet", CandidateSource.MANUAL)):
        people[name] = candidates.add(
            slug=version.slug, name=name, email=f"{name.split()[0].lower()}@example.com",
            phone="(415) 555-0100" if name == "Robin Reader" else "", source=source)
    outbox = Outbox(engine, now=lambda: added)
    for name in ("Robin Reader", "Sam Bulk", "Kim Quiet"):
        person = people[name]
        mid = outbox.schedule(
            candidate_id=person.id or 0, kind=MessageKind.INVITATION, channel=ChannelName.EMAIL,
            dedupe_key=f"invitation:email:{person.id}", recipient=person.email,
            subject="Your interview for Barista", body_text=f"Hi {name}, start here: link", due_at=added)
        assert mid is not None and outbox.begin_handover(mid)
        outbox.mark_sent(mid, Receipt(f"<milo-{mid}@acme.test>"))
    for name in ("Robin Reader", "Ana Apply"):
        candidates.mark_opened(people[name].id or 0)
    for name, status in (("Robin Reader", "completed"), ("Ana Apply", "interrupted")):
        sid = store.start_session(candidate_id=people[name].id or 0, interview_id=version.id or 0,
                                  channel="webrtc", recording_dir="/tmp/none", settings={})
        store.add_turn(session_id=sid, index=0, speaker="interviewer", text="Why coffee?", start_s=0.0,
                       end_s=2.0, question_position=0, is_follow_up=False, kind="question")
        store.end_session(session_id=sid, status=status, duration_s=60.0, recording_path=None)
    kim = people["Kim Quiet"].id or 0
    reason = 'The candidate asked for a person: "Can I talk to someone?"'
    Contacts(engine).flag(kim, "asked_for_person", reason, datetime.now(UTC))
    engine.dispose()
    return version.slug, people["Sam Bulk"].id or 0, kim


def test_editor_preview_nudge_log_queue_settings_and_funnel(server: Settings, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    slug, sam, kim = seed(server)
    shots = tmp_path / "outreach"
    shots.mkdir()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900},
                                       base_url=f"http://127.0.0.1:{server.port}").new_page()
            page.set_default_timeout(15_000)
            page.goto("/app/login")
            page.fill("input[name=email]", "first@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")

            # the template editor: the preview follows the typing; an unknown variable is refused
            page.goto(f"/app/interviews/{slug}/outreach/templates/invitation/email/A")
            page.fill("input[name=subject]", "Coffee with {company}, {first_name}?")
            body = "Hi {first_name},\n\nThe {role} interview takes {duration}.\n\n{link}"
            page.fill("textarea[name=body]", body)
            expect(page.locator("#preview-subject")).to_contain_text("Coffee with")
            expect(page.locator("#preview-subject")).to_contain_text("Jordan")
            frame = page.frame_locator("#preview-html")
            expect(frame.locator("body")).to_contain_text("The Barista interview takes 6 minutes.")
            page.screenshot(path=shots / "template-editor.png", full_page=True)
            page.fill("textarea[name=body]", "Hi {frist_name}: {link}")
            expect(page.locator("#preview-error")).to_contain_text("unknown variable {frist_name}")
            page.click("button:has-text('Save variant A')")
            expect(page.locator("main")).to_contain_text("unknown variable {frist_name}")
            page.fill("textarea[name=body]", "Hi {first_name}, your {role} interview: {link}")
            page.click("button:has-text('Save variant A')")
            page.goto(f"/app/interviews/{slug}/outreach")
            expect(page.locator("#v-invitation-email-A")).to_be_visible()
            page.screenshot(path=shots / "interview-outreach.png", full_page=True)

            # the profile's message log and the nudge button
            page.goto(f"/app/candidates/{sam}")
            expect(page.locator("#messages")).to_contain_text("Your interview for Barista")
            expect(page.locator("#nudge")).to_be_disabled()  # this server has no channel configured
            expect(page.locator("#no-channel")).to_be_visible()
            expect(page.locator("#extend-deadline")).to_be_visible()
            page.screenshot(path=shots / "profile-messages.png", full_page=True)

            # needs a person: the queue and the resume button
            page.goto("/app/needs-a-person")
            expect(page.locator("#needs-a-person")).to_contain_text("Kim Quiet")
            expect(page.locator("#needs-a-person")).to_contain_text("asked for a person")
            page.screenshot(path=shots / "needs-a-person.png", full_page=True)
            page.goto(f"/app/candidates/{kim}")
            page.click("#resume-outreach")
            expect(page.locator("#needs-person")).to_have_count(0)

            # the company's guardrails, and the funnel charts
            page.goto("/app/settings/outreach")
            expect(page.locator("#rules")).to_contain_text("Turn off all candidate communications")
            page.screenshot(path=shots / "outreach-settings.png", full_page=True)
            page.goto(f"/app/interviews/{slug}/analytics")
            for chart in ("#chart-stages", "#chart-source", "#chart-channel", "#chart-after", "#chart-drop"):
                expect(page.locator(chart)).to_be_visible()
            expect(page.locator("#funnel-invited")).to_have_text("4")
            expect(page.locator("#funnel-completed")).to_have_text("1")
            page.locator("#outreach-funnel").screenshot(path=shots / "funnel.png")
        finally:
            browser.close()

    target = os.environ.get("WORKSPACE_SCREENSHOTS")
    if target:
        (Path(target) / "outreach").mkdir(parents=True, exist_ok=True)
        for shot in shots.iterdir():
            shutil.copy(shot, Path(target) / "outreach" / shot.name)
