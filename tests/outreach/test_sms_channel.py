"""SmsChannel against Twilio's REST API faked on loopback (what Twilio receives, its answers and
errors), the parsers for Twilio's status and inbound webhooks, and the request signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
from collections.abc import Iterator

import pytest
from fakes.twilio_rest import FakeTwilioRest

from milo_voice.calls.phone import twilio_rest
from milo_voice.errors import ConfigError, EngineUnavailable
from milo_voice.outreach.dispatch import Reconciles
from milo_voice.outreach.sms_channel import (
    Inbound,
    Keyword,
    SmsChannel,
    SmsConfig,
    TwilioError,
    keyword_of,
    parse_inbound,
    parse_status_callback,
)
from milo_voice.outreach.twilio_signature import signature, url_forms, valid_signature
from milo_voice.outreach.types import ChannelName, Rendered
from milo_voice.settings import Secret, Settings

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "tok-" + "9" * 28
FROM = "+14155550100"
SERVICE = "MG" + "ab" * 16
TO = "+447700900123"
BODY = "Hi Zoë – Café Barista: your interview is ready, take your time: https://milo.test/i/tok"
CALLBACK = "https://milo.test/sms/status?m=42"


def sms(**changes: str) -> Rendered:
    values = {"recipient": TO, "body_text": BODY, "status_callback_url": CALLBACK, "reference": "milo-42"}
    values.update(changes)
    return Rendered(channel=ChannelName.SMS, **values)


def config(api_url: str, **changes: object) -> SmsConfig:
    values: dict[str, object] = {"account_sid": SID, "auth_token": Secret(TOKEN), "from_number": FROM,
                                 "api_url": api_url, "timeout": 2.0}
    values.update(changes)
    return SmsConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def twilio() -> Iterator[FakeTwilioRest]:
    with FakeTwilioRest(account_sid=SID, auth_token=TOKEN) as fake:
        yield fake


@pytest.fixture
def channel(twilio: FakeTwilioRest) -> Iterator[SmsChannel]:
    made = SmsChannel(config(twilio.base_url))
    yield made
    made.close()


def test_a_text_is_posted_as_twilio_documents_and_the_sid_is_the_receipt(
    twilio: FakeTwilioRest, channel: SmsChannel
) -> None:
    receipt = channel.send(sms())

    assert twilio.message_requests == [{"auth": f"{SID}:{TOKEN}", "sid": SID, "To": TO, "From": FROM,
                                        "Body": BODY, "StatusCallback": CALLBACK}]
    [taken] = twilio.messages
    assert receipt.provider_id == taken["sid"] and receipt.provider_id.startswith("SM")
    assert len(receipt.provider_id) == 34 and receipt.status == "queued"
    assert channel.name is ChannelName.SMS and isinstance(channel, Reconciles)


def test_a_messaging_service_sends_instead_of_a_number(twilio: FakeTwilioRest) -> None:
    channel = SmsChannel(config(twilio.base_url, messaging_service_sid=SERVICE))
    receipt = channel.send(sms(status_callback_url=""))
    channel.close()
    assert twilio.message_requests[0] == {"auth": f"{SID}:{TOKEN}", "sid": SID, "To": TO,
                                          "MessagingServiceSid": SERVICE, "Body": BODY}
    assert receipt.status == "accepted"


@pytest.mark.parametrize(("change", "code", "retryable", "says"), [
    ({"recipient": "415 555 0100"}, 21211, False,
     "The 'To' number 415 555 0100 is not a valid phone number."),
    ({"recipient": "+14155550123"}, 21610, False, "Attempt to send to unsubscribed recipient"),
    ({"body_text": "x" * 1601}, 21617, False, "exceeds the 1600 character limit"),
    ({"body_text": ""}, 21602, False, "Message body is required."),
])
def test_twilio_refusals_keep_its_code_and_message_and_are_final(
    twilio: FakeTwilioRest, channel: SmsChannel, change: dict[str, str], code: int, retryable: bool, says: str
) -> None:
    twilio.unsubscribed.add("+14155550123")
    with pytest.raises(TwilioError) as caught:
        channel.send(sms(**change))
    error = caught.value
    assert isinstance(error, EngineUnavailable)
    assert (error.code, error.http_status, error.retryable) == (code, 400, retryable)
    assert error.more_info == f"https://www.twilio.com/docs/errors/{code}"
    assert f"error {code}: " in str(error) and says in str(error) and error.more_info in str(error)
    assert twilio.messages == []


@pytest.mark.parametrize(("outage", "code"), [(429, 20429), (500, 20500), (503, 20503)])
def test_rate_limits_and_server_errors_are_retryable(
    twilio: FakeTwilioRest, channel: SmsChannel, outage: int, code: int
) -> None:
    twilio.outage = outage
    with pytest.raises(TwilioError) as caught:
        channel.send(sms())
    assert (caught.value.code, caught.value.http_status, caught.value.retryable) == (code, outage, True)


def test_wrong_credentials_are_twilios_20003_and_retryable_without_showing_the_token(
    twilio: FakeTwilioRest,
) -> None:
    channel = SmsChannel(config(twilio.base_url, auth_token=Secret("not-the-token")))
    with pytest.raises(TwilioError) as caught:
        channel.send(sms())
    channel.close()
    assert (caught.value.code, caught.value.http_status, caught.value.retryable) == (20003, 401, True)
    assert "Authenticate" in str(caught.value) and "not-the-token" not in str(caught.value)
    assert twilio.message_requests[0]["auth"] == f"{SID}:not-the-token" and twilio.messages == []


def test_twilio_unreachable_is_retryable() -> None:
    with socket.create_server(("127.0.0.1", 0)) as bound:
        url = f"http://127.0.0.1:{bound.getsockname()[1]}"  # closed again: nothing listens there
    channel = SmsChannel(config(url))
    with pytest.raises(TwilioError) as caught:
        channel.send(sms())
    channel.close()
    assert caught.value.retryable and caught.value.code is None
    assert str(caught.value) == f"Twilio at {url} is unreachable (ConnectError)"


def test_an_answer_lost_after_twilio_took_the_message_is_found_not_sent_again(twilio: FakeTwilioRest) -> None:
    twilio.delay = 1.0  # Twilio takes the message, the answer comes after our timeout
    channel = SmsChannel(config(twilio.base_url, timeout=0.3))
    receipt = channel.send(sms())
    channel.close()
    [taken] = twilio.messages
    assert (receipt.provider_id, receipt.status) == (taken["sid"], "queued")


def test_a_silent_server_times_out_as_retryable() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts into its backlog, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        channel = SmsChannel(config(url, timeout=0.3))
        with pytest.raises(TwilioError) as caught:
            channel.send(sms())
        channel.close()
    assert caught.value.retryable
    assert str(caught.value) == f"Twilio at {url} did not answer within 0.3 s (ReadTimeout)"


def test_find_looks_the_message_up_by_recipient_sender_and_body_across_pages(
    twilio: FakeTwilioRest, channel: SmsChannel
) -> None:
    receipt = channel.send(sms())
    for n in range(120):  # newer messages to the same number push ours to the third page
        twilio.messages.append(twilio._resource(SID, {"To": TO, "From": FROM, "Body": f"reminder {n}"}))
    found = channel.find(sms())
    assert found is not None and found.provider_id == receipt.provider_id
    assert channel.find(sms(body_text="another link")) is None
    assert channel.find(sms(recipient="+14155550199")) is None
    other_sender = SmsChannel(config(twilio.base_url, from_number="+14155550111"))
    assert other_sender.find(sms()) is None
    other_sender.close()


def test_the_config_comes_from_the_twilio_and_sms_settings() -> None:
    assert SmsConfig.from_settings(Settings()) is None
    account = {"MILO_TWILIO_ACCOUNT_SID": SID, "MILO_TWILIO_AUTH_TOKEN": TOKEN}
    assert SmsConfig.from_settings(Settings.from_env(account)) is None  # no sender: SMS off
    made = SmsConfig.from_settings(Settings.from_env({**account, "MILO_SMS_FROM": FROM}))
    assert made is not None
    assert (made.account_sid, made.auth_token, made.from_number, made.api_url) == (
        SID, TOKEN, FROM, "https://api.twilio.com")
    assert TOKEN not in repr(made)
    environ = {**account, "MILO_SMS_MESSAGING_SERVICE_SID": SERVICE}
    service = SmsConfig.from_settings(Settings.from_env(environ))
    assert service is not None and service.messaging_service_sid == SERVICE
    with pytest.raises(ConfigError, match="MILO_SMS_FROM"):
        Settings.from_env({"MILO_SMS_FROM": "(415) 555-0100"})


# -- what Twilio posts back ---------------------------------------------------------------------


@pytest.mark.parametrize(("status", "error"), [
    ("queued", ""), ("sent", ""), ("delivered", ""), ("undelivered", "30003"), ("failed", "30008")])
def test_status_callbacks_give_the_sid_the_status_and_the_error_code(status: str, error: str) -> None:
    sid = "SM" + "1" * 32
    form = {"AccountSid": SID, "From": FROM, "To": TO, "MessageSid": sid, "SmsSid": sid,
            "MessageStatus": status.capitalize(), "SmsStatus": status, "ApiVersion": "2010-04-01"}
    if error:
        form["ErrorCode"] = error
    assert parse_status_callback(form) == (sid, status, error)
    assert parse_status_callback({}) == ("", "", "")


@pytest.mark.parametrize(("body", "keyword"), [
    *[(word, Keyword.OPT_OUT) for word in ("STOP", "stop", " Stop \n", "STOPALL", "unsubscribe", "Cancel",
                                          "END", "quit", "REVOKE", "OptOut")],
    *[(word, Keyword.OPT_IN) for word in ("START", "yes", "Unstop ")],
    *[(word, Keyword.HELP) for word in ("HELP", " info")],
    ("stop texting me please", None), ("Yes, I'll do it tonight", None), ("STOP!", None), ("", None),
    ("Can I reschedule?", None),
])
def test_inbound_keywords_are_twilios_whole_message_words(body: str, keyword: Keyword | None) -> None:
    form = {"MessageSid": "SM" + "2" * 32, "From": TO, "To": FROM, "Body": body, "NumMedia": "0"}
    assert keyword_of(body) is keyword
    assert parse_inbound(form) == Inbound(from_=TO, to=FROM, body=body, provider_id="SM" + "2" * 32,
                                          keyword=keyword)


def test_twilios_own_opt_out_verdict_wins() -> None:
    form = {"SmsMessageSid": "SM" + "3" * 32, "From": TO, "To": FROM, "Body": "Arrêt", "OptOutType": "STOP"}
    assert parse_inbound(form) == Inbound(from_=TO, to=FROM, body="Arrêt", provider_id="SM" + "3" * 32,
                                          keyword=Keyword.OPT_OUT)


# -- X-Twilio-Signature ---------------------------------------------------------------------------

DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"),
              ("From", "+12349013030"), ("To", "+18005551212")]


def test_the_signature_matches_twilios_documented_example() -> None:
    assert signature("12345", DOC_URL, reversed(DOC_PARAMS)) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert valid_signature("12345", DOC_URL, DOC_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")


def test_the_signature_of_an_inbound_text_computed_by_the_documented_steps() -> None:
    url = "https://milo.test/sms/inbound"
    sid = "SM" + "4" * 32
    params = [("To", FROM), ("From", TO), ("Body", "Zoë: STOP"), ("MessageSid", sid)]
    signed = (url + "Body" + "Zoë: STOP" + "From" + TO + "MessageSid" + sid + "To" + FROM).encode()
    expected = base64.b64encode(hmac.new(TOKEN.encode(), signed, hashlib.sha1).digest()).decode()
    assert signature(TOKEN, url, params) == expected == twilio_rest.signature(TOKEN, url, params)
    assert valid_signature(TOKEN, url, params, expected)
    assert valid_signature(TOKEN, "https://milo.test:443/sms/inbound", params, expected)  # with the port
    assert not valid_signature(TOKEN, url, [*params[:2], ("Body", "START"), params[3]], expected)
    assert not valid_signature(TOKEN, url + "?m=1", params, expected)
    assert not valid_signature("another-token", url, params, expected)
    assert not valid_signature(TOKEN, url, params, "")
    assert not valid_signature("", url, params, signature("", url, params))


def test_url_forms_add_and_drop_only_the_default_port() -> None:
    assert url_forms("https://milo.test/sms?m=1") == [
        "https://milo.test/sms?m=1", "https://milo.test:443/sms?m=1"]
    assert url_forms("http://milo.test:80/x") == ["http://milo.test:80/x", "http://milo.test/x"]
    assert url_forms("https://milo.test:8443/x") == ["https://milo.test:8443/x"]
