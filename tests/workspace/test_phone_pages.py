"""Phone set-up without Python: Settings > Phone numbers maps a number that the inbound-call lookup
then finds; "Call now" rings the candidate through a loopback Twilio REST fake (and says why when it
cannot); the profile partial shows the access code and the numbers to call; the API maps numbers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import httpx
from fakes.twilio_rest import CALL_SID, FakeTwilioRest
from fakes.twilio_webhook import signed
from starlette.testclient import TestClient

from milo_voice.calls.phone.access import CandidatePhone
from milo_voice.calls.phone.numbers import PhoneStore
from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Secret, Settings
from milo_voice.store.tables import PhoneCall
from milo_voice.web.app import create_app
from milo_voice.web.workspace.render import templates
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from workspace.support import ADMIN, form_token, login

PAGE = "/app/settings/phone"
PUBLIC = "https://milo.example.com"
NUMBER = "+14155550100"
CANDIDATE_PHONE = "+1 415 555 0199"
WEBHOOK_TOKEN = "twilio-auth-token"


def published(store: SessionStore, title: str = "Barista") -> str:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title=title, questions=(QuestionForm("Why coffee?"),)))
    interviews.publish(row.slug)
    return row.slug


def map_number(client: TestClient, number: str, slug: str) -> tuple[int, str]:
    response = client.post(PAGE, data={"csrf_token": form_token(client, PAGE), "number": number,
                                       "interview": slug}, follow_redirects=False)
    if response.status_code == 303:
        return 303, response.headers["location"]
    return response.status_code, response.text


@contextmanager
def admin_app(settings: Settings, store: SessionStore) -> Iterator[TestClient]:
    """The app with these settings, signed in as the admin (https when the public URL is)."""
    scheme = "https" if settings.public_url.startswith("https") else "http"
    with TestClient(create_app(settings, store.engine), base_url=f"{scheme}://testserver") as client:
        login(client, ADMIN)
        yield client


def call_now(client: TestClient, cid: int) -> tuple[int, str]:
    token = form_token(client, PAGE)
    response = client.post(f"/app/candidates/{cid}/call", data={"csrf_token": token}, follow_redirects=False)
    return response.status_code, response.headers.get("location", response.text)


def last_call(store: SessionStore, cid: int) -> PhoneCall:
    (row, *_) = PhoneStore(store.engine).calls_for_candidate(cid)
    return row


def twilio_voice(settings: Settings, store: SessionStore, form: dict[str, str]) -> httpx.Response:
    """Twilio's voice webhook, signed as Twilio signs it, to the app deployed at `PUBLIC`."""
    live = settings.with_overrides(public_url=PUBLIC, twilio_auth_token=Secret(WEBHOOK_TOKEN))
    with TestClient(create_app(live, store.engine)) as twilio:
        return twilio.post("/phone/voice", data=form,
                           headers=signed(WEBHOOK_TOKEN, f"{PUBLIC}/phone/voice", form))


def test_an_admin_maps_a_number_and_the_inbound_lookup_finds_it(
    admin: TestClient, store: SessionStore, settings: Settings
) -> None:
    slug = published(store)
    candidate = Candidates(store.engine).add(slug=slug, name="Cam", phone="(415) 555-0199")
    page = admin.get(PAGE)
    assert page.status_code == 200 and "No numbers yet" in page.text and f'value="{slug}"' in page.text
    status, where = map_number(admin, "+1 (415) 555-0100", slug)
    assert status == 303 and where == f"{PAGE}?added=%2B14155550100"
    listing = admin.get(where).text
    assert "+1 415-555-0100 now reaches Barista (version 1)." in listing
    assert f"<code>{NUMBER}</code>" in listing and "/phone/voice" in listing and "/phone/status" in listing
    (event,) = [e for e in Audit(store.engine).recent() if e.target_type == "phone_number"]
    assert (event.action, event.target_id, event.detail["interview"]) == ("create", NUMBER, slug)
    # Twilio's voice webhook for a call to that number: the lookup finds the interview and the caller
    form = {"CallSid": "CA1", "AccountSid": "AC1", "From": "+14155550199", "To": NUMBER,
            "CallStatus": "ringing"}
    twiml = twilio_voice(settings, store, form)
    ticket = re.search(r'name="ticket" value="([^"]+)"', twiml.text)
    assert twiml.status_code == 200 and "<Connect><Stream" in twiml.text and ticket
    call = PhoneStore(store.engine).call_by_ticket(ticket.group(1))
    assert call is not None and call.candidate_id == candidate.id and call.status == "ringing"
    # refused input keeps what was typed and says the format
    status, text = map_number(admin, "12345", slug)
    assert status == 400 and "has no country code" in text and "e.g. +14155550100" in text
    assert 'value="12345"' in text
    status, text = map_number(admin, "+1 415 555 0100", slug)
    assert status == 400 and "already mapped" in text
    removed = admin.post(f"{PAGE}/remove", data={"csrf_token": form_token(admin, PAGE), "number": NUMBER},
                         follow_redirects=False)
    assert removed.status_code == 303 and "No numbers yet" in admin.get(PAGE).text
    assert "not connected to an interview" in twilio_voice(settings, store, form | {"CallSid": "CA2"}).text


