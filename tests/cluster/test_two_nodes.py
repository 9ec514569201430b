"""Two `milo-voice serve` nodes on loopback, one PostgreSQL (Debian's, started here) and one S3-speaking
store (moto's server): six concurrent phone calls spread 3 and 3 over the nodes by the webhook's TwiML,
every recording lands in the store, the scoring job of each interview and its webhook run once across
both nodes' workers, and SIGTERM drains one node without cutting its calls while the other takes the new
call. Each call is a fake Twilio that speaks the Media Streams protocol and answers with real speech.
"""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx
import pytest
from cluster_harness import Node, Shared, nodes, shared, wait
from conftest import SPEECH, manifest
from fakes.loopback import ServerThread
from fakes.twilio_caller import CallerAnswer, CallLog, FakeTwilioCall
from fakes.twilio_webhook import signed
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from milo_voice.calls.phone.numbers import PhoneStore
from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.media.pcm import read_wav
from milo_voice.scoring.store import ScoringStore
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews

TOKEN = "two-nodes-token"
NUMBER = "+15005550006"
CALLERS = [f"+1415555{i:04d}" for i in range(1, 8)]
SCRIPT = InterviewScript(
    title="Two nodes", questions=(Question("What is your favourite recipe?", AnswerShape.EXPLANATION,
                                           max_follow_ups=0),)
)
ANSWER = "librispeech_367_a03"
CALL_LIMIT_S = 150.0
EVENTS = ("interview.completed", "report.available")


@dataclass
class Hook:
    bodies: list[dict[str, object]]
    server: ServerThread


@dataclass
class Setup:
    a: Node
    b: Node
    where: Shared
    hook: Hook


def _hook() -> Hook:
    bodies: list[dict[str, object]] = []

    async def receive(request: Request) -> Response:
        bodies.append(json.loads(await request.body()))
        return Response(status_code=200)

    server = ServerThread(Starlette(routes=[Route("/hook", receive, methods=["POST"])]))
    server.start()
    return Hook(bodies, server)


def _seed(store: SessionStore, hook_url: str) -> None:
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="two-nodes")
    PhoneStore(store.engine).add_number(NUMBER, interview_id)
    for number in CALLERS:
        Candidates(store.engine).enrol(interview_id=interview_id, name=f"Caller {number[-2:]}", phone=number)
    ScoringStore(store.engine).add_endpoint(hook_url, "hook-secret", list(EVENTS))


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    hook = _hook()
    try:
        with shared(tmp_path, MILO_TWILIO_AUTH_TOKEN=TOKEN, MILO_DRAIN_TIMEOUT_S="120",
                    MILO_WEBHOOK_ALLOW_PRIVATE_TARGETS="true") as where:
            _seed(where.store, f"{hook.server.base_url}/hook")
            with nodes(where, ("a", "b")) as (a, b):
                yield Setup(a, b, where, hook)
    finally:
        hook.server.stop()


def _ring(node: Node, caller: str, sid: str, public_base: str) -> tuple[str, str]:
    """Twilio's voice webhook to `node`: the stream URL and ticket of its TwiML."""
    form = {"CallSid": sid, "AccountSid": "AC1", "From": caller, "To": NUMBER, "Direction": "inbound",
            "CallStatus": "ringing"}
    public = f"{public_base}/phone/voice"  # what Twilio signs: the URL it was given, the public one
    answer = httpx.post(f"{node.base}/phone/voice", data=form, headers=signed(TOKEN, public, form),
                        timeout=10)
    stream = ElementTree.fromstring(answer.text).find("Connect/Stream")
    assert stream is not None, answer.text
    parameter = stream.find("Parameter")
    assert parameter is not None
    return stream.get("url") or "", parameter.get("value") or ""


def _answer() -> CallerAnswer:
    entry = manifest()[ANSWER]
    return CallerAnswer(read_wav(SPEECH / str(entry["audio"])), float(entry["speech_end_s"]))


def _port(url: str) -> int:
    return urlsplit(url).port or 0


