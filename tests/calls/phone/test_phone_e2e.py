"""Whole phone calls against the real app on loopback uvicorn: webhook, Media Streams, the real pipeline.

A fake Twilio (a `websockets` client) plays real speech as mu-law in real time, echoes marks and
honours `clear`. Real tiny.en, Smart Turn, Piper, webrtcvad and SQLite.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import jiwer
import pytest
from conftest import REPO
from fakes.loopback import ServerThread
from fakes.twilio_caller import CallLog, FakeTwilioCall
from fakes.twilio_webhook import signed, voice_form
from phone_harness import ANSWERS, SCRIPT, caller_answer, recording_exists, reference, words
from workspace.support import PASSWORD, csrf_of

from milo_voice.calls.engines import LazyRuntime, Runtime, load_runtime
from milo_voice.calls.phone.numbers import PhoneStore
from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.speaker import clauses
from milo_voice.media.recorder import probe_duration
from milo_voice.settings import Secret, Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.store.tables import Turn
from milo_voice.web.app import create_app
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.consent import Consents, spoken_notice
from milo_voice.workspace.interviews import Interviews

NUMBER = "+15005550006"
CALLER = "+14155550100"
TOKEN = "phone-e2e-auth-token"


@dataclass
class Phone:
    server: ServerThread
    settings: Settings
    store: SessionStore
    phones: PhoneStore
    interview_id: int
    runtime: Runtime


@pytest.fixture(scope="module")
def runtime() -> Iterator[Runtime]:
    rt = load_runtime(Settings(models_dir=REPO / "models"))
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory, runtime: Runtime) -> Iterator[Phone]:
    tmp = tmp_path_factory.mktemp("phone")
    server = ServerThread()
    settings = Settings(database_url=f"sqlite:///{tmp / 'milo.db'}", recordings_dir=tmp / "rec",
                        models_dir=REPO / "models", public_url=server.base_url,
                        twilio_auth_token=Secret(TOKEN))
    migrate(settings.database_url)
    store = SessionStore(create_engine(settings.database_url))
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="phone")
    phones = PhoneStore(store.engine)
    phones.add_number(NUMBER, interview_id)
    server.start(create_app(settings, store.engine, LazyRuntime(settings, runtime)))
    yield Phone(server, settings, store, phones, interview_id, runtime)
    server.stop()


def dial(phone: Phone, caller: str, to: str = NUMBER) -> str:
    """Twilio's voice webhook for an inbound call (a new CallSid, signed with the settings' auth token);
    returns the stream ticket from the TwiML."""
    url = f"{phone.server.base_url}/phone/voice"
    form = voice_form(caller, to)
    response = httpx.post(url, data=form, headers=signed(str(phone.settings.twilio_auth_token), url, form))
    assert response.status_code == 200
    assert f'<Stream url="{phone.server.ws_url}/phone/stream">' in response.text
    ticket = response.text.split('name="ticket" value="')[1].split('"')[0]
    CALL_SIDS[ticket] = form["CallSid"]
    return ticket


CALL_SIDS: dict[str, str] = {}
"""Ticket -> the CallSid its webhook had: the stream's `start` names the same call, as Twilio's does
(one row per CallSid: a second call presenting another call's CallSid is refused)."""


def call(phone: Phone, ticket: str, fake: dict[str, object], seconds: float) -> CallLog:
    fake = {"call_sid": CALL_SIDS[ticket], **fake}
    caller = FakeTwilioCall(f"{phone.server.ws_url}/phone/stream", parameters={"ticket": ticket}, **fake)  # type: ignore[arg-type]

    async def go() -> CallLog:
        async with asyncio.timeout(seconds):
            return await caller.run()

    return asyncio.run(go())


def session_of(phone: Phone, ticket: str) -> tuple[int, list[Turn]]:
    row = phone.phones.call_by_ticket(ticket)
    assert row is not None and row.session_id is not None
    for _ in range(200):  # the server finishes storing after the caller's socket closed
        session = phone.store.get_session(row.session_id)
        if session is not None and session.status != "live":
            break
        asyncio.run(asyncio.sleep(0.1))
    return row.session_id, phone.store.turns(row.session_id)


def notice_seconds(phone: Phone) -> float:
    """How long the spoken notice every call hears first lasts (from the TTS cache the server filled),
    in whole 20 ms frames as the line plays it."""
    audio = phone.runtime.tts.get(spoken_notice(phone.settings.base_url))
    if audio is None:
        audio = phone.runtime.tts.render(spoken_notice(phone.settings.base_url))
    return -(-len(audio) // 320) * 0.02


def map_in_the_settings_page(phone: Phone, number: str) -> None:
    """An admin signs in and maps `number` to the interview on /app/settings/phone (the real page)."""
    Accounts(phone.store.engine).create_user(email="ops@example.com", password=PASSWORD, role="admin")
    with httpx.Client(base_url=phone.server.base_url) as browser:
        login = browser.get("/app/login")
        signed = browser.post("/app/login", data={"email": "ops@example.com", "password": PASSWORD,
                                                  "csrf_token": csrf_of(login.text)})
        assert signed.status_code in (200, 303)
        page = browser.get("/app/settings/phone")
        mapped = browser.post("/app/settings/phone", data={
            "csrf_token": csrf_of(page.text), "number": number, "interview": "phone"}, follow_redirects=True)
        assert mapped.status_code == 200 and "+1 415-555-0177" in mapped.text


@pytest.mark.e2e
def test_a_known_caller_completes_the_interview_on_a_number_mapped_in_the_ui(phone: Phone) -> None:
    map_in_the_settings_page(phone, "+1 (415) 555-0177")
    candidate = Candidates(phone.store.engine).enrol(interview_id=phone.interview_id, name="Caller",
                                          phone="(415) 555-0100")
    ticket = dial(phone, CALLER, to="+14155550177")
    log = call(phone, ticket, {"answers": [caller_answer(a) for a in ANSWERS]}, 240)
    session_id, turns = session_of(phone, ticket)
    session = phone.store.get_session(session_id)
    assert session is not None and session.status == "completed" and session.channel == "phone"
    assert session.candidate_id == candidate.id
    # the server hung up after the closing line and every mark it sent came back (whether the turn
    # policy ever replied into a pause, and so was cleared, is the policy's business, not the phone's)
    assert log.close_code == 1000 and log.bad_messages == []
    assert log.marks_received and sorted(log.marks_echoed) == sorted(log.marks_received)
    asked = [t.text for t in turns if t.speaker == "interviewer" and t.kind == "question"]
    assert asked == [q.text for q in SCRIPT.questions]
    assert turns[-1].kind == "closing"
    answers = [t for t in turns if t.speaker == "candidate"]
    assert [t.question_position for t in answers] == [0, 1]
    hypothesis = " ".join(words(t.text) for t in answers)
    assert jiwer.wer(" ".join(reference(a) for a in ANSWERS), hypothesis) < 0.25
    # the caller heard the spoken notice, then every interviewer turn the server stored, for as long as
    # it stored them (the recording starts with the greeting)
    spoken = sum(t.end_s - t.start_s for t in turns if t.speaker == "interviewer")
    assert abs(log.heard_seconds - notice_seconds(phone) - spoken) < 1.0
    [consent] = Consents(phone.store.engine).consents_of(candidate.id or 0)
    assert (consent.channel, consent.address, consent.notice_version) == ("phone", CALLER, 0)
    assert recording_exists(session.recording_path)
    assert abs(probe_duration(session.recording_path or "") - (session.duration_s or 0)) < 0.1
    assert (session.duration_s or 0) >= max(t.end_s for t in turns)


@pytest.mark.e2e
def test_talking_over_the_interviewer_clears_it_and_a_keypad_code_identifies_the_caller(
    phone: Phone, runtime: Runtime
) -> None:
    candidate = Candidates(phone.store.engine).enrol(interview_id=phone.interview_id, name="Keypad caller")
    code = phone.phones.access_code(candidate.id or 0)
    ticket = dial(phone, "+447700900123")  # nobody has this number: the keypad step runs
    answer = caller_answer(ANSWERS[0], talk_over=0.2)  # its speech starts 1.2 s into the greeting
    notice_s = notice_seconds(phone)  # the spoken notice is heard first
    fake = {"answers": [answer], "dtmf": code + "#", "dtmf_after_heard": notice_s + 1.0, "hangup": "drop"}
    fake["hangup_at"] = 40.0 + notice_s
    log = call(phone, ticket, fake, 120)
    row = phone.phones.call_by_ticket(ticket)
    assert row is not None and row.candidate_id == candidate.id
    session_id, turns = session_of(phone, ticket)
    session = phone.store.get_session(session_id)
    assert session is not None and session.status == "interrupted" and session.candidate_id == candidate.id
    assert len(log.clears) == 2  # the keypad prompt at the first key, the greeting at the barge-in
    answer_start = log.answers[0].start
    assert any(c > answer_start for c in log.clears)
    interviewer = [t for t in turns if t.speaker == "interviewer"]
    assert interviewer and interviewer[0].kind == "greeting"
    assert SCRIPT.questions[0].text not in [t.text for t in interviewer]
    # only what was heard is stored: the greeting cut short, the question queued behind it not at all
    greeting_heard = interviewer[0].end_s - interviewer[0].start_s
    greeting_full = sum(len(runtime.tts.render(piece)) for piece in clauses(SCRIPT.greeting)) / 16_000
    assert 1.0 < greeting_heard < greeting_full - 0.5
    assert all(t.start_s >= interviewer[0].end_s for t in interviewer[1:])
    candidate_turns = [t for t in turns if t.speaker == "candidate"]
    assert candidate_turns and len(words(candidate_turns[0].text).split()) >= 5
    assert recording_exists(session.recording_path)


@pytest.mark.e2e
def test_a_stop_mid_answer_keeps_what_was_said(phone: Phone) -> None:
    Candidates(phone.store.engine).enrol(
        interview_id=phone.interview_id, name="Caller 2", phone="+14155550111")
    ticket = dial(phone, "+14155550111")
    answer = caller_answer(ANSWERS[1])
    log = call(phone, ticket, {"answers": [answer], "hangup": "stop", "hangup_into_answer": 6.0}, 60)
    session_id, turns = session_of(phone, ticket)
    session = phone.store.get_session(session_id)
    assert session is not None and session.status == "interrupted"
    said = [t for t in turns if t.speaker == "candidate"]
    assert len(said) == 1 and len(words(said[0].text).split()) >= 5
    assert said[0].end_s <= log.duration + 0.1
    assert recording_exists(session.recording_path)
    # the recording starts with the greeting, after the spoken notice: on the caller's clock, at the first
    # frame heard after the notice's frames
    greeting_at = log.heard[round(notice_seconds(phone) / 0.02)][0]
    assert probe_duration(session.recording_path or "") >= log.answers[0].start - greeting_at + 5.0


@pytest.mark.e2e
def test_a_shortlisted_candidate_who_calls_hears_that_the_interview_is_closed(phone: Phone) -> None:
    """The attempt rules hold on the phone too: a decision sticks, no new session starts."""
    candidates = Candidates(phone.store.engine)
    candidate = candidates.enrol(interview_id=phone.interview_id, name="Decided", phone="+1 415 555 0199")
    assert candidate.id is not None
    candidates.decide([candidate.id], "shortlisted")
    ticket = dial(phone, "+14155550199")
    log = call(phone, ticket, {"answers": [], "max_duration": 60.0}, 90)
    row = phone.phones.call_by_ticket(ticket)
    assert row is not None and row.candidate_id == candidate.id and row.session_id is None
    assert log.close_code == 1000 and log.heard_seconds > 3.0  # the closed message, to its end
    assert phone.store.session_ids_with_status("live") == []
    assert candidates.get(candidate.id)[0].status == "shortlisted"


@pytest.mark.e2e
def test_a_caller_who_hangs_up_during_the_notice_gets_no_interview_and_no_consent(phone: Phone) -> None:
    candidate = Candidates(phone.store.engine).enrol(
        interview_id=phone.interview_id, name="Early leaver", phone="+14155550122")
    ticket = dial(phone, "+14155550122")
    log = call(phone, ticket, {"answers": [], "hangup_at": 4.0}, 30)
    assert 0 < log.heard_seconds < notice_seconds(phone)
    for _ in range(20):  # the server notices the hang-up
        asyncio.run(asyncio.sleep(0.1))
    row = phone.phones.call_by_ticket(ticket)
    assert row is not None and row.session_id is None
    assert Consents(phone.store.engine).consents_of(candidate.id or 0) == []
