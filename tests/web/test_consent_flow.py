"""Consent and notice end to end over the real app (issue 20 item 2): the notice the candidate pages
show, the browser interview's consent stored from a real WebRTC offer over loopback HTTP (address,
browser, version), an offer for a notice that changed refused with 409 and nothing stored, a form stage's
first submit, the profile's consent card, `consent.json` in the report ZIP, and the admin's notice page
(versions, audit trail, admins only)."""

from __future__ import annotations

import asyncio
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiortc import RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack
from fakes.loopback import ServerThread
from starlette.applications import Starlette
from starlette.testclient import TestClient
from workspace.sessions import store_session
from workspace.support import ADMIN, PASSWORD, VIEWER, csrf_of, login

from milo_voice.calls.session_store import SessionStore
from milo_voice.media.transports.webrtc_offer import CONTROL_LABEL
from milo_voice.settings import Settings
from milo_voice.stages.types import FieldKind, FormField, FormSpec, StageSpec
from milo_voice.store.tables import StageKind
from milo_voice.web.app import create_app
from milo_voice.web.rtc import live_calls
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.consent import Consents, Notices
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.pipeline import Pipeline
from milo_voice.workspace.report_links import ReportLinks

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) ConsentTest/1.0 Chrome/131.0"
FORM_STAGES = (
    StageSpec(kind=StageKind.FORM, form=FormSpec(fields=(
        FormField(id="years", kind=FieldKind.NUMBER, label="Years of experience", required=True,
                  minimum=0, maximum=60),
    ))),
    StageSpec(kind=StageKind.VOICE),
)


@dataclass
class Server:
    base_url: str
    app: Starlette
    store: SessionStore
    settings: Settings

    def browser(self, source: str = "127.0.0.2") -> httpx.Client:
        """A candidate's browser on another address of this machine (any 127.x.y.z is loopback)."""
        return httpx.Client(base_url=self.base_url, transport=httpx.HTTPTransport(local_address=source),
                            headers={"User-Agent": BROWSER}, timeout=30.0)


@pytest.fixture
def server(settings: Settings, store: SessionStore) -> Iterator[Server]:
    thread = ServerThread()
    live = settings.with_overrides(public_url=thread.base_url)
    app = create_app(live, store.engine)
    thread.start(app)
    try:
        yield Server(thread.base_url, app, store, live)
    finally:
        thread.stop()
        store.engine.dispose()


def interview(store: SessionStore, stages: tuple[StageSpec, ...] = ()) -> str:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Barista", role="Barista", questions=(QuestionForm("Why?"),),
                                          stages=stages))
    interviews.publish(row.slug)
    return row.slug


def real_offer() -> str:
    """The SDP a browser sends: a microphone track and the control channel, ICE gathered on this host."""

    async def make() -> str:
        pc = RTCPeerConnection()
        pc.addTrack(AudioStreamTrack())
        pc.createDataChannel(CONTROL_LABEL)
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        await pc.close()
        return sdp

    return asyncio.run(make())


def page_config(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="milo-config">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found.group(1))


def offer(browser: httpx.Client, token: str, version: object = None) -> httpx.Response:
    body: dict[str, object] = {"sdp": real_offer(), "type": "offer", "consent": True}
    if version is not None:
        body["notice_version"] = version
    return browser.post(f"/api/rtc/{token}/offer", json=body)


def hang_up(app: Starlette, token: str) -> None:
    """End the live call the offer started (its peer never connects here) on the server's own loop."""
    call = live_calls(app).live(token)
    assert call is not None and call.task is not None
    task = call.task

    async def stop() -> None:
        for reader in list(call.transport._readers):  # no media ever flows: do not wait 10 s for it
            reader.cancel()
        await call.transport.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(stop(), task.get_loop()).result(30)


