"""Outreach over HTTP, through the real app: signed SMS status callbacks and inbound texts (STOP,
START, HELP, free text), forged ones refused, and the unsubscribe page (email, or everything)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.dispatch import dispatch_due
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.twilio_signature import signature
from milo_voice.outreach.types import ChannelName, Decision, MessageKind, Receipt, Rendered, Verdict
from milo_voice.settings import Secret, Settings
from milo_voice.store.tables import Candidate, OutreachMessage
from milo_voice.web.app import create_app
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.demo import Demo

TOKEN = "twilio-auth-token"
BASE = "http://testserver"


@pytest.fixture
def client(settings: Settings, store: SessionStore) -> Iterator[TestClient]:
    signed = replace(settings, twilio_auth_token=Secret(TOKEN))
    with TestClient(create_app(signed, store.engine), base_url=BASE) as c:
        yield c


@pytest.fixture
def robin(store: SessionStore) -> Candidate:
    interview_id, _ = Demo(store.engine).seed()
    return Candidates(store.engine).enrol(interview_id=interview_id, name="Robin Reader",
                                         email="robin@example.com", phone="(415) 555-0100")


def post_signed(client: TestClient, path: str, form: dict[str, str], *, forged: bool = False) -> object:
    sig = signature(TOKEN if not forged else "not-the-token", BASE + path, sorted(form.items()))
    return client.post(path, data=form, headers={"X-Twilio-Signature": sig})


class Took:
    name = ChannelName.SMS

    def send(self, message: Rendered) -> Receipt:
        return Receipt("SM0123456789abcdef0123456789abcdef", "queued")


def sent_sms(store: SessionStore, candidate: Candidate) -> int:
    outbox = Outbox(store.engine)
    mid = outbox.schedule(candidate_id=candidate.id or 0, kind=MessageKind.INVITATION,
                          channel=ChannelName.SMS, dedupe_key="invitation:sms", recipient="+14155550100",
                          body_text="Your link", due_at=datetime.now(UTC))

    def send(m: OutreachMessage, h: list[OutreachMessage], now: datetime) -> Verdict:
        return Verdict(Decision.SEND, "test")

    dispatch_due(outbox, send, {ChannelName.SMS: Took()}, now=datetime.now(UTC))
    return mid or 0


def test_a_signed_status_callback_moves_the_message_and_a_forged_one_is_refused(
    client: TestClient, store: SessionStore, robin: Candidate
) -> None:
    mid = sent_sms(store, robin)
    form = {"MessageSid": "SM0123456789abcdef0123456789abcdef", "MessageStatus": "delivered",
            "AccountSid": "AC1", "To": "+14155550100"}
    assert post_signed(client, f"/sms/status?m={mid}", form, forged=True).status_code == 403  # type: ignore[attr-defined]
    assert Outbox(store.engine).get(mid).status == "sent"
    assert post_signed(client, f"/sms/status?m={mid}", form).status_code == 204  # type: ignore[attr-defined]
    assert Outbox(store.engine).get(mid).status == "delivered"
    failed = {**form, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert post_signed(client, "/sms/status", failed).status_code == 204  # type: ignore[attr-defined]
    assert Outbox(store.engine).get(mid).status == "failed"


def inbound(body: str) -> dict[str, str]:
    return {"MessageSid": "SM" + "1" * 32, "From": "+14155550100", "To": "+15005550006", "Body": body,
            "AccountSid": "AC1"}


def test_stop_stops_texts_start_lifts_it_and_help_answers(
    client: TestClient, store: SessionStore, robin: Candidate
) -> None:
    contacts = Contacts(store.engine)
    assert post_signed(client, "/sms/inbound", inbound("STOP"), forged=True).status_code == 403  # type: ignore[attr-defined]
    assert not contacts.get(robin.id or 0).sms_opt_out
    assert post_signed(client, "/sms/inbound", inbound("stop")).status_code == 200  # type: ignore[attr-defined]
    assert contacts.get(robin.id or 0).sms_opt_out and not contacts.get(robin.id or 0).email_opt_out
    post_signed(client, "/sms/inbound", inbound("START"))
    assert not contacts.get(robin.id or 0).sms_opt_out
    helped = post_signed(client, "/sms/inbound", inbound("HELP"))
    assert "Reply STOP" in helped.text  # type: ignore[attr-defined]
    post_signed(client, "/sms/inbound", inbound("Can I do it on Saturday instead?"))
    assert contacts.get(robin.id or 0).paused
    assert next(r.body for r in contacts.replies(robin.id or 0)) == "Can I do it on Saturday instead?"


def test_the_unsubscribe_link_stops_email_or_everything(
    client: TestClient, store: SessionStore, robin: Candidate
) -> None:
    page = client.get(f"/u/{robin.token}")
    assert page.status_code == 200 and "Stop emails about this interview" in page.text
    done = client.post(f"/u/{robin.token}", data={"scope": "email"})
    assert "no more emails" in done.text
    contact = Contacts(store.engine).get(robin.id or 0)
    assert contact.email_opt_out and not contact.sms_opt_out
    client.post(f"/u/{robin.token}", data={"scope": "all"})
    assert Contacts(store.engine).get(robin.id or 0).sms_opt_out
    assert client.get("/u/not-a-token").status_code == 404
