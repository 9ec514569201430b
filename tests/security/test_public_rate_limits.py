"""Rate limits on the public candidate endpoints over real HTTP on loopback (issue 20, finding 7):
sign-ups through a share link and WebRTC offers are limited per client address on the app's clock,
answered 429 with Retry-After and a candidate-facing message, and refused before any work is done."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fakes.loopback import ServerThread
from sqlmodel import Session, func, select
from starlette.applications import Starlette

from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.settings import Settings
from milo_voice.store.tables import Candidate
from milo_voice.web.app import create_app
from milo_voice.web.rtc import live_calls
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.public_limits import (
    OFFER_WINDOW_S,
    OFFERS_PER_ADDRESS,
    SIGNUP_ADDRESS_WINDOW_S,
    SIGNUPS_PER_ADDRESS,
    PublicLimits,
)
from security.login_http import Clock

SCRIPT = InterviewScript(
    title="Warehouse Lead",
    role="Shift Lead",
    greeting="Welcome, and thanks for applying to Acme.",
    questions=(Question("What does a good shift look like?", AnswerShape.EXPLANATION),),
)
OFFER = {"sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", "type": "offer", "consent": True,
         "notice_version": 0}  # the built-in notice, the one a fresh workspace shows
LOGGER = "milo_voice.web.candidate_limits"


@dataclass
class Server:
    base_url: str
    clock: Clock
    app: Starlette
    store: SessionStore

    def client(self, source: str = "127.0.0.1") -> httpx.Client:
        """A client whose connections come from `source` (any 127.x.y.z is this machine's loopback)."""
        transport = httpx.HTTPTransport(local_address=source)
        return httpx.Client(base_url=self.base_url, transport=transport, follow_redirects=False, timeout=30.0)

    def candidates(self) -> int:
        with Session(self.store.engine) as session:
            return int(session.exec(select(func.count()).select_from(Candidate)).one())


@pytest.fixture
def server(settings: Settings, store: SessionStore) -> Iterator[Server]:
    Interviews(store.engine).add_script(SCRIPT, slug="lead")
    clock = Clock()
    app = create_app(settings, store.engine, now=clock)
    thread = ServerThread(app)
    thread.start()
    try:
        yield Server(thread.base_url, clock, app, store)
    finally:
        thread.stop()
        store.engine.dispose()


def sign_up(client: httpx.Client, n: int) -> httpx.Response:
    return client.post("/s/lead", data={"name": f"Applicant {n}", "email": f"a{n}@example.org"})


def refusals(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(r.reason, r.route) for r in caplog.records if r.getMessage() == "public_limit_refused"]


def test_the_sixth_signup_from_one_address_is_429_and_creates_nobody(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with server.client() as applicant:
        for n in range(SIGNUPS_PER_ADDRESS):
            made = sign_up(applicant, n)
            assert made.status_code == 303 and made.headers["location"].startswith("/i/"), made.text
            server.clock.advance(10.0)
        assert server.candidates() == SIGNUPS_PER_ADDRESS
        refused = sign_up(applicant, 99)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == str(int(SIGNUP_ADDRESS_WINDOW_S) - 50)
        assert "text/html" in refused.headers["content-type"]
        assert "Please wait 10 minutes and try again" in refused.text
        assert "several applications from your network" in refused.text
        assert server.candidates() == SIGNUPS_PER_ADDRESS  # nobody was created
        assert applicant.get("/s/lead").status_code == 200  # the page itself still shows
    with server.client("127.0.0.2") as neighbour:  # another address is not held up
        assert sign_up(neighbour, 100).status_code == 303
    assert server.candidates() == SIGNUPS_PER_ADDRESS + 1
    server.clock.advance(SIGNUP_ADDRESS_WINDOW_S)  # the window has passed
    with server.client() as applicant:
        assert sign_up(applicant, 101).status_code == 303
    assert server.candidates() == SIGNUPS_PER_ADDRESS + 2
    assert refusals(caplog) == [("signup_address", "share")]


def test_a_refused_signup_is_refused_before_its_form_is_read(server: Server) -> None:
    with server.client() as applicant:
        for n in range(SIGNUPS_PER_ADDRESS):
            assert sign_up(applicant, n).status_code == 303
        invalid = applicant.post("/s/lead", data={"name": "", "email": "nope"})
        assert invalid.status_code == 429  # not the 400 of a form that was looked at


def test_offers_are_limited_per_address_before_the_link_is_looked_up(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    candidate = Candidates(server.store.engine).add(slug="lead", name="Cam Candidate")
    url = f"/api/rtc/{candidate.token}/offer"
    with server.client() as browser:
        for _ in range(OFFERS_PER_ADDRESS // 2):  # offers without consent: 400, but counted
            assert browser.post(url, json={**OFFER, "consent": False}).status_code == 400
            assert browser.post("/api/rtc/not-a-token/offer", json=OFFER).status_code == 404
        refused = browser.post(url, json=OFFER)
        assert refused.status_code == 429 and refused.headers["retry-after"] == str(int(OFFER_WINDOW_S))
        assert "application/json" in refused.headers["content-type"]
        assert "Please wait 1 minute and try again" in refused.json()["error"]
        assert live_calls(server.app).by_token == {}  # no call was started
    with server.client("127.0.0.2") as other:
        assert other.post(url, json={**OFFER, "consent": False}).status_code == 400
    server.clock.advance(OFFER_WINDOW_S)
    with server.client() as browser:
        assert browser.post(url, json={**OFFER, "consent": False}).status_code == 400
    assert refusals(caplog) == [("offer_address", "rtc_offer")]


def test_a_third_live_call_from_one_address_is_429_before_its_transport_is_built(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    candidate = Candidates(server.store.engine).add(slug="lead", name="Cam Candidate")
    url = f"/api/rtc/{candidate.token}/offer"
    with server.client() as browser:  # a first offer makes the app's limits
        assert browser.post(url, json={**OFFER, "consent": False}).status_code == 400
    limits: PublicLimits = server.app.state.public_limits
    for token in ("first-call", "second-call"):  # two live calls of this address on other links
        assert limits.start_call("127.0.0.1", token) is None
    with server.client() as browser:
        refused = browser.post(url, json=OFFER)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "30"
        assert "already interviews running from your network" in refused.json()["error"]
    assert live_calls(server.app).by_token == {}
    assert limits.live_calls("127.0.0.1") == 2  # the refused one holds no place
    assert refusals(caplog) == [("live_calls", "rtc_offer")]
