"""Erasure over HTTP (issue 20 item 3), the app under uvicorn on 127.0.0.1 with a real SMTP server
(aiosmtpd) on loopback and a clock the test moves.

The candidate: "Erase my data" emails a link; opening it (GET, as a mail scanner would) erases nothing;
its button (POST) erases everything; the link then says it was used. An expired link, a wrong one, no
address on file and a refused email each get their own answer and erase nothing. The admin: only an
admin may erase, a note and the typed name are required, the audit trail keeps who and why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from fakes.loopback import ServerThread
from fakes.smtp_server import FakeSmtpServer
from security.login_http import Clock, csrf_of, sign_in
from sqlmodel import select
from workspace.erasure_world import OTTO, ZELDA, World, mentions

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.store.tables import ErasureRequest
from milo_voice.web.app import create_app
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.demo import DEMO_SLUG, Demo
from milo_voice.workspace.erasure import Eraser
from milo_voice.workspace.personal_files import Dirs

PASSWORD = "correct horse battery"


@dataclass
class App:
    base_url: str
    clock: Clock
    smtp: FakeSmtpServer
    users: dict[str, int]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=60.0)


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer(refuse={"bounce@example.com": "550 5.1.1 User unknown"}) as server:
        yield server


@pytest.fixture
def app(settings: Settings, store: SessionStore, smtp: FakeSmtpServer, tmp_path: Path) -> Iterator[App]:
    accounts = Accounts(store.engine)
    users = {}
    for role in ("admin", "viewer"):
        user = accounts.create_user(email=f"{role}@example.com", password=PASSWORD, role=role, name=role)
        users[role] = user.id or 0
    thread = ServerThread()
    live = replace(
        settings,
        models_dir=tmp_path / "models",
        public_url=thread.base_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_security="none",
        smtp_from="jobs@acme.test",
    )
    clock = Clock()
    thread.start(create_app(live, store.engine, now=clock))
    try:
        yield App(thread.base_url, clock, smtp, users)
    finally:
        thread.stop()
        store.engine.dispose()


def link_in(smtp: FakeSmtpServer, to: str) -> str:
    (mail,) = [m for m in smtp.received if m.rcpt_tos == [to]]
    body = mail.email.get_body(("plain",))
    assert body is not None and mail.email["Subject"] == "Confirm the erasure of your data"
    found = re.search(r"(http://\S+/i/erase/\S+)", body.get_content())
    assert found, body.get_content()
    return found.group(1)


def eraser(store: SessionStore, settings: Settings) -> Eraser:
    return Eraser(store.engine, dirs=Dirs(settings.recordings_dir, settings.uploads_dir))


def test_the_candidate_asks_confirms_by_email_and_is_erased(
    app: App, store: SessionStore, settings: Settings
) -> None:
    zelda = World.build(store, settings, ZELDA, app.users["admin"])
    otto = World.build(store, settings, OTTO, app.users["admin"])
    with app.client() as web:
        asked = web.post(f"/i/{zelda.token}/privacy/erase")
        assert (
            asked.status_code == 200 and "Check your email" in asked.text and "z***@example.org" in asked.text
        )
        link = link_in(app.smtp, ZELDA.email)
        assert link.startswith(app.base_url + "/i/erase/")
        opened = web.get(link)  # what a mail scanner does: nothing is erased
        assert opened.status_code == 200 and 'id="confirm-erasure"' in opened.text
        assert Candidates(store.engine).by_token(zelda.token) is not None
        confirmed = web.post(link)
        assert confirmed.status_code == 200 and "Your data has been erased" in confirmed.text
        assert Candidates(store.engine).by_token(zelda.token) is None
        assert mentions(store.engine, ZELDA) == [] and not zelda.session_dir.exists()
        assert all(p.exists() for p in otto.files)
        (tomb,) = eraser(store, settings).tombstones()
        assert (tomb.initiated_by, tomb.erased_by) == ("candidate", None)
        assert re.fullmatch(r"candidate request #\d+", tomb.reason) and f"erasure {tomb.id}" in confirmed.text
        again = web.post(link)
        assert again.status_code == 200 and "This link has been used" in again.text
        assert web.get(f"/i/{zelda.token}/privacy").status_code == 404


def test_an_expired_or_wrong_link_erases_nothing(app: App, store: SessionStore, settings: Settings) -> None:
    zelda = World.build(store, settings, ZELDA, app.users["admin"])
    with app.client() as web:
        assert web.post(f"/i/{zelda.token}/privacy/erase").status_code == 200
        link = link_in(app.smtp, ZELDA.email)
        app.clock.advance(48 * 3600 + 1)
        for response in (web.get(link), web.post(link)):
            assert response.status_code == 410 and "This link has expired" in response.text
        for response in (web.get(link + "x"), web.post("/i/erase/not-a-real-code")):
            assert response.status_code == 404 and "not valid" in response.text
    assert Candidates(store.engine).by_token(zelda.token) is not None
    assert len(mentions(store.engine, ZELDA)) > 20 and eraser(store, settings).tombstones() == []


def test_without_an_address_or_with_a_refused_email_the_candidate_is_told_to_contact_the_company(
    app: App, store: SessionStore
) -> None:
    Demo(store.engine).seed()
    candidates = Candidates(store.engine)
    silent = candidates.add(slug=DEMO_SLUG, name="Sam Silent", phone="+14155550111")
    bounced = candidates.add(slug=DEMO_SLUG, name="Bo Bounce", email="bounce@example.com")
    with app.client() as web:
        page = web.post(f"/i/{silent.token}/privacy/erase")
        assert page.status_code == 200 and "We have no email address for you" in page.text
        assert "contact the company" in page.text and app.smtp.received == []
        refused = web.post(f"/i/{bounced.token}/privacy/erase")
        assert refused.status_code == 503 and "could not be sent" in refused.text
    with store.unit() as session:
        (request,) = session.exec(select(ErasureRequest)).all()
        assert request.status == "expired", "a link that was never delivered must never work"


def test_only_an_admin_erases_with_a_note_and_the_name_typed_again(
    app: App, store: SessionStore, settings: Settings
) -> None:
    zelda = World.build(store, settings, ZELDA, app.users["admin"])
    url = f"/app/candidates/{zelda.candidate_id}/erase"
    hooks = ScoringStore(store.engine)
    ats = hooks.add_endpoint("https://ats.example.com/hook", "s3cret", ["candidate.erased"])
    other = hooks.add_endpoint("https://other.example.com/hook", "s3cret", ["interview.completed"])
    with app.client() as viewer:
        sign_in(viewer, "viewer@example.com")
        profile = viewer.get(f"/app/candidates/{zelda.candidate_id}")
        assert profile.status_code == 200 and 'id="erasure-form"' not in profile.text
        refused = viewer.post(
            url, data={"csrf_token": csrf_of(profile.text), "note": "x", "confirm_name": ZELDA.name}
        )
        assert refused.status_code == 403 and "Admins only" in refused.text
    with app.client() as admin:
        sign_in(admin, "admin@example.com")
        profile = admin.get(f"/app/candidates/{zelda.candidate_id}")
        assert 'id="erasure-form"' in profile.text
        token = csrf_of(profile.text)
        no_note = admin.post(url, data={"csrf_token": token, "note": " ", "confirm_name": ZELDA.name})
        assert no_note.status_code == 400 and "Write a note" in no_note.text
        wrong = admin.post(
            url, data={"csrf_token": token, "note": "Asked by letter", "confirm_name": "Zelda"}
        )
        assert wrong.status_code == 400 and "Type the candidate&#39;s name" in wrong.text
        assert "Asked by letter</textarea>" in wrong.text, "the note is kept"
        assert Candidates(store.engine).by_token(zelda.token) is not None
        done = admin.post(
            url,
            data={
                "csrf_token": token,
                "note": "Asked by letter (Zelda Quorn)",
                "confirm_name": "  zelda  QUORN ",
            },
        )
        assert done.status_code == 303 and done.headers["location"] == "/app/candidates"
        listed = admin.get("/app/candidates")
        assert re.search(
            rf"Candidate {zelda.candidate_id} erased \(erasure \d+\): \d+ rows in \d+ tables", listed.text
        )
        assert admin.get(f"/app/candidates/{zelda.candidate_id}").status_code == 404
    assert mentions(store.engine, ZELDA) == []  # the erased event below carries nothing personal
    told = {d.endpoint_id: d for d in hooks.deliveries() if d.event == "candidate.erased"}
    assert ats.id in told and other.id not in told  # the endpoints that asked for it, not the others
    body = json.loads(told[ats.id].body)
    assert body["event"] == "candidate.erased" and body["data"]["initiated_by"] == "admin"
    assert body["data"]["candidate_id"] == zelda.candidate_id
    assert set(body["data"]) == {"candidate_id", "tombstone_id", "initiated_by", "erased_at"}
    (event,) = [e for e in Audit(store.engine).recent() if e.action == "erase"]
    assert event.user_id == app.users["admin"] and event.detail["reason"] == "Asked by letter ([erased])"