def test_viewers_see_the_code_but_cannot_map_numbers_or_call(
    viewer: TestClient, store: SessionStore, settings: Settings
) -> None:
    slug = published(store)
    candidate = Candidates(store.engine).add(slug=slug, name="Cam", phone=CANDIDATE_PHONE)
    assert viewer.get(PAGE).status_code == 403
    token = form_token(viewer, "/app/interviews")
    for path in (PAGE, f"/app/candidates/{candidate.id}/call"):
        data = {"csrf_token": token, "number": NUMBER, "interview": slug}
        assert viewer.post(path, data=data, follow_redirects=False).status_code == 403
    assert PhoneStore(store.engine).numbers() == [] and PhoneStore(store.engine).calls_for_candidate(
        candidate.id or 0) == []
    html = partial(settings, store, candidate.id or 0, admin=False)
    assert "access-code" in html and "Call now" not in html


def test_call_now_rings_the_candidate_and_the_status_callback_completes_the_call(
    settings: Settings, store: SessionStore, users: dict[str, int]
) -> None:
    slug = published(store)
    candidate = Candidates(store.engine).add(slug=slug, name="Cam", phone=CANDIDATE_PHONE)
    cid = candidate.id or 0
    with FakeTwilioRest() as fake:
        live = settings.with_overrides(public_url=PUBLIC, twilio_account_sid="AC123",
                                       twilio_auth_token=Secret("tok"), twilio_api_url=fake.base_url)
        with admin_app(live, store) as admin:
            assert map_number(admin, NUMBER, slug)[0] == 303
            assert call_now(admin, cid) == (303, f"/app/candidates/{cid}#phone")
            (sent,) = fake.requests
            assert (sent["auth"], sent["sid"], sent["To"], sent["From"]) == ("AC123:tok", "AC123",
                                                                             "+14155550199", NUMBER)
            row = last_call(store, cid)
            assert (row.status, row.call_sid, row.direction) == ("queued", CALL_SID, "outbound")
            assert sent["Url"].startswith(f"{PUBLIC}/phone/voice?outbound=") and sent["Method"] == "POST"
            assert sent["StatusCallback"] == f"{PUBLIC}/phone/status?call={row.id}"
            assert fake.multi[0]["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
            # Twilio reports the end of the call to the URL it was given, signed with the auth token
            form = {"CallSid": CALL_SID, "AccountSid": "AC123", "CallStatus": "completed",
                    "CallDuration": "95"}
            url = sent["StatusCallback"]
            query = "?" + urlsplit(url).query
            headers = {"X-Twilio-Signature": _sign("tok", url, form)}
            assert admin.post(f"/phone/status{query}", data=form, headers=headers).status_code == 204
            assert parse_qs(urlsplit(url).query) == {"call": [str(row.id)]}
    done = last_call(store, cid)
    assert (done.status, done.duration_s) == ("completed", 95)
    html = partial(live, store, cid, admin=True)
    assert "completed" in html and "1:35" in html and "last-call-failed" not in html
    (audit,) = [e for e in Audit(store.engine).recent() if e.action == "call"]
    assert audit.detail["call_sid"] == CALL_SID


def test_call_now_says_why_it_cannot_call_and_keeps_the_failed_attempt(
    settings: Settings, store: SessionStore, users: dict[str, int]
) -> None:
    slug = published(store)
    candidates = Candidates(store.engine)
    phoneless = candidates.add(slug=slug, name="No Phone").id or 0
    cid = candidates.add(slug=slug, name="Cam", phone=CANDIDATE_PHONE).id or 0
    configured = settings.with_overrides(twilio_account_sid="AC123", twilio_auth_token=Secret("tok"),
                                         twilio_api_url="http://127.0.0.1:9")
    with admin_app(settings, store) as admin:
        status, text = call_now(admin, cid)
        assert status == 400 and "Twilio is not configured: set MILO_TWILIO_ACCOUNT_SID" in text
    with admin_app(configured, store) as admin:
        status, text = call_now(admin, cid)
        assert status == 400 and "no phone number is mapped to this interview version" in text
        assert map_number(admin, NUMBER, slug)[0] == 303
        status, text = call_now(admin, phoneless)
        assert status == 400 and "No Phone has no phone number" in text
    phones = PhoneStore(store.engine)
    attempts = phones.calls_for_candidate(cid) + phones.calls_for_candidate(phoneless)
    assert [c.status for c in attempts] == ["failed"] * 3
    assert [c.status_detail.split(":")[0] for c in attempts] == [
        "no phone number is mapped to this interview version (map one under Settings > Phone numbers) "
        "and MILO_TWILIO_CALLER_ID is not set",
        "Twilio is not configured",
        "No Phone has no phone number; add one first",
    ]
    # Twilio down: nothing listens there
    with closed_port() as dead, admin_app(configured.with_overrides(twilio_api_url=dead), store) as admin:
        status, text = call_now(admin, cid)
    assert status == 502 and "Twilio unreachable at" in text and f"/app/candidates/{cid}#phone" in text
    failed = last_call(store, cid)
    assert failed.status == "failed" and failed.status_detail.startswith("Twilio unreachable at")
    assert failed.to_number == "+14155550199" and failed.from_number == NUMBER
    html = partial(configured, store, cid, admin=True)
    assert "Last call failed: Twilio unreachable at" in html
    with FakeTwilioRest() as fake:
        fake.refuse = True
        with admin_app(configured.with_overrides(twilio_api_url=fake.base_url), store) as admin:
            status, text = call_now(admin, cid)
    assert status == 502 and "not a valid phone number" in text
    assert "not a valid phone number" in last_call(store, cid).status_detail


def test_the_partial_shows_the_access_code_the_numbers_and_the_button(
    settings: Settings, store: SessionStore
) -> None:
    slug = published(store)
    cid = Candidates(store.engine).add(slug=slug, name="Cam").id or 0
    html = partial(settings, store, cid, admin=True)
    code = PhoneStore(store.engine).access_code(cid)
    assert f"{code[:4]} {code[4:]}" in html and "No phone number reaches this interview version" in html
    assert 'href="/app/settings/phone"' in html
    assert re.search(r"<button disabled[^>]*>Call now</button>", html) and "Twilio is not configured" in html
    interview_id = Candidates(store.engine).get(cid)[1].id or 0
    PhoneStore(store.engine).add_number("+1 415 555 0100", interview_id)
    PhoneStore(store.engine).add_number("+44 20 7946 0958", interview_id)
    html = partial(settings, store, cid, admin=True)
    assert 'href="tel:+14155550100">+1 415-555-0100</a>' in html and "+44 20 7946 0958" in html
    assert 'name="csrf_token" value="the-token"' in html and f'action="/app/candidates/{cid}/call"' in html


def test_the_api_maps_lists_and_unmaps_numbers(client: TestClient, store: SessionStore,
                                               users: dict[str, int]) -> None:
    slug = published(store)
    _, key = Accounts(store.engine).create_api_key(user_id=users["admin"], name="script")
    _, viewer_key = Accounts(store.engine).create_api_key(user_id=users["viewer"], name="viewer")
    auth = {"Authorization": f"Bearer {key}"}

    def add(number: str, interview: str) -> httpx.Response:
        body = {"number": number, "interview": interview}
        return client.post("/api/phone-numbers", json=body, headers=auth)

    created = add("+1 415 555 0100", slug)
    assert created.status_code == 201, created.text
    assert created.json() | {"created_at": ""} == {
        "number": NUMBER, "interview": slug, "interview_version": 1, "interview_title": "Barista",
        "newer_version": None, "created_at": "",
    }
    bad = add("12345", slug)
    assert bad.status_code == 400 and "has no country code" in bad.json()["error"]
    assert "E.164" in bad.json()["error"]
    assert add("+14155550101", "nope").status_code == 404
    assert [n["number"] for n in client.get("/api/phone-numbers", headers=auth).json()] == [NUMBER]
    as_viewer = {"Authorization": f"Bearer {viewer_key}"}
    assert client.get("/api/phone-numbers", headers=as_viewer).status_code == 403
    assert client.delete(f"/api/phone-numbers/{NUMBER}", headers=as_viewer).status_code == 403
    assert client.delete("/api/phone-numbers/%2B14155550100", headers=auth).json()["number"] == NUMBER
    assert client.delete(f"/api/phone-numbers/{NUMBER}", headers=auth).status_code == 404
    assert client.get("/api/phone-numbers", headers=auth).json() == []


# -- helpers -------------------------------------------------------------------------------------


def partial(settings: Settings, store: SessionStore, cid: int, *, admin: bool) -> str:
    """The partial as profile.html includes it, with `CandidatePhone.context` and a signed-in user."""
    candidate, _ = Candidates(store.engine).get(cid)
    me = type("Me", (), {"is_admin": admin})()
    context = CandidatePhone(settings, store.engine).context(cid)
    return templates.get_template("recruiter/_phone_access.html").render(
        candidate=candidate, me=me, csrf="the-token", **context
    )


def _sign(token: str, url: str, form: dict[str, str]) -> str:
    """Twilio's signature, from its documentation: HMAC-SHA1 over URL + sorted name/value pairs."""
    data = url + "".join(k + form[k] for k in sorted(form))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@contextmanager
def closed_port() -> Iterator[str]:
    """A loopback URL whose port is bound but not listening: connections are refused at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
