"""Bulk intake in real headless Chromium (issue 17) against the real app and its worker under uvicorn:
a ZIP of 20 resumes is uploaded and read in the background while the progress bar moves; a CSV is
uploaded and its columns mapped; on the review screen one row is edited and two are discarded; the
rest are ingested, and the candidates appear with unique links and their resumes on their profiles.
Screenshots of the upload, mapping and review screens go to $WORKSPACE_SCREENSHOTS when set."""

from __future__ import annotations

import io
import os
import re
import shutil
import time
import zipfile
from pathlib import Path

from conftest import REPO

from milo_voice.settings import Settings
from milo_voice.store.db import create_engine
from milo_voice.workspace.candidates import CandidateQuery, Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from workspace import test_browser
from workspace.support import PASSWORD

RESUMES = REPO.parent / "shared" / "data" / "resumes"
CHROMIUM, FLAGS = test_browser.CHROMIUM, test_browser.FLAGS
server = test_browser.server
pytestmark = test_browser.pytestmark
CSV = ("First name,Last name,Email,Mobile,City,Applicant ID\n"
       "Ana,Lima,ana.lima@example.com,+1 415 555 0134,Oakland,A-1\n"
       "Bo,Chen,bo.chen@example.com,,Austin,A-2\n")


def twenty_resumes() -> bytes:
    pdfs = sorted(RESUMES.glob("cv_dev_*.pdf"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(20):
            source = pdfs[i % len(pdfs)]
            z.write(source, f"job-fair/{i:02d}-{source.name}")
    return out.getvalue()


def test_a_recruiter_uploads_reviews_and_ingests_in_a_real_browser(server: Settings, tmp_path: Path) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect, sync_playwright

    engine = create_engine(server.database_url)
    interviews = Interviews(engine)
    row = interviews.create(InterviewForm(title="Warehouse associate", questions=(QuestionForm("Why?"),)))
    interviews.publish(row.slug)
    archive, listing = tmp_path / "job-fair.zip", tmp_path / "applicants.csv"
    archive.write_bytes(twenty_resumes())
    listing.write_bytes(CSV.encode("utf-8"))
    base, shots = f"http://127.0.0.1:{server.port}", tmp_path / "screenshots"
    shots.mkdir()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base).new_page()
            page.set_default_timeout(20_000)
            page.goto("/app/login")
            page.fill("input[name=email]", "first@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"/app/interviews/{row.slug}")
            page.click("text=Add in bulk")
            page.screenshot(path=shots / "intake-upload.png", full_page=True)

            page.set_input_files("#upload-resumes input[type=file]", str(archive))
            page.click("#upload-resumes button")
            page.wait_for_url("**/app/intake/*")
            seen = []
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:  # the page reloads itself when reading ends: a sample may meet the navigation
                    if not page.locator("#reading").count():
                        break
                    value = page.evaluate("() => { const b = document.getElementById('read-progress'); "
                                          "return b ? [b.value, b.max] : null; }")
                    if value:
                        seen.append((float(value[0]), float(value[1])))
                        if len(seen) == 3:
                            page.screenshot(path=shots / "intake-progress.png")
                except PlaywrightError:
                    pass
                time.sleep(0.1)
            page.wait_for_load_state()
            assert any(0 < done < total for done, total in seen), f"the bar never moved: {seen[:5]}..."
            expect(page.locator("#review")).to_be_visible()
            items = page.locator("#items tr.item")
            expect(items).to_have_count(20)
            pending = page.locator("#items tr.item.pending")
            assert pending.count() == 20

            first = pending.nth(0)
            first.locator("input[name=email]").fill("edited.by.hand@example.com")
            first.locator("form.edit button").click()
            expect(page.locator("#items tr.item.pending").nth(0).locator("input[name=email]")).to_have_value(
                "edited.by.hand@example.com")
            page.screenshot(path=shots / "intake-review.png", full_page=True)
            boxes = page.locator("#items input[name=item]")
            boxes.nth(18).check()
            boxes.nth(19).check()
            page.click("button[value=discard]")
            expect(page.locator("#flash")).to_contain_text("2 row(s) discarded")
            expect(page.locator("#items tr.item.discarded")).to_have_count(2)
            page.check("#select-all")
            page.click("button[value=ingest]")
            expect(page.locator("#flash")).to_contain_text("candidate(s) added")
            added = page.locator("#items tr.item.ingested")
            from_zip = added.count()  # the rest repeat an email already ingested: kept, with the reason
            assert from_zip >= 10
            expect(page.locator("#flash")).to_contain_text("kept in review")
            batch_url = page.url.split("?")[0]

            page.goto(f"/app/interviews/{row.slug}/intake")
            page.set_input_files("#upload-csv input[type=file]", str(listing))
            page.click("#upload-csv button")
            expect(page.locator("#mapping")).to_be_visible()
            page.screenshot(path=shots / "intake-mapping.png", full_page=True)
            page.click("#mapping button")
            expect(page.locator("#items tr.item.pending")).to_have_count(2, timeout=30_000)
            page.check("#select-all")
            page.click("button[value=ingest]")
            expect(page.locator("#flash")).to_contain_text("2 candidate(s) added")

            page.goto(f"/app/candidates?interview={row.slug}")
            expect(page.locator("#candidates tbody tr")).to_have_count(from_zip + 2)
            expect(page.locator("#candidates")).to_contain_text("Ana Lima")
            page.goto(batch_url)
            page.locator("#items tr.item.ingested a").first.click()
            expect(page.locator("#candidate-link")).to_have_value(re.compile(rf"^{base}/i/[A-Za-z0-9_-]{{43}}$"))
            expect(page.locator("#resume-link")).to_be_visible()
            with page.expect_download() as download:
                page.click("#resume-link")
            assert download.value.suggested_filename.endswith(".pdf")
        finally:
            browser.close()

    rows = Candidates(engine).search(CandidateQuery(slug=row.slug))
    tokens = {r.candidate.token for r in rows}
    assert len(tokens) == len(rows) == from_zip + 2
    emails = {r.candidate.email for r in rows}
    assert {"edited.by.hand@example.com", "ana.lima@example.com", "bo.chen@example.com"} <= emails
    assert {r.candidate.source for r in rows} == {"bulk"}
    target = os.environ.get("WORKSPACE_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in shots.iterdir():
            shutil.copy(shot, Path(target) / shot.name)
