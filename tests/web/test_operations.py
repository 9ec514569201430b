"""/readyz and /metrics over the real app; a full or draining node refuses new calls and keeps live ones."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Hashable
from xml.etree import ElementTree

import httpx
import pytest
import uvicorn
from fakes.twilio_webhook import signed
from starlette.testclient import TestClient

from milo_voice.calls.capacity import EVERY_NODE_BUSY
from milo_voice.calls.cluster import Cluster
from milo_voice.calls.phone.numbers import PhoneStore
from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.observability import REGISTRY
from milo_voice.scoring.job_table import JobTable
from milo_voice.settings import Secret, Settings
from milo_voice.web.app import create_app
from milo_voice.web.drain_server import DrainingServer
from milo_voice.web.operations import capacity
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.consent import Notices
from milo_voice.workspace.interviews import Interviews

LOOPBACK = ("127.0.0.1", 40000)
PUBLIC = "https://milo.example.com"
TWILIO_TOKEN = "tw1lio"
NUMBER = "+15005550006"
SCRIPT = InterviewScript(
    title="Ops", questions=(Question("Why?", AnswerShape.EXPLANATION, max_follow_ups=0),)
)
OFFER_SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"


def client(settings: Settings, store: SessionStore, address: tuple[str, int] = LOOPBACK) -> TestClient:
    return TestClient(create_app(settings, store.engine), client=address)


def test_readyz_is_200_while_the_node_takes_calls_and_503_with_the_reason_when_full_or_draining(
    settings: Settings, store: SessionStore
) -> None:
    web = client(settings.with_overrides(max_live_calls=1), store)
    ok = web.get("/readyz")
    assert ok.status_code == 200 and ok.json() == {"status": "ready", "live_calls": 0, "max_live_calls": 1}
    assert web.get("/healthz").status_code == 200
    node = capacity(web.app)  # type: ignore[arg-type]
    key = node.enter("phone")
    full = web.get("/readyz")
    assert full.status_code == 503 and full.json()["reason"] == "full" and full.headers["Retry-After"]
    node.leave(key)
    assert web.get("/readyz").status_code == 200
    node.begin_drain(time.monotonic())
    draining = web.get("/readyz")
    assert draining.status_code == 503 and draining.json()["reason"] == "draining"
    assert 0 < draining.json()["drain_remaining_s"] <= settings.drain_timeout_s
    assert web.get("/healthz").status_code == 200  # liveness is not readiness


def offer_body(store: SessionStore) -> dict[str, object]:
    version = Notices(store.engine).current(PUBLIC).version
    return {"sdp": OFFER_SDP, "type": "offer", "consent": True, "notice_version": version}


def test_a_new_browser_call_gets_503_with_retry_after_while_draining_or_full(
    settings: Settings, store: SessionStore
) -> None:
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="ops")
    token = Candidates(store.engine).enrol(interview_id=interview_id, name="Ada Example").token
    web = client(settings.with_overrides(max_live_calls=1), store)
    node = capacity(web.app)  # type: ignore[arg-type]
    with node.holding("phone"):
        full = web.post(f"/api/rtc/{token}/offer", json=offer_body(store))
    assert full.status_code == 503 and full.headers["Retry-After"] == "30"
    assert "busy" in full.json()["error"] and full.json()["reason"] == "full"
    node.begin_drain(time.monotonic())
    draining = web.post(f"/api/rtc/{token}/offer", json=offer_body(store))
    assert draining.status_code == 503 and "restarting" in draining.json()["error"]
    assert node.total == 0  # nothing was started, nothing is counted


def voice(web: TestClient, caller: str) -> httpx.Response:
    form = {
        "CallSid": "CA" + caller[-4:],
        "AccountSid": "AC1",
        "From": caller,
        "To": NUMBER,
        "Direction": "inbound",
        "CallStatus": "ringing",
    }
    return web.post("/phone/voice", data=form, headers=signed(TWILIO_TOKEN, f"{PUBLIC}/phone/voice", form))


def test_the_phone_webhook_says_the_line_is_busy_and_hangs_up_when_the_node_cannot_take_the_call(
    settings: Settings, store: SessionStore
) -> None:
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="ops")
    PhoneStore(store.engine).add_number(NUMBER, interview_id)
    live = settings.with_overrides(
        public_url=PUBLIC, twilio_auth_token=Secret(TWILIO_TOKEN), max_live_calls=1
    )
    web = client(live, store)
    assert "<Stream" in voice(web, "+14155550101").text  # a free node connects the call
    node = capacity(web.app)  # type: ignore[arg-type]
    with node.holding("web"):
        busy = ElementTree.fromstring(voice(web, "+14155550102").text)
    assert [child.tag for child in busy] == ["Say", "Hangup"] and "busy" in (busy.findtext("Say") or "")
    phones = PhoneStore(store.engine)
    assert phones.call_by_sid("CA0101") is not None
    assert phones.call_by_sid("CA0102") is None  # the refused call opened no row, got no ticket


def test_with_several_nodes_the_webhook_refuses_when_every_node_is_full_and_counts_it(
    settings: Settings, store: SessionStore
) -> None:
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="ops")
    PhoneStore(store.engine).add_number(NUMBER, interview_id)
    live = settings.with_overrides(public_url=PUBLIC, twilio_auth_token=Secret(TWILIO_TOKEN))
    web = client(live, store)
    nodes = {name: Cluster(store.engine, me=name, stale_s=10.0) for name in ("a", "b")}
    for name, node in nodes.items():
        node.heartbeat(url=f"http://{name}", stream_url=f"wss://{name}.example", live=0, max_live=1,
                       draining=False)
    web.app.state.cluster = nodes["a"]  # type: ignore[attr-defined]
    refused = ("milo_calls_refused_total", {"channel": "phone", "reason": EVERY_NODE_BUSY})
    before = REGISTRY.get_sample_value(*refused) or 0.0
    routed = ElementTree.fromstring(voice(web, "+14155550101").text)
    assert (routed.find("./Connect/Stream").get("url") or "").startswith("wss://a.example")  # type: ignore[union-attr]
    nodes["b"].hold("web-1", "webrtc")  # b's one place is taken too
    busy = ElementTree.fromstring(voice(web, "+14155550102").text)
    assert [child.tag for child in busy] == ["Say", "Hangup"] and "busy" in (busy.findtext("Say") or "")
    assert REGISTRY.get_sample_value(*refused) == before + 1
    assert PhoneStore(store.engine).call_by_sid("CA0102") is None  # refused before any row was written


def test_metrics_serve_loopback_only_without_a_token_and_a_bearer_with_one(
    settings: Settings, store: SessionStore
) -> None:
    assert client(settings, store).get("/metrics").status_code == 200
    assert client(settings, store, ("203.0.113.9", 5000)).get("/metrics").status_code == 403
    relayed = client(settings, store).get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert relayed.status_code == 403  # a proxy on loopback relayed it: not the local scraper
    guarded = settings.with_overrides(metrics_token=Secret("m3trics"))
    remote = client(guarded, store, ("203.0.113.9", 5000))
    assert remote.get("/metrics").status_code == 401
    assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client(guarded, store).get("/metrics").status_code == 401  # the token binds loopback too
    good = remote.get("/metrics", headers={"Authorization": "Bearer m3trics"})
    assert good.status_code == 200 and good.headers["content-type"].startswith("text/plain")


def test_metrics_show_counts_and_the_job_tables_depth_never_a_candidate(
    settings: Settings, store: SessionStore
) -> None:
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="ops")
    Candidates(store.engine).enrol(
        interview_id=interview_id, name="Zebulon Quartermaine", email="zq@example.com"
    )
    jobs = JobTable(store.engine)
    jobs.enqueue("score_session", {"session_id": 1})
    jobs.enqueue("score_session", {"session_id": 2})
    jobs.fail(jobs.enqueue("deliver_webhook", {"delivery_id": 3}), "receiver down")
    text = client(settings, store).get("/metrics").text
    for name in (
        "milo_live_calls",
        "milo_pool_wait_seconds",
        "milo_dead_air_seconds",
        "milo_system_latency_seconds",
        "milo_messages_sent_total",
        "milo_job_failures_total",
        "milo_calls_refused_total",
        "process_resident_memory_bytes",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in text, name
    assert 'milo_jobs{kind="score_session",status="queued"} 2.0' in text
    assert 'milo_jobs{kind="deliver_webhook",status="failed"} 1.0' in text
    assert 'milo_live_calls{channel="web"}' in text and 'milo_live_calls{channel="phone"}' in text
    assert "Zebulon" not in text and "zq@example.com" not in text and "candidate_id" not in text


def test_a_drain_past_its_deadline_ends_the_live_calls_as_a_hang_up_would_then_stops_the_server(
    settings: Settings, store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings.with_overrides(drain_timeout_s=0.3), store.engine)
    node = capacity(app)
    server = DrainingServer(uvicorn.Config(app), node)
    ended: list[str] = []

    def live_call(name: str) -> None:
        key: list[Hashable] = []

        async def hang_up() -> None:  # the session stores its end, then the call leaves the count
            await asyncio.sleep(0.05)
            ended.append(name)
            node.leave(key[0])

        key.append(node.enter("phone", hang_up))

    live_call("first")
    live_call("second")
    with caplog.at_level(logging.INFO, logger="milo_voice.web.drain_server"):
        started = time.monotonic()
        asyncio.run(server.drain())
    assert sorted(ended) == ["first", "second"] and node.total == 0 and server.should_exit
    assert 0.3 <= time.monotonic() - started < 5
    assert node.drain.ended_because == "deadline" and not node.drain.may_accept()
    steps = [r.getMessage() for r in caplog.records]
    assert steps == ["serve.drain_started", "serve.drain_deadline", "serve.drain_done"]
