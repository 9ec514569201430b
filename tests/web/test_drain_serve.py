"""`milo-voice serve` on loopback gets SIGTERM while a phone call is live: it keeps serving that call while
/readyz says 503 and a new browser call is refused, then exits 0 once the call has ended, its session stored
with its recording as on any hang-up."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from fakes.llm_server import free_port
from fakes.twilio_caller import CallLog, FakeTwilioCall
from fakes.twilio_webhook import signed

from milo_voice.calls.phone.numbers import PhoneStore
from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.store.db import create_engine, migrate
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.consent import Notices
from milo_voice.workspace.interviews import Interviews

REPO = Path(__file__).resolve().parents[2]
TWILIO_TOKEN = "drain-test-token"
NUMBER = "+15005550006"
CALLER = "+14155550123"
SCRIPT = InterviewScript(
    title="Drain", questions=(Question("Why?", AnswerShape.EXPLANATION, max_follow_ups=0),)
)
HANG_UP_AT = 22.0
"""Seconds into the call at which the caller hangs up (the SIGTERM comes a few seconds before)."""
OFFER_SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"


@dataclass
class Node:
    base: str
    proc: subprocess.Popen[bytes]
    store: SessionStore
    token: str
    log: Path


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    port = free_port()
    database = f"sqlite:///{tmp_path / 'milo.db'}"
    migrate(database)
    store = SessionStore(create_engine(database))
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="drain")
    PhoneStore(store.engine).add_number(NUMBER, interview_id)
    Candidates(store.engine).enrol(interview_id=interview_id, name="Pat Caller", phone=CALLER)
    token = Candidates(store.engine).enrol(interview_id=interview_id, name="Web Person").token
    env = {k: v for k, v in os.environ.items() if not k.startswith("MILO_")}
    env.update(
        MILO_DATABASE_URL=database,
        MILO_RECORDINGS_DIR=str(tmp_path / "recordings"),
        MILO_MODELS_DIR=str(REPO / "models"),
        MILO_UPLOADS_DIR=str(tmp_path / "uploads"),
        MILO_PORT=str(port),
        MILO_HOST="127.0.0.1",
        MILO_TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        MILO_DRAIN_TIMEOUT_S="60",
    )
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "milo-voice"), "serve"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not up(base):
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.2)
        yield Node(base, proc, store, token, log)
    finally:
        if proc.poll() is None:
            proc.kill()  # by its PID: only the server this test started
            proc.wait()


def up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def ticket(node: Node) -> str:
    form = {
        "CallSid": "CA" + "7" * 32,
        "AccountSid": "AC1",
        "From": CALLER,
        "To": NUMBER,
        "Direction": "inbound",
        "CallStatus": "ringing",
    }
    answer = httpx.post(
        f"{node.base}/phone/voice", data=form, headers=signed(TWILIO_TOKEN, f"{node.base}/phone/voice", form)
    )
    parameter = ElementTree.fromstring(answer.text).find("Connect/Stream/Parameter")
    assert parameter is not None, answer.text
    return parameter.get("value") or ""


def live_phone_calls(base: str) -> float:
    for line in httpx.get(f"{base}/metrics", timeout=5).text.splitlines():
        if line.startswith('milo_live_calls{channel="phone"}'):
            return float(line.split()[-1])
    raise AssertionError("no milo_live_calls{channel=phone} in /metrics")


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_sigterm_drains_the_live_call_refuses_new_ones_and_exits_0_after_it(node: Node) -> None:
    url = node.base.replace("http://", "ws://") + "/phone/stream"
    caller = FakeTwilioCall(
        url, parameters={"ticket": ticket(node)}, answers=[], hangup_at=HANG_UP_AT, call_sid="CA" + "7" * 32
    )
    logs: list[CallLog] = []
    started = time.monotonic()
    thread = threading.Thread(target=lambda: logs.append(asyncio.run(caller.run())))
    thread.start()
    try:
        wait_for(lambda: live_phone_calls(node.base) == 1.0, 10, "the call never counted as live")
        time.sleep(max(0.0, started + 4.0 - time.monotonic()))  # well into the call (the spoken notice)
        term_at = time.monotonic() - started
        node.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: httpx.get(f"{node.base}/readyz").status_code == 503, 5, "readyz stayed 200")
        ready = httpx.get(f"{node.base}/readyz").json()
        assert ready["reason"] == "draining" and ready["live_calls"] == 1
        version = Notices(node.store.engine).current(node.base).version
        refused = httpx.post(
            f"{node.base}/api/rtc/{node.token}/offer",
            json={"sdp": OFFER_SDP, "type": "offer", "consent": True, "notice_version": version},
        )
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "30"
        assert live_phone_calls(node.base) == 1.0 and node.proc.poll() is None  # the call goes on
    finally:
        thread.join(HANG_UP_AT + 15)
    assert node.proc.wait(timeout=20) == 0, node.log.read_text()[-3000:]
    heard = [t for t, _ in logs[0].heard]
    assert logs[0].duration >= HANG_UP_AT - 0.1  # the caller hung up at its time: the server never cut it
    assert any(t > term_at + 2.0 for t in heard), "the interviewer went quiet once SIGTERM came"
    text = node.log.read_text()
    assert "serve.drain_started" in text and "serve.drain_done" in text and "no live calls" in text
    phone_call = PhoneStore(node.store.engine).call_by_sid("CA" + "7" * 32)
    assert phone_call is not None and phone_call.session_id is not None
    session = node.store.get_session(phone_call.session_id)
    assert session is not None and session.status == "interrupted" and session.ended_at is not None
    assert session.recording_path and Path(session.recording_path).exists()
