"""Candidate pages and the signalling API over the real app (Starlette TestClient, real SQLite)."""

from __future__ import annotations

import json
import re

import pytest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.settings import Settings
from milo_voice.web.app import create_app
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews

SCRIPT = InterviewScript(
    title="Warehouse Lead",
    role="Shift Lead",
    greeting="Welcome, and thanks for applying to Acme.",
    questions=(Question("What does a good shift look like?", AnswerShape.EXPLANATION),),
)


@pytest.fixture
def client(settings: Settings, store: SessionStore) -> TestClient:
    stun = settings.with_overrides(ice_servers="stun:stun.example.org:3478")
    return TestClient(create_app(stun, store.engine))


def page_config(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="milo-config">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_the_interview_page_is_branded_asks_consent_and_carries_its_call_config(
    client: TestClient, store: SessionStore
) -> None:
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="lead")
    candidate = Candidates(store.engine).enrol(interview_id=interview_id, name="Ana </script><b>x</b>")
    page = client.get(f"/i/{candidate.token}")
    assert page.status_code == 200
    for text in ("Shift Lead", "Warehouse Lead", "recorded", "AI", 'href="/notice"', 'id="consent"'):
        assert text in page.text
    # the welcome message greets the candidate by name, once (web/branding.py)
    assert "Welcome Ana &lt;/script&gt;&lt;b&gt;x&lt;/b&gt;, and thanks for applying to Acme." in page.text
    assert "<b>x</b>" not in page.text
    config = page_config(page.text)
    assert config["offerUrl"] == f"/api/rtc/{candidate.token}/offer"
    assert config["iceServers"] == [{"urls": "stun:stun.example.org:3478"}]
    assert config["resumeWindow"] == 120.0


def test_static_assets_notice_and_thanks_are_served(client: TestClient, store: SessionStore) -> None:
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="lead")
    candidate = Candidates(store.engine).enrol(interview_id=interview_id, name="Ana")
    script = client.get("/static/candidate.js")
    assert script.status_code == 200 and "getUserMedia" in script.text
    assert client.get("/static/candidate.css").status_code == 200
    assert "recorded" in client.get("/notice").text
    assert "Thank you" in client.get(f"/i/{candidate.token}/thanks").text
    assert client.get("/i/nope/thanks").status_code == 404


def test_the_share_link_creates_a_candidate_and_sends_them_to_their_own_link(
    client: TestClient, store: SessionStore
) -> None:
    Interviews(store.engine).add_script(SCRIPT, slug="lead")
    form = client.get("/s/lead")
    assert form.status_code == 200 and 'name="email"' in form.text
    bad = client.post("/s/lead", data={"name": "Ana Li", "email": "not-an-email"})
    assert bad.status_code == 400
    assert "valid email" in bad.text and 'value="Ana Li"' in bad.text, "what was typed is kept"
    typed = {"name": " Ana Li ", "email": "ana@example.org"}
    made = client.post("/s/lead", data=typed, follow_redirects=False)
    assert made.status_code == 303
    token = made.headers["location"].removeprefix("/i/")
    candidate = Candidates(store.engine).by_token(token)
    assert candidate is not None and (candidate.name, candidate.email) == ("Ana Li", "ana@example.org")
    assert client.get(made.headers["location"]).status_code == 200


def test_share_links_of_unknown_or_unpublished_interviews_are_404(
    client: TestClient, store: SessionStore
) -> None:
    Interviews(store.engine).add_script(SCRIPT, slug="draft", status="draft")
    assert client.get("/s/draft").status_code == 404
    assert client.get("/s/nothing").status_code == 404
    assert client.post("/s/nothing", data={"name": "A", "email": "a@b.co"}).status_code == 404


def test_a_completed_candidate_sees_the_thank_you_page_and_cannot_start_again(
    client: TestClient, store: SessionStore
) -> None:
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="lead")
    candidate = Candidates(store.engine).enrol(interview_id=interview_id, name="Ana")
    assert candidate.id is not None
    session_id = store.start_session(candidate_id=candidate.id, interview_id=interview_id, channel="webrtc",
                                     recording_dir="x", settings={})
    store.end_session(session_id=session_id, status="completed", duration_s=1.0, recording_path=None)
    assert "already completed" in client.get(f"/i/{candidate.token}").text
    offer = {"sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", "type": "offer", "consent": True}
    response = client.post(f"/api/rtc/{candidate.token}/offer", json=offer)
    assert response.status_code == 410 and "completed" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not JSON"),
        (b"x" * 200_000, 400, "over"),
        (json.dumps({"sdp": "v=0\r\nm=audio 9 RTP/AVP 0\r\n", "type": "offer"}).encode(), 400, "agreed"),
        (json.dumps({"sdp": "junk", "type": "offer", "consent": True}).encode(), 400, "session description"),
        (json.dumps({"sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nnonsense\r\n", "type": "offer",
                     "consent": True, "notice_version": 0}).encode(), 400, "unusable SDP"),
    ],
)
def test_bad_offers_get_a_clear_400_and_start_nothing(
    client: TestClient, store: SessionStore, body: bytes, status: int, message: str
) -> None:
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="lead")
    candidate = Candidates(store.engine).enrol(interview_id=interview_id, name="Ana")
    response = client.post(f"/api/rtc/{candidate.token}/offer", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code == status
    assert message in response.json()["error"]
    assert client.post(f"/api/rtc/{candidate.token}/end").json() == {
        "ended": False, "reason": "no live call on this link"}
    assert store.session_ids_with_status("live") == []


def test_unknown_tokens_are_404_on_every_candidate_endpoint(client: TestClient) -> None:
    assert client.get("/i/not-a-token").status_code == 404
    assert client.post("/api/rtc/not-a-token/offer", json={"sdp": "v=0", "type": "offer"}).status_code == 404
    assert client.post("/api/rtc/not-a-token/end").status_code == 404