def test_the_browser_interview_stores_the_consent_its_offer_gives(server: Server) -> None:
    slug = interview(server.store)
    candidate = Candidates(server.store.engine).add(slug=slug, name="Ana Lima", email="ana@example.org")
    cid, token = candidate.id or 0, candidate.token
    with server.browser() as browser:
        page = browser.get(f"/i/{token}")
        shown = Notices(server.store.engine).current(server.settings.base_url)
        assert page_config(page.text)["noticeVersion"] == 0
        assert "An AI conducts this interview" in page.text
        assert f'href="{server.base_url}/notice"' in page.text  # the link inside the notice's text
        assert Consents(server.store.engine).consents_of(cid) == []  # opening the page is not consent
        answered = offer(browser, token, 0)
        assert answered.status_code == 200, answered.text
        assert answered.json()["type"] == "answer" and answered.json()["resumed"] is False
        [consent] = Consents(server.store.engine).consents_of(cid)
        assert (consent.channel, consent.address, consent.user_agent) == ("web", "127.0.0.2", BROWSER)
        assert (consent.notice_version, consent.notice_sha256) == (0, shown.sha256)
        again = offer(browser, token, 0)  # a reconnect goes on under the consent its call's start gave
        assert again.status_code == 200 and again.json()["resumed"] is True
        hang_up(server.app, token)
    assert len(Consents(server.store.engine).consents_of(cid)) == 1


def test_an_offer_for_a_notice_that_changed_is_409_and_stores_nothing(server: Server) -> None:
    slug = interview(server.store)
    candidate = Candidates(server.store.engine).add(slug=slug, name="Bo Chen", email="bo@example.org")
    cid, token = candidate.id or 0, candidate.token
    with server.browser() as browser:
        assert page_config(browser.get(f"/i/{token}").text)["noticeVersion"] == 0
        newer = Notices(server.store.engine).save("Version one. An AI asks the questions; it is recorded.",
                                                   None, server.settings.base_url)
        for sent in (0, None, "1", True):  # the old version, none (which text?), not a JSON integer
            refused = offer(browser, token, sent)
            assert refused.status_code == 409, sent
            assert "notice has changed" in refused.json()["error"] and "reload" in refused.json()["error"]
        assert Consents(server.store.engine).consents_of(cid) == []
        assert token not in live_calls(server.app).by_token  # no call started
        reloaded = browser.get(f"/i/{token}")
        assert page_config(reloaded.text)["noticeVersion"] == 1 and "Version one." in reloaded.text
        assert offer(browser, token, 1).status_code == 200
        hang_up(server.app, token)
    [consent] = Consents(server.store.engine).consents_of(cid)
    assert (consent.notice_version, consent.notice_sha256) == (1, newer.sha256)


def test_the_notice_page_shows_the_current_text_or_one_version(server: Server) -> None:
    with server.browser() as browser:
        built_in = browser.get("/notice")
        assert built_in.status_code == 200 and "An AI conducts this interview" in built_in.text
        assert "Notice version 0" in built_in.text
        Notices(server.store.engine).save("Our notice.\n\nSee https://jobs.example.com/privacy.", None, "")
        current = browser.get("/notice").text
        assert "Notice version 1" in current and "<p>Our notice.</p>" in current
        link = re.search(r'<a href="https://jobs.example.com/privacy"([^>]*)>https://jobs.example.com/privacy</a>\.',
                         current)
        assert link is not None and 'target="_blank"' in link.group(1) and "noopener" in link.group(1)
        older = browser.get("/notice?version=0")
        assert "An AI conducts this interview" in older.text and "an earlier version" in older.text
        assert browser.get("/notice?version=9").status_code == 404
        assert browser.get("/notice?version=x").status_code == 404


def form_post(client: TestClient, token: str, **fields: str) -> httpx.Response:
    return client.post(f"/i/{token}/form", data=fields, follow_redirects=False)


