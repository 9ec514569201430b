"""The session writer (`calls/session_store.py`) against real databases: a fresh migrated SQLite file
per test, and PostgreSQL. Sessions move their candidate along; turns and events round-trip in order."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from postgres import postgres_url  # noqa: F401  (fixture)
from sqlalchemy.exc import IntegrityError

from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.events import TimedEvent
from milo_voice.dialogue.script import demo_script
from milo_voice.store.db import create_engine, migrate
from milo_voice.store.tables import Candidate, Word
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.demo import Demo
from milo_voice.workspace.interviews import Interviews

T0 = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


class StepClock:
    """A UTC clock that advances one second per reading."""

    def __init__(self) -> None:
        self.readings = 0

    def __call__(self) -> datetime:
        self.readings += 1
        return T0 + timedelta(seconds=self.readings - 1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SessionStore]:
    url = f"sqlite:///{tmp_path / 'milo.db'}"
    migrate(url)
    engine = create_engine(url)
    yield SessionStore(engine, now=StepClock())
    engine.dispose()


def demo(store: SessionStore) -> tuple[int, Candidate]:
    """The demo interview and candidate (made once), on the store's clock."""
    return Demo(store.engine, now=store.now).seed()


def add_session(store: SessionStore) -> tuple[int, int]:
    interview_id, candidate = demo(store)
    assert candidate.id is not None
    session_id = store.start_session(
        candidate_id=candidate.id,
        interview_id=interview_id,
        channel="simulate",
        recording_dir="recordings/1",
        settings={"min_silence": 0.9, "asr_model": "tiny.en"},
    )
    return session_id, candidate.id


def test_session_lifecycle_moves_the_candidate(store: SessionStore) -> None:
    session_id, candidate_id = add_session(store)
    live = store.get_session(session_id)
    assert live is not None
    assert (live.status, live.channel, live.candidate_id) == ("live", "simulate", candidate_id)
    assert live.settings == {"min_silence": 0.9, "asr_model": "tiny.en"}
    assert live.started_at.tzinfo is UTC
    assert demo(store)[1].status == "in_progress"
    assert store.session_ids_with_status("live") == [session_id]

    store.end_session(session_id=session_id, status="completed", duration_s=61.5, recording_path="r/1.ogg")

    done = store.get_session(session_id)
    assert done is not None
    assert (done.status, done.duration_s, done.recording_path, done.error) == (
        "completed",
        61.5,
        "r/1.ogg",
        None,
    )
    assert done.ended_at is not None
    assert done.ended_at > done.started_at
    assert demo(store)[1].status == "completed"
    assert store.session_ids_with_status("live") == []
    assert store.session_ids_with_status("completed") == [session_id]
    assert store.get_session(session_id + 1) is None


def test_a_failed_session_keeps_its_error_and_does_not_complete_the_candidate(store: SessionStore) -> None:
    session_id, _ = add_session(store)
    store.end_session(
        session_id=session_id, status="failed", duration_s=3.0, recording_path=None, error="ASR crashed"
    )
    failed = store.get_session(session_id)
    assert failed is not None
    assert (failed.status, failed.error, failed.recording_path) == ("failed", "ASR crashed", None)
    assert demo(store)[1].status == "invited"  # our failure: the link opens again (workspace/attempts.py)


def test_ending_a_session_stores_its_cpu_seconds_or_none(store: SessionStore) -> None:
    session_id, _ = add_session(store)
    assert (store.get_session(session_id) or pytest.fail("no session")).cpu_s is None  # live
    with pytest.raises(ValueError, match="cpu_s"):
        store.end_session(session_id=session_id, status="completed", duration_s=60.0, recording_path=None,
                          cpu_s=float("nan"))
    store.end_session(session_id=session_id, status="completed", duration_s=60.0, recording_path=None,
                      cpu_s=4.25)
    assert (store.get_session(session_id) or pytest.fail("no session")).cpu_s == 4.25
    store.end_session(session_id=session_id, status="completed", duration_s=60.0, recording_path=None)
    assert (store.get_session(session_id) or pytest.fail("no session")).cpu_s is None  # not measured


