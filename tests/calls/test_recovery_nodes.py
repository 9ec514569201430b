"""Recovery on several nodes of one database: a node closes only the sessions it (or no node) left live;
a dead node's live sessions are written off by another node's heartbeat, and their recordings, which are on
the dead node's disk, are finished by its own recovery once it is back. Real recorder folders, left as a
killed process leaves them; one migrated SQLite file and a fake clock per test."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from helpers import T0, UtcClock
from sqlmodel import Session, select

from milo_voice.calls.capacity import Capacity, Drain
from milo_voice.calls.cluster import Cluster, web_key
from milo_voice.calls.heartbeat import NodeHeartbeat
from milo_voice.calls.recovery import recover_sessions
from milo_voice.calls.session_store import SessionStore
from milo_voice.media.recorder import CANDIDATE, INTERVIEWER, RECORDING, Recorder, probe_duration
from milo_voice.media.types import SAMPLE_RATE, AudioChunk
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.store.tables import InterviewSession, LiveCall, ServeNode
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.demo import Demo

RECORDED_S = 2.0
"""Seconds of candidate audio in each recorder folder (the interviewer's track is shorter)."""
ENCODER_SLACK_S = 0.1
"""How far the finished file's duration may be from what was recorded (Opus pre-skip and frame size)."""
STALE_S = 10.0


Clock = UtcClock


@dataclass(slots=True)
class World:
    store: SessionStore
    clock: Clock
    tmp: Path
    interview_id: int

    def settings(self, node: str) -> Settings:
        return Settings(node_name=node, recordings_dir=self.tmp / "recordings",
                        node_url=f"http://{node}.internal:8000", node_public_url=f"https://{node}.example")

    def candidate(self, name: str) -> int:
        candidate = Candidates(self.store.engine, now=self.store.now).enrol(
            interview_id=self.interview_id, name=name)
        assert candidate.id is not None
        return candidate.id

    def start(self, candidate_id: int, node: str, *, recorded: bool = True) -> int:
        """A live session on `node`; `recorded`: its folder holds what a killed recorder left."""
        directory = self.tmp / "recordings" / f"session-{node}-{candidate_id}-{self.clock.now.timestamp()}"
        if recorded:
            killed_recorder(directory)
        return self.store.start_session(candidate_id=candidate_id, interview_id=self.interview_id,
                                        channel="webrtc", recording_dir=str(directory), settings={},
                                        node=node)

    def session(self, session_id: int) -> InterviewSession:
        row = self.store.get_session(session_id)
        assert row is not None
        return row

    def status(self, candidate_id: int) -> str:
        return Candidates(self.store.engine).get(candidate_id)[0].status


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    url = f"sqlite:///{tmp_path / 'milo.db'}"
    migrate(url)
    engine = create_engine(url)
    clock = Clock()
    store = SessionStore(engine, now=lambda: clock.now)
    interview_id, _ = Demo(engine, now=store.now).seed()
    yield World(store, clock, tmp_path, interview_id)
    engine.dispose()


def tone(seconds: float, start: float = 0.0, hz: float = 440.0) -> AudioChunk:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    pcm = (8000 * np.sin(2 * math.pi * hz * t)).astype("<i2").tobytes()
    return AudioChunk(pcm=pcm, sample_rate=SAMPLE_RATE, start=start)


def killed_recorder(directory: Path) -> None:
    """Record RECORDED_S seconds into `directory`, flush, and stop as a killed process does: no finalize."""
    recorder = Recorder(directory)
    recorder.write_interviewer(tone(0.8, hz=220.0))
    recorder.write_candidate(tone(RECORDED_S - 1.0, start=1.0))
    recorder.flush()
    for fd in recorder._fds:  # the process is gone: its files are closed, the WAVs stay as they are
        os.close(fd)
    assert sorted(p.name for p in directory.iterdir()) == sorted([CANDIDATE, INTERVIEWER])


def finished(row: InterviewSession) -> Path:
    """The session's finished recording, checked to be a real file of about RECORDED_S seconds."""
    assert row.recording_path is not None
    path = Path(row.recording_path)
    assert path.name == RECORDING and path.is_file() and str(path.parent) == row.recording_dir
    assert row.duration_s is not None and abs(row.duration_s - RECORDED_S) < ENCODER_SLACK_S
    assert row.duration_s == pytest.approx(probe_duration(path))
    assert sorted(p.name for p in path.parent.iterdir()) == [RECORDING]  # the WAVs are gone
    return path


def untouched(row: InterviewSession) -> None:
    """A live session whose folder still holds the killed recorder's WAVs."""
    assert (row.status, row.recording_path, row.ended_at, row.error) == ("live", None, None, None)
    assert sorted(p.name for p in Path(row.recording_dir).iterdir()) == sorted([CANDIDATE, INTERVIEWER])


def test_recovery_closes_only_this_nodes_and_nodeless_live_sessions(world: World) -> None:
    on_a, on_b, nodeless = world.candidate("On A"), world.candidate("On B"), world.candidate("No node")
    session_a, session_b = world.start(on_a, "a"), world.start(on_b, "b")
    session_none = world.start(nodeless, "")
    assert world.store.session_ids_with_status("live", ["b"]) == [session_b]

    lines = list(recover_sessions(world.store, world.settings("a")))

    assert len(lines) == 2 and all("interrupted" in line for line in lines)
    assert f"session {session_a}:" in lines[0] and f"session {session_none}:" in lines[1]
    for session_id, candidate_id in ((session_a, on_a), (session_none, nodeless)):
        row = world.session(session_id)
        assert row.status == "interrupted" and (row.error or "").startswith("process ended")
        finished(row)
        assert world.status(candidate_id) == "invited"  # they may try again
    untouched(world.session(session_b))
    assert world.status(on_b) == "in_progress"
    assert world.store.session_ids_with_status("live") == [session_b]
    assert list(recover_sessions(world.store, world.settings("a"))) == []  # nothing left for a


def test_without_settings_recovery_closes_every_live_session(world: World) -> None:
    session_a, session_b = world.start(world.candidate("A"), "a"), world.start(world.candidate("B"), "b")
    assert len(list(recover_sessions(world.store))) == 2
    assert {world.session(s).status for s in (session_a, session_b)} == {"interrupted"}


def test_write_off_ends_a_dead_nodes_sessions_and_its_recovery_finishes_the_recordings(world: World) -> None:
    on_a, on_b = world.candidate("On A"), world.candidate("On B")
    session_a, session_b = world.start(on_a, "a"), world.start(on_b, "b")
    world.clock.advance(45)

    assert world.store.write_off("b") == [session_b]

    row = world.session(session_b)
    assert (row.status, row.recording_path, row.duration_s) == ("interrupted", None, None)
    assert row.error is not None and row.error.startswith("node") and " b " in row.error
    assert row.ended_at == T0 + timedelta(seconds=45)
    assert world.status(on_b) == "invited"
    assert sorted(p.name for p in Path(row.recording_dir).iterdir()) == sorted([CANDIDATE, INTERVIEWER])
    untouched(world.session(session_a))  # another node's session is not touched
    assert world.status(on_a) == "in_progress"
    assert world.store.write_off("b") == []  # nothing live on b any more
    assert [r.id for r in world.store.written_off_here("b")] == [session_b]
    assert world.store.written_off_here("a") == []

    lines = list(recover_sessions(world.store, world.settings("a")))  # a restarts: its own session only
    assert len(lines) == 1 and lines[0].startswith(f"session {session_a}: interrupted")
    assert world.session(session_b).recording_path is None  # b's recording is on b's disk, not a's

    world.clock.advance(60)
    lines = list(recover_sessions(world.store, world.settings("b")))  # b is back

    assert len(lines) == 1 and lines[0].startswith(f"session {session_b}: recording recovered")
    row = world.session(session_b)
    path = finished(row)
    assert str(path) in lines[0]
    assert (row.status, row.ended_at) == ("interrupted", T0 + timedelta(seconds=45))  # its end stands
    assert row.error is not None and row.error.startswith("node")
    assert world.status(on_b) == "invited"
    assert world.store.written_off_here("b") == []
    assert list(recover_sessions(world.store, world.settings("b"))) == []  # done once


def test_write_off_leaves_the_candidate_alone_when_a_newer_session_exists(world: World) -> None:
    candidate = world.candidate("Went on elsewhere")
    old = world.start(candidate, "b")
    world.clock.advance(5)
    newer = world.start(candidate, "a")  # the call went on on a (say, the browser reconnected there)

    assert world.store.write_off("b") == [old]

    assert world.session(old).status == "interrupted"
    assert world.session(newer).status == "live"
    assert world.status(candidate) == "in_progress"  # the newer session keeps its place


def test_write_off_moves_the_candidate_on_when_only_an_older_session_exists(world: World) -> None:
    candidate = world.candidate("Second try")
    first = world.start(candidate, "a")
    world.store.end_session(session_id=first, status="interrupted", duration_s=None, recording_path=None,
                            error="process ended during the session; nothing was recorded")
    second = world.start(candidate, "b")
    assert world.status(candidate) == "in_progress"

    assert world.store.write_off("b") == [second]
    assert world.status(candidate) == "invited"


def test_a_written_off_session_with_nothing_recorded_keeps_no_recording(world: World) -> None:
    session_id = world.start(world.candidate("Silent"), "b", recorded=False)
    world.store.write_off("b")
    assert list(recover_sessions(world.store, world.settings("b"))) == []
    row = world.session(session_id)
    assert (row.status, row.recording_path) == ("interrupted", None)


def test_a_session_ended_by_its_own_recovery_is_not_taken_for_written_off(world: World) -> None:
    session_id = world.start(world.candidate("Killed"), "b", recorded=False)
    assert len(list(recover_sessions(world.store, world.settings("b")))) == 1
    assert world.session(session_id).error == "process ended during the session; nothing was recorded"
    assert world.store.written_off_here("b") == []


def heartbeat(world: World, node: str, capacity: Capacity) -> NodeHeartbeat:
    settings = world.settings(node)
    cluster = Cluster(world.store.engine, me=node, stale_s=STALE_S, now=lambda: world.clock.now)
    return NodeHeartbeat(cluster, world.store, settings, capacity)


def serve_node(world: World, name: str) -> ServeNode:
    with Session(world.store.engine) as session:
        row = session.get(ServeNode, name)
    assert row is not None
    return row


def test_the_heartbeat_writes_this_nodes_room_and_drain(world: World) -> None:
    capacity = Capacity(max_live=3, drain=Drain(timeout_s=60.0))
    node = heartbeat(world, "a", capacity)
    keys = [capacity.enter("web"), capacity.enter("phone")]
    try:
        node.beat()
        row = serve_node(world, "a")
        assert (row.url, row.stream_url, row.live_calls, row.max_live_calls, row.draining, row.stopped) == (
            "http://a.internal:8000", "https://a.example", 2, 3, False, False)
        assert row.heartbeat_at == T0

        world.clock.advance(2)
        capacity.leave(keys.pop())
        capacity.begin_drain(0.0)
        node.beat()
        row = serve_node(world, "a")
        assert (row.live_calls, row.max_live_calls, row.draining) == (1, 3, True)
        assert row.heartbeat_at == T0 + timedelta(seconds=2)
        assert node.cluster.pick() is None  # a draining lone node takes no new call
    finally:
        for key in keys:
            capacity.leave(key)


def test_the_heartbeat_writes_off_a_dead_nodes_sessions(world: World) -> None:
    on_a, on_b = world.candidate("On A"), world.candidate("On B")
    session_a, session_b = world.start(on_a, "a", recorded=False), world.start(on_b, "b", recorded=False)
    node_a = heartbeat(world, "a", Capacity(max_live=3, drain=Drain(timeout_s=60.0)))
    node_b = heartbeat(world, "b", Capacity(max_live=3, drain=Drain(timeout_s=60.0)))
    node_a.beat()
    node_b.beat()
    node_b.cluster.hold(web_key("b-call"), "webrtc", on_b)
    node_a.cluster.hold(web_key("a-call"), "webrtc", on_a)

    for _ in range(int(3 * STALE_S) - 1):  # a beats every second, b is silent: stale, not dead
        world.clock.advance(1)
        node_a.beat()
    assert world.session(session_b).status == "live"
    assert world.status(on_b) == "in_progress"

    world.clock.advance(1)
    node_a.beat()  # b has been silent for three stale times: dead

    row = world.session(session_b)
    assert row.status == "interrupted" and (row.error or "").startswith("node b")
    assert row.ended_at == world.clock.now and row.recording_path is None
    assert world.status(on_b) == "invited"
    assert world.session(session_a).status == "live"  # a's own session goes on
    with Session(world.store.engine) as session:
        assert [r.key for r in session.exec(select(LiveCall))] == [web_key("a-call")]

    world.clock.advance(1)
    node_a.beat()  # b is still dead: nothing more to write off
    assert world.session(session_b).ended_at == world.clock.now - timedelta(seconds=1)
