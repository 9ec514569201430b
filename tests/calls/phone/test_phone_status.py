"""Twilio's StatusCallback: signed reports update the call row, forged or unsigned ones are refused."""

from __future__ import annotations

import base64
import hashlib
import hmac

import httpx
import pytest
from phone_harness import SCRIPT
from starlette.testclient import TestClient

from milo_voice.calls.phone.numbers import PhoneStore
from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Secret, Settings
from milo_voice.web.app import create_app
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews

PUBLIC = "https://milo.example.com"
TOKEN = "s3cret"
SID = "CA" + "1" * 32


def twilio_signature(url: str, form: dict[str, str], token: str = TOKEN) -> str:
    """Written out from Twilio's documentation: HMAC-SHA1 of the full URL, then each POST
    parameter's name and value in name order, keyed with the auth token; base64."""
    data = url + "".join(name + form[name] for name in sorted(form))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@pytest.fixture
def phone(settings: Settings, store: SessionStore) -> tuple[TestClient, PhoneStore, int]:
    """An app with a Twilio auth token, and one outbound call row with its CallSid."""
    settings = settings.with_overrides(public_url=PUBLIC, twilio_auth_token=Secret(TOKEN))
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="phone")
    candidate = Candidates(store.engine).enrol(interview_id=interview_id, name="A", phone="+14155550100")
    phones = PhoneStore(store.engine)
    call_id, _ = phones.open_call(direction="outbound", interview_id=interview_id, candidate_id=candidate.id,
                                  to_number="+14155550100")
    phones.record_status(call_id=call_id, call_sid=SID, status="queued")
    return TestClient(create_app(settings, store.engine)), phones, call_id


def report(client: TestClient, query: str, form: dict[str, str], signature: str | None) -> httpx.Response:
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return client.post(f"/phone/status{query}", data=form, headers=headers)


def signed(client: TestClient, query: str, form: dict[str, str]) -> int:
    """Post `form` as Twilio would, signed for the URL it posts to; the status code."""
    return report(client, query, form, twilio_signature(f"{PUBLIC}/phone/status{query}", form)).status_code


def status_form(status: str, **extra: str) -> dict[str, str]:
    return {"CallSid": SID, "AccountSid": "AC1", "CallStatus": status, "ApiVersion": "2010-04-01",
            "Direction": "outbound-api", "From": "+15005550006", "To": "+14155550100", **extra}


def test_a_signed_status_callback_updates_the_call(phone: tuple[TestClient, PhoneStore, int]) -> None:
    client, phones, call_id = phone
    query = f"?call={call_id}"
    for status in ("initiated", "ringing", "in-progress"):
        assert signed(client, query, status_form(status)) == 204
        row = phones.get_call(call_id)
        assert row is not None and row.status == status
    assert signed(client, query, status_form("completed", CallDuration="42", Duration="1")) == 204
    row = phones.get_call(call_id)
    assert row is not None and (row.status, row.duration_s, row.status_detail) == ("completed", 42, "")
    assert row.status_at is not None
    # Twilio does not promise order: a late "ringing" does not move a finished call back
    assert signed(client, query, status_form("ringing")) == 204
    row = phones.get_call(call_id)
    assert row is not None and row.status == "completed"


def test_forged_or_unsigned_status_callbacks_are_refused(phone: tuple[TestClient, PhoneStore, int]) -> None:
    client, phones, call_id = phone
    query = f"?call={call_id}"
    form = status_form("completed", CallDuration="42")
    url = f"{PUBLIC}/phone/status{query}"
    assert report(client, query, form, None).status_code == 403
    assert report(client, query, form, twilio_signature(url, form, token="not-the-token")).status_code == 403
    tampered = {**form, "CallDuration": "4200"}  # signed for 42 s
    assert report(client, query, tampered, twilio_signature(url, form)).status_code == 403
    other_call = report(client, "?call=999", form, twilio_signature(url, form))  # the URL is signed too
    assert other_call.status_code == 403
    row = phones.get_call(call_id)
    assert row is not None and row.status == "queued" and row.duration_s is None


def test_status_callbacks_need_an_auth_token(settings: Settings, store: SessionStore) -> None:
    client = TestClient(create_app(settings.with_overrides(public_url=PUBLIC), store.engine))
    response = report(client, "", status_form("completed"), None)
    assert response.status_code == 403 and "MILO_TWILIO_AUTH_TOKEN" in response.text


def test_a_failed_call_keeps_twilios_reason_and_unknown_calls_are_404(
    phone: tuple[TestClient, PhoneStore, int],
) -> None:
    client, phones, call_id = phone
    # no call id in the URL (the number's own "call status changes" URL): found by CallSid
    assert signed(client, "", status_form("busy")) == 204
    row = phones.get_call(call_id)
    assert row is not None and (row.status, row.status_detail) == ("busy", "the line was busy")
    unknown = {**status_form("failed", ErrorCode="32009", ErrorMessage="Trunk not found"), "CallSid": "CA2"}
    assert signed(client, "", unknown) == 404
    wrong_sid = status_form("completed") | {"CallSid": "CA3"}
    query = f"?call={call_id}"  # our call id with another call's SID: not this call
    assert signed(client, query, wrong_sid) == 404
    assert signed(client, "", {"CallSid": SID}) == 400


def test_twilio_errors_become_the_reason(phone: tuple[TestClient, PhoneStore, int]) -> None:
    client, phones, call_id = phone
    row = phones.get_call(call_id)
    assert row is not None
    inbound, _ = phones.open_call(direction="inbound", interview_id=row.interview_id, candidate_id=None,
                                  call_sid="CA9", status="ringing")
    form = {**status_form("failed", ErrorCode="32009", ErrorMessage="Trunk not found"), "CallSid": "CA9"}
    assert signed(client, "", form) == 204
    failed = phones.get_call(inbound)
    assert failed is not None
    assert (failed.status, failed.status_detail) == ("failed", "Twilio error 32009: Trunk not found")
