"""The phone channel's HTTP side: signatures, TwiML, number and caller mapping, tickets, outbound calls."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from datetime import timedelta
from xml.etree import ElementTree

import httpx
import pytest
from fakes.twilio_rest import FakeTwilioRest
from fakes.twilio_webhook import signed
from phone_harness import SCRIPT
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from milo_voice.calls.phone.numbers import PhoneStore, normalise_number, same_number
from milo_voice.calls.phone.outbound import place_call
from milo_voice.calls.phone.twilio_rest import OutboundCallFailed, signature, stream_url, valid_signature
from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Secret, Settings
from milo_voice.web.app import create_app
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews

NUMBER = "+15005550006"
PUBLIC = "https://milo.example.com"
TOKEN = "s3cret"


def expected_signature(token: str, data: str) -> str:
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def test_signature_follows_twilios_scheme() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"To": "+18005551212", "CallSid": "CA1234567890ABCDE", "From": "+12349013030",
              "Digits": "1234", "Caller": "+12349013030"}
    # URL, then each parameter name+value in name order, written out by hand
    data = (url + "CallSidCA1234567890ABCDE" + "Caller+12349013030" + "Digits1234" + "From+12349013030"
            + "To+18005551212")
    want = expected_signature("12345", data)
    assert signature("12345", url, params.items()) == want
    assert valid_signature("12345", url, params.items(), want)
    assert valid_signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", params.items(), want)
    assert not valid_signature("12345", url, [*params.items(), ("Extra", "1")], want)
    assert not valid_signature("54321", url, params.items(), want)
    assert not valid_signature("12345", url, params.items(), "")


def test_stream_url_turns_the_public_url_into_a_websocket_url() -> None:
    assert stream_url("https://milo.example.com/") == "wss://milo.example.com/phone/stream"
    assert stream_url("http://127.0.0.1:8000") == "ws://127.0.0.1:8000/phone/stream"
    assert stream_url("https://example.com/milo") == "wss://example.com/milo/phone/stream"


def test_numbers_normalise_and_match_with_or_without_country_code() -> None:
    assert normalise_number("+1 (415) 555-0100") == "+14155550100"
    assert normalise_number("0044 20 7946 0958") == "+442079460958"
    assert same_number("+14155550100", "(415) 555-0100")
    assert same_number("+14155550100", "+1 415 555 0100")
    assert not same_number("+14155550100", "+4415550100")
    assert not same_number("+14155550100", "0100")  # too few digits to be sure
    assert not same_number("+14155550100", "")


def app_for(settings: Settings, store: SessionStore) -> TestClient:
    """The app as deployed behind `PUBLIC`, with an auth token: webhooks are signed like Twilio's."""
    live = settings.with_overrides(public_url=PUBLIC, twilio_auth_token=Secret(TOKEN))
    return TestClient(create_app(live, store.engine))


def voice(client: TestClient, caller: str, *, to: str = NUMBER, headers: dict[str, str] | None = None,
          query: str = "") -> httpx.Response:
    """Twilio's voice webhook, signed with `TOKEN` unless `headers` are given."""
    form = {"CallSid": "CA1", "AccountSid": "AC1", "From": caller, "To": to, "Direction": "inbound"}
    if headers is None:
        headers = signed(TOKEN, f"{PUBLIC}/phone/voice{query}", form)
    return client.post(f"/phone/voice{query}", data=form, headers=headers)


def parse_twiml(text: str) -> ElementTree.Element:
    root = ElementTree.fromstring(text)
    assert root.tag == "Response"
    return root


def test_an_inbound_call_gets_connect_stream_with_a_ticket(settings: Settings, store: SessionStore) -> None:
    settings = settings.with_overrides(public_url=PUBLIC)
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="phone")
    PhoneStore(store.engine).add_number("+1 500 555 0006", interview_id)
    candidate = Candidates(store.engine).enrol(interview_id=interview_id, name="A", phone="+14155550100")
    response = voice(app_for(settings, store), "+14155550100")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    stream = parse_twiml(response.text).find("Connect/Stream")
    assert stream is not None and stream.get("url") == "wss://milo.example.com/phone/stream"
    params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    assert set(params) == {"ticket"} and len(params["ticket"] or "") >= 40
    phones = PhoneStore(store.engine)
    call = phones.call_by_ticket(params["ticket"] or "")
    assert call is not None and call.candidate_id == candidate.id and call.interview_id == interview_id
    assert call.ticket_hash != params["ticket"]  # only the hash is stored
    assert phones.claim_ticket(params["ticket"] or "") is not None
    assert phones.claim_ticket(params["ticket"] or "") is None  # good once


def test_an_unknown_caller_is_left_to_the_keypad_and_an_unknown_number_hears_why(
    settings: Settings, store: SessionStore
) -> None:
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="phone")
    PhoneStore(store.engine).add_number(NUMBER, interview_id)
    client = app_for(settings, store)
    ticket = parse_twiml(voice(client, "+447700900123").text).find("Connect/Stream/Parameter")
    assert ticket is not None
    call = PhoneStore(store.engine).call_by_ticket(ticket.get("value") or "")
    assert call is not None and call.candidate_id is None
    unknown = parse_twiml(voice(client, "+447700900123", to="+15005559999").text)
    assert [child.tag for child in unknown] == ["Say", "Hangup"]
    assert "not connected to an interview" in (unknown.findtext("Say") or "")


