"""Bulk intake through the recruiter's pages (issue 17), over the real app and the real worker:
upload a ZIP of resumes with hostile members beside good ones, review (warnings, duplicates), edit,
discard and ingest; a Latin-1 CSV is mapped, read and ingested; limits refuse oversized uploads
early; nothing is added before a recruiter confirms; resumes are downloadable from profiles."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from helpers import run
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.workspace.background import build_worker
from milo_voice.workspace.candidates import CandidateQuery, Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from workspace.support import form_token

RESUMES = REPO.parent / "shared" / "data" / "resumes"


@pytest.fixture
def slug(store: SessionStore) -> str:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Warehouse", questions=(QuestionForm("Why?"),)))
    interviews.publish(row.slug)
    return row.slug


def hostile_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("cv_dev_03.pdf", "cv_dev_06.pdf"):
            z.write(RESUMES / name, f"fair/{name}")
        z.writestr("../../evil.pdf", (RESUMES / "cv_dev_01.pdf").read_bytes())
        z.writestr("fake.pdf", b"MZ this is not a pdf at all")
        z.writestr("bomb.pdf", b"\0" * (30 * 1024 * 1024))
        z.writestr("inner.zip", b"PK\x03\x04 nested")
    return out.getvalue()


def upload(client: TestClient, slug: str, kind: str, files: list[tuple[str, bytes]],
           token: str | None) -> Any:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["X-CSRF-Token"] = token
    return client.post(f"/app/interviews/{slug}/intake/{kind}", headers=headers,
                       files=[("files", (name, data)) for name, data in files])


def read_all(settings: Settings, store: SessionStore) -> None:
    run(build_worker(settings, store.engine).worker.run_until_idle)


def rows(page: str) -> dict[str, str]:
    """Item row id -> its HTML."""
    return dict(re.findall(r'<tr id="item-(\d+)" class="item [a-z]+">(.*?)</tr>', page, re.S))


def test_a_zip_is_read_in_the_background_reviewed_and_ingested(
    admin: TestClient, settings: Settings, store: SessionStore, slug: str
) -> None:
    token = form_token(admin, f"/app/interviews/{slug}/intake")
    assert upload(admin, slug, "files", [("fair.zip", hostile_zip())], None).status_code == 403
    sent = upload(admin, slug, "files", [("fair.zip", hostile_zip()), ("notes.exe", b"MZ")], token)
    assert sent.status_code == 200, sent.text
    url = sent.json()["url"]
    assert "Reading" in admin.get(url).text
    read_all(settings, store)
    page = admin.get(url).text
    for message in ("unsafe path", "not a PDF although named .pdf", "nested ZIP",
                    "unsupported file type .exe", "zip bomb"):
        assert message in page, message
    assert Candidates(store.engine).search(CandidateQuery(slug=slug)) == []  # nothing before review
    found = rows(page)
    pending = {i: html for i, html in found.items() if 'name="item"' in html}
    assert len(pending) == 2
    deedy = next(i for i, html in pending.items() if "cv_dev_03" in html)
    other = next(i for i in pending if i != deedy)
    assert 'value="Debarghya Das"' in pending[deedy]
    edit = admin.post(f"{url}/items/{deedy}",
                      data={"csrf_token": token, "email": "deedy@example.com", "name": "Debarghya Das"})
    assert edit.status_code == 200
    admin.post(f"{url}/decide", data={"csrf_token": token, "action": "discard", "item": other})
    done = admin.post(f"{url}/decide", data={"csrf_token": token, "action": "ingest", "item": deedy})
    assert "1 candidate(s) added" in done.text
    [row] = Candidates(store.engine).search(CandidateQuery(slug=slug))
    assert (row.candidate.email, row.candidate.source) == ("deedy@example.com", "bulk")
    profile = admin.get(f"/app/candidates/{row.candidate.id}").text
    assert 'id="resume-link"' in profile
    resume = admin.get(f"/app/candidates/{row.candidate.id}/resume")
    assert resume.status_code == 200 and resume.content == (RESUMES / "cv_dev_03.pdf").read_bytes()
    assert "attachment" in resume.headers["content-disposition"]
    assert resume.headers["cache-control"] == "no-store"
    again = admin.post(f"{url}/decide", data={"csrf_token": token, "action": "ingest", "item": deedy})
    assert "0 candidate(s) added" in again.text  # an item is ingested once


def test_a_latin1_csv_is_mapped_then_read_with_duplicates_flagged(
    admin: TestClient, settings: Settings, store: SessionStore, slug: str
) -> None:
    Candidates(store.engine).add(slug=slug, name="Known One", email="known@example.com")
    csv_text = ("Nombre;E-Mail;Teléfono;Ciudad\n"
                "José Müller;jose@example.com;+34 612 345 678;Málaga\n"
                "Known Again;KNOWN@example.com;;Lyon\n"
                "=HYPERLINK(\"http://x\",\"y\");formula@example.com;;\n"
                "Twin;jose@example.com;;\n")
    token = form_token(admin, f"/app/interviews/{slug}/intake")
    sent = upload(admin, slug, "csv", [("list.csv", csv_text.encode("latin-1"))], token)
    url = sent.json()["url"]
    mapping_page = admin.get(url).text
    assert "José Müller" in mapping_page and "Map the columns" in mapping_page
    confirm = admin.post(f"{url}/mapping", data={"csrf_token": token, "map_name": "Nombre",
                                                 "map_email": "E-Mail", "map_phone": "Teléfono",
                                                 "map_location": "Ciudad"})
    assert confirm.status_code == 200
    read_all(settings, store)
    page = admin.get(url).text
    assert "duplicate of candidate Known One (same email)" in page
    assert "duplicate of list.csv, line 2 in this upload (same email)" in page
    assert "name starts with &#39;=&#39;: kept as text" in page
    ids = [i for i, html in rows(page).items() if "José" in html]
    admin.post(f"{url}/decide", data={"csrf_token": token, "action": "ingest", "item": ids})
    found = Candidates(store.engine).search(CandidateQuery(slug=slug))
    names = {r.candidate.name: r.candidate for r in found}
    assert names["José Müller"].phone == "+34612345678"  # E.164 on the review screen and after
    assert names["José Müller"].location == "Málaga"


def test_oversized_uploads_are_refused_before_they_are_read(
    admin: TestClient, settings: Settings, store: SessionStore, slug: str, tmp_path: Path
) -> None:
    token = form_token(admin, f"/app/interviews/{slug}/intake")
    big = b"name,email\n" + b"a,b@example.com\n" * (21 * 1024 * 1024 // 16)
    refused = upload(admin, slug, "csv", [("big.csv", big)], token)
    assert refused.status_code == 413 and "at most 20 MB" in refused.text
    receiving = settings.uploads_dir / "receiving"
    assert not receiving.exists() or not any(receiving.iterdir())  # nothing left behind
    empty = admin.post(f"/app/interviews/{slug}/intake/files", headers={"X-CSRF-Token": token},
                       files=[("other", ("x.pdf", b"%PDF-1.4"))])
    assert empty.status_code == 400 and "choose at least one file" in empty.text