def test_unknown_channel_status_and_speaker_are_refused(store: SessionStore) -> None:
    interview_id, candidate = demo(store)
    assert candidate.id is not None
    with pytest.raises(ValueError, match="fax"):
        store.start_session(
            candidate_id=candidate.id, interview_id=interview_id, channel="fax", recording_dir="", settings={}
        )
    session_id, _ = add_session(store)
    with pytest.raises(ValueError, match="paused"):
        store.session_ids_with_status("paused")
    with pytest.raises(ValueError, match="narrator"):
        store.add_turn(
            session_id=session_id,
            index=0,
            speaker="narrator",
            text="",
            start_s=0.0,
            end_s=1.0,
            question_position=0,
            is_follow_up=False,
            kind="question",
        )


def test_turns_round_trip_in_order(store: SessionStore) -> None:
    session_id, _ = add_session(store)
    words: list[Word] = [{"w": "I", "start": 4.1, "end": 4.2}, {"w": "help", "start": 4.3, "end": 4.6}]
    for index in (2, 0, 1):
        store.add_turn(
            session_id=session_id,
            index=index,
            speaker="candidate" if index % 2 else "interviewer",
            text=f"text {index}",
            start_s=index * 2.0,
            end_s=index * 2.0 + 1.5,
            question_position=index // 2,
            is_follow_up=index == 2,
            kind="answer" if index % 2 else "question",
            live_text="live 1" if index == 1 else "",
            words=words if index == 1 else None,
            source="" if index % 2 else "scripted",
        )
    turns = store.turns(session_id)
    assert [t.index for t in turns] == [0, 1, 2]
    answer = turns[1]
    assert (answer.speaker, answer.text, answer.live_text, answer.kind) == (
        "candidate",
        "text 1",
        "live 1",
        "answer",
    )
    assert (answer.start_s, answer.end_s, answer.question_position, answer.is_follow_up) == (
        2.0,
        3.5,
        0,
        False,
    )
    assert answer.words == words
    assert (turns[2].is_follow_up, turns[2].source, turns[2].words) == (True, "scripted", [])

    assert answer.id is not None
    better: list[Word] = [{"w": "I", "start": 4.1, "end": 4.2}, {"w": "helped", "start": 4.3, "end": 4.7}]
    store.update_turn_text(turn_id=answer.id, text="I helped", words=better)
    updated = store.turns(session_id)[1]
    assert (updated.text, updated.words, updated.live_text) == ("I helped", better, "live 1")
    assert store.turns(session_id + 1) == []


def test_a_turn_index_is_taken_once_per_session(store: SessionStore) -> None:
    session_id, _ = add_session(store)

    def greet() -> int:
        return store.add_turn(
            session_id=session_id,
            index=0,
            speaker="interviewer",
            text="Hello",
            start_s=0.0,
            end_s=1.0,
            question_position=-1,
            is_follow_up=False,
            kind="greeting",
        )

    greet()
    with pytest.raises(IntegrityError):
        greet()


def test_events_round_trip_in_order(store: SessionStore) -> None:
    session_id, _ = add_session(store)
    sent = [
        TimedEvent("session_start", 0.0, 100.0, -1),
        TimedEvent("speech_end", 5.25, 105.3, 1, {"silence_s": 0.9}),
        TimedEvent("eot_decided", 6.2, 106.2, 1, {"reason": "smart_turn", "prob": 0.81, "frames": 3}),
        TimedEvent("speech_start", 1.0, 101.0, 1),
    ]
    store.add_events(session_id, sent)
    store.add_events(session_id, [])
    store.add_events(session_id, [TimedEvent("session_end", 9.0, 109.0, -1)])
    rows = store.events(session_id)
    got = [TimedEvent(r.name, r.media_time, r.mono, r.turn_index, r.data) for r in rows]
    assert got == [*sent, TimedEvent("session_end", 9.0, 109.0, -1)]
    assert store.events(session_id + 1) == []


