"""The drain on a fake clock, the live-call count with its gauge, reply timing and the pools' waits."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry

from milo_voice import observability as metrics
from milo_voice.calls.capacity import DRAINING, FULL, Capacity, Drain, DrainState
from milo_voice.calls.pools import TimedPool
from milo_voice.calls.reply_timing import ReplyTimer
from milo_voice.dialogue import events as ev
from milo_voice.dialogue.events import TimedEvent


def sample(
    name: str, labels: dict[str, str] | None = None, registry: CollectorRegistry = metrics.REGISTRY
) -> float:
    value = registry.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


def test_a_drain_takes_no_new_call_from_its_start_and_ends_when_the_last_call_does() -> None:
    drain = Drain(timeout_s=600)
    assert drain.may_accept() and not drain.done(0.0, live=0)  # serving: never "done", even when idle
    assert drain.begin(100.0) and drain.deadline == 700.0 and drain.state is DrainState.DRAINING
    assert not drain.begin(150.0) and drain.deadline == 700.0  # a second begin changes nothing
    assert not drain.may_accept()
    assert not drain.done(200.0, live=2) and drain.remaining(200.0) == 500.0
    assert not drain.done(699.9, live=1)
    assert drain.done(300.0, live=0) and drain.ended_because == "no live calls"
    assert drain.state is DrainState.DONE and drain.done(301.0, live=5)  # done stays done
    assert not drain.may_accept()


def test_a_drain_ends_at_its_deadline_with_calls_still_live() -> None:
    drain = Drain(timeout_s=30)
    drain.begin(0.0)
    assert not drain.done(29.99, live=3)
    assert drain.done(30.0, live=3) and drain.ended_because == "deadline"
    assert drain.remaining(45.0) == 0.0


def test_a_zero_timeout_drain_is_done_at_once() -> None:
    drain = Drain(timeout_s=0)
    drain.begin(5.0)
    assert drain.done(5.0, live=1) and drain.ended_because == "deadline"


def test_capacity_counts_live_calls_by_channel_refuses_when_full_and_moves_the_gauge() -> None:
    node = Capacity(max_live=2, drain=Drain(timeout_s=60))
    web0, phone0 = (
        sample("milo_live_calls", {"channel": "web"}),
        sample("milo_live_calls", {"channel": "phone"}),
    )
    refused0 = sample("milo_calls_refused_total", {"channel": "web", "reason": FULL})
    assert node.refusal() is None and sample("milo_max_live_calls") == 2
    first = node.enter("web", key="a")
    assert node.enter("web", key="a") == first and node.total == 1  # entering twice counts once
    with node.holding("phone"):
        assert node.live == {"web": 1, "phone": 1} and node.refuse("web") == FULL
        assert sample("milo_live_calls", {"channel": "phone"}) == phone0 + 1
        assert sample("milo_live_calls", {"channel": "web"}) == web0 + 1
    assert sample("milo_calls_refused_total", {"channel": "web", "reason": FULL}) == refused0 + 1
    assert node.refusal() is None and sample("milo_live_calls", {"channel": "phone"}) == phone0
    node.leave(first)
    node.leave(first)  # leaving twice counts once
    assert node.total == 0 and sample("milo_live_calls", {"channel": "web"}) == web0
    assert node.begin_drain(1.0) and node.refusal() == DRAINING and sample("milo_draining") == 1


def event(name: str, media: float, mono: float, **data: float) -> TimedEvent:
    return TimedEvent(name, media, mono, 0, dict(data))


def test_reply_timer_gives_dead_air_from_speech_end_and_system_latency_from_the_decision() -> None:
    timer = ReplyTimer()
    seen = [
        timer.see(e)
        for e in (
            event(ev.SPEECH_END, 10.0, 110.0),
            event(ev.EOT_DECIDED, 11.6, 111.6),
            event(ev.AUDIO_OUT_FIRST_FRAME, 11.9, 111.95, at=11.9),
            event(ev.AUDIO_OUT_FIRST_FRAME, 14.0, 114.0, at=14.0),  # a second line of the reply: no sample
        )
    ]
    assert seen[:2] == [None, None] and seen[3] is None
    assert seen[2] is not None
    dead_air, system = seen[2]
    assert abs(dead_air - 1.9) < 1e-9 and abs(system - 0.35) < 1e-9


def test_a_false_end_cancels_the_wait_it_began() -> None:
    timer = ReplyTimer()
    for e in (event(ev.SPEECH_END, 5.0, 5.0), event(ev.EOT_DECIDED, 6.6, 6.6), event(ev.FALSE_END, 6.8, 6.8)):
        assert timer.see(e) is None
    assert timer.see(event(ev.AUDIO_OUT_FIRST_FRAME, 9.0, 9.0, at=9.0)) is None


def test_a_model_pool_observes_each_jobs_wait_for_a_free_worker() -> None:
    before = sample("milo_pool_wait_seconds_count", {"pool": "tts"})
    slow_before = sample("milo_pool_wait_seconds_bucket", {"pool": "tts", "le": "0.1"})
    pool = TimedPool("tts", 1)
    gate = threading.Event()
    try:
        first = pool.submit(gate.wait, 5)
        second = pool.submit(lambda: 42)  # queued behind the first: it waits for the only worker
        threading.Timer(0.3, gate.set).start()
        assert first.result(5) is True and second.result(5) == 42
    finally:
        pool.shutdown()
    assert sample("milo_pool_wait_seconds_count", {"pool": "tts"}) == before + 2
    # the first started at once; the second waited ~0.3 s, past the 0.1 s bucket
    assert sample("milo_pool_wait_seconds_bucket", {"pool": "tts", "le": "0.1"}) == slow_before + 1
    assert [t.name for t in threading.enumerate() if t.name.startswith("tts_")] == []
