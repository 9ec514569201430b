"""The phone webhook is closed by default (issue 20, findings 2 and 3).

Over real HTTP (the app on a loopback uvicorn): without `MILO_TWILIO_AUTH_TOKEN` a Twilio-shaped
call to a mapped number is refused with 403 and an error line, unless `MILO_TWILIO_ALLOW_UNSIGNED`
(development only) lets it in with a warning; start-up says which it is. With a token, one CallSid
gets one stream ticket however often its signed request is replayed, and a ticket is claimed once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fakes.loopback import ServerThread
from fakes.twilio_webhook import signed, voice_form
from sqlmodel import Session, select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from milo_voice.calls.phone.numbers import PhoneStore
from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.settings import Secret, Settings
from milo_voice.store.tables import PhoneCall
from milo_voice.web.app import create_app
from milo_voice.web.phone import log_webhook_posture
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews

NUMBER = "+15005550006"
CANDIDATE = "+14155550100"
TOKEN = "twilio-auth-token"
SCRIPT = InterviewScript(title="Phone", questions=(Question("Why coffee?", AnswerShape.EXPLANATION),))


@pytest.fixture(autouse=True)
def milo_logs_reach_caplog(monkeypatch: pytest.MonkeyPatch) -> None:
    """`log.configure` (run by any CLI test earlier in the session) stops propagation: undo it here."""
    monkeypatch.setattr(logging.getLogger("milo_voice"), "propagate", True)


def map_number(store: SessionStore) -> int:
    """One interview on `NUMBER`, one candidate whose phone is `CANDIDATE`; the candidate's id."""
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="phone")
    PhoneStore(store.engine).add_number(NUMBER, interview_id)
    candidate = Candidates(store.engine).enrol(interview_id=interview_id, name="Cam", phone=CANDIDATE)
    return candidate.id or 0


@contextmanager
def serving(settings: Settings, store: SessionStore) -> Iterator[tuple[str, Settings]]:
    """The app on 127.0.0.1, deployed at its own address; yields (base URL, the settings it runs with)."""
    server = ServerThread()
    live = settings.with_overrides(public_url=server.base_url)
    server.start(create_app(live, store.engine))
    try:
        yield server.base_url, live
    finally:
        server.stop()


def calls(store: SessionStore, call_sid: str | None = None) -> list[PhoneCall]:
    with Session(store.engine) as session:
        query = select(PhoneCall)
        if call_sid is not None:
            query = query.where(PhoneCall.call_sid == call_sid)
        return list(session.exec(query))


def ticket_of(twiml: str) -> str | None:
    if 'name="ticket" value="' not in twiml:
        return None
    return twiml.split('name="ticket" value="')[1].split('"')[0]


def phone_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "milo_voice.web.phone"]


def events(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level]