def test_concurrent_writers_from_threads_all_land(store: SessionStore) -> None:
    session_id, _ = add_session(store)

    def write(index: int) -> int:
        store.add_events(session_id, [TimedEvent("speech_start", index, index, index)])
        return store.add_turn(
            session_id=session_id,
            index=index,
            speaker="candidate",
            text=str(index),
            start_s=index,
            end_s=index + 0.5,
            question_position=0,
            is_follow_up=False,
            kind="answer",
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(write, range(24)))
    assert len(set(ids)) == 24
    assert [t.text for t in store.turns(session_id)] == [str(i) for i in range(24)]
    assert sorted(e.turn_index for e in store.events(session_id)) == list(range(24))


def round_trip(store: SessionStore) -> None:
    """The whole path a simulated interview takes through the store; shared by every backend."""
    interview_id, candidate = demo(store)
    assert demo(store)[0] == interview_id
    assert Interviews(store.engine).script(interview_id) == demo_script()
    found = Candidates(store.engine).by_token(candidate.token)
    assert found is not None
    assert found.id == candidate.id
    session_id, _ = add_session(store)
    store.add_turn(
        session_id=session_id,
        index=0,
        speaker="interviewer",
        text="Hello",
        start_s=0.0,
        end_s=1.25,
        question_position=-1,
        is_follow_up=False,
        kind="greeting",
        source="scripted",
    )
    words: list[Word] = [{"w": "Hi", "start": 2.0, "end": 2.3}]
    store.add_turn(
        session_id=session_id,
        index=1,
        speaker="candidate",
        text="Hi",
        start_s=2.0,
        end_s=2.3,
        question_position=0,
        is_follow_up=False,
        kind="answer",
        live_text="hi",
        words=words,
    )
    events = [
        TimedEvent("speech_end", 2.3, 50.0, 1, {"silence_s": 0.9}),
        TimedEvent("eot_decided", 3.2, 50.9, 1),
    ]
    store.add_events(session_id, events)
    store.end_session(session_id=session_id, status="completed", duration_s=4.0, recording_path="r.ogg")
    turns = store.turns(session_id)
    assert [(t.index, t.speaker, t.text) for t in turns] == [
        (0, "interviewer", "Hello"),
        (1, "candidate", "Hi"),
    ]
    assert turns[1].words == words
    assert [
        TimedEvent(e.name, e.media_time, e.mono, e.turn_index, e.data) for e in store.events(session_id)
    ] == events
    ended = store.get_session(session_id)
    assert ended is not None
    assert ended.ended_at is not None
    assert ended.ended_at.tzinfo is UTC
    assert store.session_ids_with_status("completed") == [session_id]
    assert demo(store)[1].status == "completed"


def test_round_trip_on_sqlite(store: SessionStore) -> None:
    round_trip(store)


@pytest.mark.postgres
def test_round_trip_on_postgres(postgres_url: str) -> None:  # noqa: F811
    migrate(postgres_url)
    migrate(postgres_url)  # a second run is a no-op
    engine = create_engine(postgres_url)
    try:
        round_trip(SessionStore(engine, now=StepClock()))
        with pytest.raises(IntegrityError):
            Interviews(engine).add_script(demo_script(), slug="demo")
    finally:
        engine.dispose()


def test_starting_a_session_for_an_unknown_candidate_writes_nothing(store: SessionStore) -> None:
    interview_id, _ = demo(store)
    with pytest.raises(LookupError):
        store.start_session(
            candidate_id=999, interview_id=interview_id, channel="simulate", recording_dir="", settings={}
        )
    assert store.session_ids_with_status("live") == []