def test_signed_webhooks_are_checked_when_an_auth_token_is_set(
    settings: Settings, store: SessionStore
) -> None:
    settings = settings.with_overrides(public_url=PUBLIC, twilio_auth_token=Secret("s3cret"))
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="phone")
    PhoneStore(store.engine).add_number(NUMBER, interview_id)
    client = app_for(settings, store)
    assert voice(client, "+14155550100", headers={}).status_code == 403
    assert voice(client, "+14155550100", headers={"X-Twilio-Signature": "bm9wZQ=="}).status_code == 403
    form = {"CallSid": "CA1", "AccountSid": "AC1", "From": "+14155550100", "To": NUMBER,
            "Direction": "inbound"}
    data = f"{PUBLIC}/phone/voice" + "".join(k + form[k] for k in sorted(form))
    good = {"X-Twilio-Signature": expected_signature("s3cret", data)}
    response = voice(client, "+14155550100", headers=good)
    assert response.status_code == 200 and "<Stream" in response.text


def test_the_stream_refuses_a_ticket_that_does_not_exist_or_has_expired(
    settings: Settings, store: SessionStore
) -> None:
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="phone")
    phones = PhoneStore(store.engine)
    _, old = phones.open_call(direction="inbound", interview_id=interview_id, candidate_id=None)
    later = store.now() + timedelta(hours=1)
    late = PhoneStore(store.engine, now=lambda: later)
    assert late.claim_ticket(old) is None
    client = app_for(settings, store)
    start = {"event": "start", "sequenceNumber": "1", "streamSid": "MZ1", "start": {
        "streamSid": "MZ1", "callSid": "CA1", "accountSid": "AC1", "tracks": ["inbound"],
        "customParameters": {"ticket": "made-up"},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}
    with client.websocket_connect("/phone/stream") as ws:
        ws.send_json({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        ws.send_json(start)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1008 and closed.value.reason == "unknown, used or expired ticket"
    with client.websocket_connect("/phone/stream") as ws:
        ws.send_text("{not json")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1008 and closed.value.reason.startswith("malformed JSON")


def test_an_outbound_call_goes_through_twilios_rest_api(settings: Settings, store: SessionStore) -> None:
    fake = FakeTwilioRest()
    fake.server.start()
    try:
        settings = settings.with_overrides(
            public_url=PUBLIC, twilio_account_sid="AC123", twilio_auth_token=Secret("tok"),
            twilio_caller_id=NUMBER, twilio_api_url=fake.server.base_url)
        interview_id = Interviews(store.engine).add_script(SCRIPT, slug="phone")
        candidate = Candidates(store.engine).enrol(
            interview_id=interview_id, name="B", phone="+1 415 555 0199")
        call_id, sid = asyncio.run(place_call(settings, PhoneStore(store.engine), candidate.id or 0))
        assert sid == "CA" + "f" * 32
        sent = fake.requests[0]
        assert (sent["auth"], sent["sid"]) == ("AC123:tok", "AC123")
        assert (sent["To"], sent["From"]) == ("+14155550199", NUMBER)
        assert sent["Url"].startswith(f"{PUBLIC}/phone/voice?outbound=") and sent["Method"] == "POST"
        assert sent["StatusCallback"] == f"{PUBLIC}/phone/status?call={call_id}"
        assert fake.multi[0]["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
        phones = PhoneStore(store.engine)
        row = phones.get_call(call_id)
        assert row is not None and row.call_sid == sid and row.direction == "outbound"
        # when the candidate answers, Twilio fetches that URL: the TwiML streams with the same ticket
        query = sent["Url"][len(f"{PUBLIC}/phone/voice"):]
        twiml = parse_twiml(voice(app_for(settings, store), NUMBER, to="+14155550199", query=query).text)
        param = twiml.find("Connect/Stream/Parameter")
        assert param is not None and param.get("value") == query.split("=", 1)[1]
        fake.refuse = True
        with pytest.raises(OutboundCallFailed, match="not a valid phone number"):
            asyncio.run(place_call(settings, PhoneStore(store.engine), candidate.id or 0))
    finally:
        fake.server.stop()


def test_outbound_calls_need_credentials(settings: Settings, store: SessionStore) -> None:
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="phone")
    candidate = Candidates(store.engine).enrol(interview_id=interview_id, name="C", phone="+14155550199")
    with pytest.raises(OutboundCallFailed, match="MILO_TWILIO_ACCOUNT_SID"):
        asyncio.run(place_call(settings, PhoneStore(store.engine), candidate.id or 0))


def test_access_codes_are_unique_per_candidate_and_scoped_to_the_interview(store: SessionStore) -> None:
    phones = PhoneStore(store.engine)
    first = Interviews(store.engine).add_script(SCRIPT, slug="one")
    other = Interviews(store.engine).add_script(SCRIPT, slug="two")
    a = Candidates(store.engine).enrol(interview_id=first, name="A")
    b = Candidates(store.engine).enrol(interview_id=other, name="B")
    code_a, code_b = phones.access_code(a.id or 0), phones.access_code(b.id or 0)
    assert code_a != code_b and len(code_a) == 8 and code_a.isdigit()
    assert phones.access_code(a.id or 0) == code_a
    found = phones.candidate_by_code(first, code_a)
    assert found is not None and found.id == a.id
    assert phones.candidate_by_code(first, code_b) is None  # another interview's candidate
    assert phones.candidate_by_code(first, "12") is None