def test_without_a_token_a_call_to_a_mapped_number_is_refused(
    settings: Settings, store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    map_number(store)
    caplog.set_level(logging.INFO, logger="milo_voice")
    with serving(settings, store) as (base, _):
        form = voice_form(CANDIDATE, NUMBER)
        refused = httpx.post(f"{base}/phone/voice", data=form)
        forged = httpx.post(
            f"{base}/phone/voice", data=form, headers=signed("guessed-token", f"{base}/phone/voice", form)
        )
        status = httpx.post(f"{base}/phone/status", data=form | {"CallStatus": "completed"})
    assert refused.status_code == 403 and "MILO_TWILIO_AUTH_TOKEN is unset" in refused.text
    assert "<Stream" not in refused.text and "ticket" not in refused.text
    assert forged.status_code == 403 and status.status_code == 403
    assert calls(store) == [], "no call row, so no ticket, was made"
    assert events(caplog, logging.ERROR).count("phone.unsigned_webhook_refused") == 2
    refusal = next(r for r in caplog.records if r.getMessage() == "phone.unsigned_webhook_refused")
    assert "MILO_TWILIO_ALLOW_UNSIGNED" in refusal.__dict__["reason"]


def test_the_development_setting_lets_an_unsigned_call_in_and_warns(
    settings: Settings, store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    candidate_id = map_number(store)
    caplog.set_level(logging.INFO, logger="milo_voice")
    dev = settings.with_overrides(twilio_allow_unsigned=True)
    log_webhook_posture(dev, store.engine)
    assert "serve.TWILIO_WEBHOOKS_UNSIGNED" in events(caplog, logging.WARNING)
    with serving(dev, store) as (base, _):
        response = httpx.post(f"{base}/phone/voice", data=voice_form(CANDIDATE, NUMBER))
    assert response.status_code == 200 and ticket_of(response.text)
    (call,) = calls(store)
    assert call.candidate_id == candidate_id
    assert "phone.unsigned_webhook_accepted" in events(caplog, logging.WARNING)


def test_start_up_logs_an_error_when_numbers_are_mapped_without_a_token(
    settings: Settings, store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="milo_voice")
    log_webhook_posture(settings, store.engine)
    assert phone_records(caplog) == [], "no number mapped: nothing to warn about"
    map_number(store)
    log_webhook_posture(settings, store.engine)
    assert events(caplog, logging.ERROR) == ["serve.phone_webhooks_unverifiable"]
    caplog.clear()
    log_webhook_posture(settings.with_overrides(twilio_auth_token=Secret(TOKEN)), store.engine)
    assert phone_records(caplog) == [], "with a token every webhook is verified"


def test_a_replayed_signed_request_gets_no_second_ticket(
    settings: Settings, store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    map_number(store)
    caplog.set_level(logging.INFO, logger="milo_voice")
    with serving(settings.with_overrides(twilio_auth_token=Secret(TOKEN)), store) as (base, _):
        url = f"{base}/phone/voice"
        form = voice_form(CANDIDATE, NUMBER)
        headers = signed(TOKEN, url, form)
        first = httpx.post(url, data=form, headers=headers)
        replayed = httpx.post(url, data=form, headers=headers)
        ticket = ticket_of(first.text)
        assert ticket is not None and PhoneStore(store.engine).claim_ticket(ticket) is not None
        after_claim = httpx.post(url, data=form, headers=headers)
    assert first.status_code == 200
    for again in (replayed, after_claim):
        assert again.status_code == 200 and ticket_of(again.text) is None
        assert "<Hangup/>" in again.text and "<Stream" not in again.text
    assert len(calls(store, form["CallSid"])) == 1
    assert events(caplog, logging.WARNING).count("phone.repeated_call_sid") == 2


def test_racing_requests_with_one_call_sid_get_at_most_one_ticket(
    settings: Settings, store: SessionStore
) -> None:
    map_number(store)
    with serving(settings.with_overrides(twilio_auth_token=Secret(TOKEN)), store) as (base, _):
        url = f"{base}/phone/voice"
        form = voice_form(CANDIDATE, NUMBER)
        headers = signed(TOKEN, url, form)
        answers: list[httpx.Response] = []
        go = threading.Barrier(6)

        def post() -> None:
            go.wait()
            answers.append(httpx.post(url, data=form, headers=headers))

        threads = [threading.Thread(target=post) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert len(answers) == 6 and all(a.status_code == 200 for a in answers)
    tickets = [t for t in (ticket_of(a.text) for a in answers) if t]
    assert len(tickets) <= 1 and len(calls(store, form["CallSid"])) == len(tickets)


def test_a_ticket_is_claimed_once(settings: Settings, store: SessionStore) -> None:
    map_number(store)
    live = settings.with_overrides(public_url="https://milo.example.com", twilio_auth_token=Secret(TOKEN))
    client = TestClient(create_app(live, store.engine))
    form = voice_form(CANDIDATE, NUMBER)
    answer = client.post(
        "/phone/voice", data=form, headers=signed(TOKEN, "https://milo.example.com/phone/voice", form)
    )
    ticket = ticket_of(answer.text)
    assert ticket is not None
    phones = PhoneStore(store.engine)
    claims: list[PhoneCall | None] = []
    threads = [threading.Thread(target=lambda: claims.append(phones.claim_ticket(ticket))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len([c for c in claims if c is not None]) == 1, "four streams raced for one ticket"
    start = {
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": "MZ1",
        "start": {
            "streamSid": "MZ1",
            "callSid": form["CallSid"],
            "accountSid": form["AccountSid"],
            "tracks": ["inbound"],
            "customParameters": {"ticket": ticket},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    }
    with client.websocket_connect("/phone/stream") as ws:  # a stream presenting the used ticket
        ws.send_json({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        ws.send_json(start)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1008 and closed.value.reason == "unknown, used or expired ticket"