async def _calls(placed: list[tuple[str, str, str]]) -> list[CallLog]:
    callers = [FakeTwilioCall(url, parameters={"ticket": ticket}, answers=[_answer()], call_sid=sid,
                              stream_sid="MZ" + sid[2:], max_duration=CALL_LIMIT_S)
               for url, ticket, sid in placed]
    return list(await asyncio.gather(*(c.run() for c in callers)))


def test_two_nodes_share_calls_store_and_jobs_and_one_drains_without_cutting_a_call(setup: Setup) -> None:
    a, b, store, hook = setup.a, setup.b, setup.where.store, setup.hook
    sids = [f"CA{i:032d}" for i in range(1, 8)]
    placed = []
    for i in range(6):  # the proxy hands every webhook to node a: the TwiML spreads the streams
        url, ticket = _ring(a, CALLERS[i], sids[i], a.base)
        placed.append((url, ticket, sids[i]))
    ports = [_port(url) for url, _, _ in placed]
    assert sorted(ports.count(_port(n.base)) for n in (a, b)) == [3, 3], ports

    logs: list[CallLog] = []
    thread = threading.Thread(target=lambda: logs.extend(asyncio.run(_calls(placed))))
    thread.start()
    try:
        time.sleep(6.0)  # every call is live (the spoken notice plays)
        b.proc.send_signal(signal.SIGTERM)
        wait(lambda: httpx.get(f"{b.base}/readyz").status_code == 503, 5, "node b did not begin to drain")
        time.sleep(1.5)  # b's heartbeat says it drains
        url, _ticket = _ring(b, CALLERS[6], sids[6], a.base)  # a new call at the draining node
        assert _port(url) == _port(a.base), "the new call went to the draining node"
        assert b.proc.poll() is None, "node b stopped while its calls were live"
    finally:
        thread.join(CALL_LIMIT_S + 30)
    assert len(logs) == 6
    assert b.proc.wait(timeout=60) == 0, b.log.read_text()[-3000:]
    assert "serve.drain_done" in b.log.read_text() and "no live calls" in b.log.read_text()

    phones = PhoneStore(store.engine)
    sessions = []
    for sid in sids[:6]:
        call = phones.call_by_sid(sid)
        assert call is not None and call.session_id is not None, sid
        sessions.append(call.session_id)
    rows = {sid: store.get_session(sid) for sid in sessions}
    assert all(r is not None and r.status == "completed" for r in rows.values()), {
        k: (r.status, r.error) for k, r in rows.items() if r is not None}
    by_node = [r.node for r in rows.values() if r is not None]
    assert sorted(by_node.count(n) for n in ("a", "b")) == [3, 3], by_node

    def stored() -> bool:
        fresh = [store.get_session(sid) for sid in sessions]
        return all(r is not None and (r.recording_path or "").startswith("s3://") for r in fresh)

    wait(stored, 30, "a recording did not reach the store")
    for sid in sessions:
        row = store.get_session(sid)
        assert row is not None and row.recording_path
        key = row.recording_path.removeprefix(f"s3://{setup.where.bucket}/")
        head = setup.where.s3.head_object(Bucket=setup.where.bucket, Key=key)  # type: ignore[attr-defined]
        assert head["ContentLength"] > 1000
    live = setup.where.s3.list_objects_v2(Bucket=setup.where.bucket, Prefix="rec/live/")  # type: ignore[attr-defined]
    assert live.get("KeyCount", 0) == 0, "the live mirror of an ended session is deleted"

    wait(lambda: len(hook.bodies) >= 12, 120, f"webhooks: {len(hook.bodies)} of 12")
    time.sleep(3.0)  # a second run of any job would deliver again by now
    seen = sorted((str(body["event"]), int(body["data"]["session_id"]))  # type: ignore[index]
                  for body in hook.bodies)
    expected = sorted((event, sid) for event in EVENTS for sid in sessions)
    assert seen == expected, seen  # each session's completion and its score (the scoring job), once each
    scoring = ScoringStore(store.engine)
    for sid in sessions:
        assert scoring.context(sid).candidate.status == "completed", sid