def test_a_form_stage_asks_for_the_notice_on_its_first_submit(
    settings: Settings, store: SessionStore
) -> None:
    slug = interview(store, FORM_STAGES)
    candidate = Candidates(store.engine).add(slug=slug, name="Cy Diaz", email="cy@example.org")
    cid, token = candidate.id or 0, candidate.token
    with TestClient(create_app(settings, store.engine), headers={"User-Agent": BROWSER}) as client:
        page = client.get(f"/i/{token}").text
        assert 'name="notice.agree"' in page and 'name="notice.version" value="0"' in page
        assert "An AI conducts this interview" in page
        missing = form_post(client, token, years="4")
        assert missing.status_code == 400 and "I have read the notice" in missing.text
        assert 'value="4"' in missing.text  # what was typed is shown again, but not kept
        assert Pipeline(store.engine).results([cid])[cid][0].answers == {}
        Notices(store.engine).save("Version one.", None, settings.base_url)
        stale = form_post(client, token, years="4", **{"notice.agree": "yes", "notice.version": "0"})
        assert stale.status_code == 409 and "notice has changed" in stale.text
        assert 'name="notice.version" value="1"' in stale.text and "Version one." in stale.text
        assert Consents(store.engine).consents_of(cid) == []
        agreed = form_post(client, token, years="4", **{"notice.agree": "yes", "notice.version": "1"})
        assert agreed.status_code == 303
    [consent] = Consents(store.engine).consents_of(cid)
    assert (consent.channel, consent.notice_version, consent.user_agent) == ("form", 1, BROWSER)
    assert consent.address == "testclient"  # the client address as the server saw it
    assert Pipeline(store.engine).place(cid).position == 1  # the form was judged: on to the interview


def test_an_assessment_opens_on_the_notice(settings: Settings, store: SessionStore) -> None:
    from milo_voice.scoring.rubric import Criterion, QuestionRubric
    from milo_voice.stages.types import AssessmentSpec

    task = AssessmentSpec(task="Write an apology.", rubric=QuestionRubric(criteria=(
        Criterion(id="a", name="Apologises", anchors={1: "no", 5: "yes"}),)))
    stages = (StageSpec(kind=StageKind.ASSESSMENT, assessment=task), StageSpec(kind=StageKind.VOICE))
    slug = interview(store, stages)
    candidate = Candidates(store.engine).add(slug=slug, name="Di Eng", email="di@example.org")
    cid, token = candidate.id or 0, candidate.token
    with TestClient(create_app(settings, store.engine)) as client:
        gate = client.get(f"/i/{token}").text
        assert 'action="/i/' in gate and "Write an apology." not in gate
        url = f"/i/{token}/notice"
        assert client.post(url, data={"notice.version": "0"}).status_code == 400
        assert client.post(url, data={"notice.agree": "yes", "notice.version": "3"}).status_code == 409
        assert Pipeline(store.engine).results([cid]).get(cid, {}) == {}  # not started before consent
        done = client.post(f"/i/{token}/notice", data={"notice.agree": "yes", "notice.version": "0"},
                           follow_redirects=False)
        assert done.status_code == 303
        assert "Write an apology." in client.get(f"/i/{token}").text
    assert [c.channel for c in Consents(store.engine).consents_of(cid)] == ["form"]


def signed_in(settings: Settings, store: SessionStore, email: str) -> TestClient:
    client = TestClient(create_app(settings, store.engine), base_url="http://testserver")
    login(client, email)
    return client


def test_the_profile_and_the_report_zip_carry_the_consents(
    settings: Settings, store: SessionStore, tmp_path: Path
) -> None:
    Accounts(store.engine).create_user(email=ADMIN, password=PASSWORD, role="admin")
    slug = interview(store)
    candidate = Candidates(store.engine).add(slug=slug, name="Ed Fox", email="ed@example.org")
    cid = candidate.id or 0
    notices, consents = Notices(store.engine), Consents(store.engine)
    first = notices.current(settings.base_url)
    consents.record_consent(cid, "web", "203.0.113.9", BROWSER, first)
    second = notices.save("Version one: an AI asks the questions.", None, settings.base_url)
    consents.record_consent(cid, "phone", "+14155550100", "", second)
    sid = store_session(store, candidate_id=cid, interview_id=candidate.interview_id,
                        directory=tmp_path / "rec")
    with signed_in(settings, store, ADMIN) as admin:
        profile = admin.get(f"/app/candidates/{cid}").text
        card = profile[profile.index('id="consent"'):]
        card = card[: card.index("</section>")]
        for text in ('href="/notice?version=0"', "version 0", 'href="/notice?version=1"', "browser interview",
                     "203.0.113.9", "phone call", "+14155550100", first.sha256[:12]):
            assert text in card, text
        package = admin.get(f"/app/candidates/{cid}/sessions/{sid}/report.zip")
        assert package.status_code == 200
        report = admin.get(f"/app/candidates/{cid}/sessions/{sid}/report")
        admin.post(f"/app/candidates/{cid}/sessions/{sid}/share", data={"csrf_token": csrf_of(report.text)})
        link = ReportLinks(store.engine).current(sid)
        assert link is not None
        shared = TestClient(admin.app).get(f"/reports/{link}/package.zip")
        assert shared.status_code == 200
    with zipfile.ZipFile(io.BytesIO(shared.content)) as archive:  # outside the team: no IP, no browser
        assert "consent.json" not in archive.namelist()
        assert "consent.json" not in archive.read("metadata.json").decode()
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        data = json.loads(archive.read("consent.json"))
        listed = json.loads(archive.read("metadata.json"))["files"]
    assert "consent.json" in listed
    assert [(c["notice_version"], c["channel"], c["address"], c["user_agent"], c["text_matches"])
            for c in data["consents"]] == [(0, "web", "203.0.113.9", BROWSER, True),
                                           (1, "phone", "+14155550100", "", True)]
    assert [(n["version"], n["text"], n["sha256"]) for n in data["notices"]] == [
        (0, first.text, first.sha256), (1, second.text, second.sha256)]


def test_the_admin_edits_the_notice_audited_and_viewers_cannot(
    settings: Settings, store: SessionStore
) -> None:
    accounts = Accounts(store.engine)
    accounts.create_user(email=ADMIN, password=PASSWORD, role="admin")
    accounts.create_user(email=VIEWER, password=PASSWORD, role="viewer")
    with signed_in(settings, store, ADMIN) as admin:
        page = admin.get("/app/settings/notice")
        assert page.status_code == 200 and "An AI conducts this interview" in page.text
        assert 'href="/app/settings/notice"' in page.text and "Save as version 1" in page.text
        assert "staying on the line means you agree" in page.text.lower()
        token = csrf_of(page.text)
        assert admin.post("/app/settings/notice", data={"text": "Ours."}).status_code == 403  # no CSRF
        text = "Our notice, version one."
        saved = admin.post("/app/settings/notice", data={"csrf_token": token, "text": text},
                           follow_redirects=False)
        assert saved.status_code == 303 and saved.headers["location"] == "/app/settings/notice?saved=1"
        shown = admin.get("/app/settings/notice?saved=1").text
        assert "candidates now see version 1" in shown and "Save as version 2" in shown
        assert 'id="notice-v1"' in shown and 'id="notice-v0"' in shown
        same = admin.post("/app/settings/notice", data={"csrf_token": token, "text": text})
        assert same.status_code == 400 and "current notice already" in same.text
    current = Notices(store.engine).current(settings.base_url)
    assert (current.version, current.text) == (1, "Our notice, version one.")
    [event] = Audit(store.engine).recent(target_type="notice")
    assert (event.action, event.target_id, event.actor) == ("edit", "1", ADMIN)
    assert event.detail == {"version": 1, "previous": 0, "sha256": current.sha256, "chars": len(current.text)}
    with signed_in(settings, store, VIEWER) as viewer:
        assert viewer.get("/app/settings/notice").status_code == 403
        assert 'href="/app/settings/notice"' not in viewer.get("/app/candidates").text
        token = csrf_of(viewer.get("/app/candidates").text)
        refused = viewer.post("/app/settings/notice", data={"csrf_token": token, "text": "Viewer's text."})
        assert refused.status_code == 403
    assert Notices(store.engine).current(settings.base_url).version == 1
