"""The session writer (`calls/persist.py`): an answer in progress is stored as it grows, at most once a
second per session, and the finished answer rewrites the same row. Throttle decisions run on a fake
clock with a fake timer; rows go to a real migrated SQLite database (the `store` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from milo_voice.calls.persist import PARTIAL_EVERY, SessionWriter
from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.session_types import PARTIAL, TurnRecord
from milo_voice.media.types import Word
from milo_voice.workspace.demo import Demo


@dataclass
class FakeTime:
    """A clock and a `later` whose timers fire only when the test says so."""

    now: float = 100.0
    timers: list[tuple[float, Callable[[], None]]] = field(default_factory=list)
    fired: list[float] = field(default_factory=list)
    """When each timer fired."""

    def clock(self) -> float:
        return self.now

    def later(self, delay: float, callback: Callable[[], None]) -> None:
        self.timers.append((self.now + delay, callback))

    def advance(self, seconds: float) -> None:
        """Move on, firing every timer that falls due on the way, in order."""
        end = self.now + seconds
        while self.timers and min(t for t, _ in self.timers) <= end + 1e-9:
            due = min(self.timers, key=lambda timer: timer[0])
            self.timers.remove(due)
            self.now = max(self.now, due[0])
            self.fired.append(self.now)
            due[1]()
        self.now = end


class CountingStore:
    """Records the writes a writer makes (for the throttle; no database)."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, int, str]] = []

    def add_turn(self, **row: object) -> int:
        self.writes.append(("insert", int(str(row["index"])), str(row["text"])))
        return int(str(row["index"])) + 1000

    def update_turn(self, **row: object) -> None:
        self.writes.append(("update", int(str(row["turn_id"])) - 1000, str(row["text"])))

    def add_events(self, *_: object) -> None:
        pass


def partial(text: str, index: int = 3, end: float = 9.0) -> TurnRecord:
    return TurnRecord(index, "candidate", PARTIAL, text, 5.0, end, 1, live_text=text)


def finished(text: str, index: int = 3) -> TurnRecord:
    return TurnRecord(index, "candidate", "answer", text, 5.0, 12.0, 1, live_text=text)


def counting_writer(time: FakeTime) -> tuple[SessionWriter, CountingStore]:
    store = CountingStore()
    return SessionWriter(store, 1, clock=time.clock, later=time.later), store  # type: ignore[arg-type]


def written(writer: SessionWriter, store: CountingStore) -> list[tuple[str, int, str]]:
    """The writes so far, once the writer's thread has made them."""
    writer._pool.submit(lambda: None).result()
    return list(store.writes)


def test_the_first_text_is_written_at_once_then_at_most_once_a_second_and_the_newest_always() -> None:
    time = FakeTime()
    writer, store = counting_writer(time)
    writer.on_partial(partial("I led"))
    assert written(writer, store) == [("insert", 3, "I led")]
    time.advance(0.3)
    writer.on_partial(partial("I led the move"))
    time.advance(0.3)
    writer.on_partial(partial("I led the move to the cloud"))
    assert written(writer, store) == [("insert", 3, "I led")]  # within the second: waiting
    assert [round(t - 100.0, 6) for t, _ in time.timers] == [PARTIAL_EVERY]  # one timer, a second on
    time.advance(0.4)
    assert written(writer, store)[1:] == [("update", 3, "I led the move to the cloud")]  # the newest only
    time.advance(1.5)
    writer.on_partial(partial("I led the move to the cloud in March"))  # a second since: at once
    assert written(writer, store)[2:] == [("update", 3, "I led the move to the cloud in March")]
    assert writer.partial_writes == 3 and time.timers == []


def test_a_finished_answer_rewrites_its_row_and_nothing_older_is_written_after_it() -> None:
    time = FakeTime()
    writer, store = counting_writer(time)
    writer.on_partial(partial("We shipped"))
    time.advance(0.5)
    writer.on_partial(partial("We shipped it on"))  # waits for its timer
    writer.on_turn(finished("We shipped it on time."))
    time.advance(1.0)  # the timer fires: nothing left to write
    writer.on_partial(partial("We shipped it on time"))  # a stale decode: ignored
    writer.on_turn(TurnRecord(4, "interviewer", "question", "What next?", 13.0, 14.0, 2))
    assert written(writer, store) == [
        ("insert", 3, "We shipped"),
        ("update", 3, "We shipped it on time."),
        ("insert", 4, "What next?"),
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 3.0), min_size=1, max_size=30))
def test_writes_are_a_second_apart_and_each_text_is_written_within_a_second(gaps: list[float]) -> None:
    """Live decodes at any times: partial writes are never closer than `PARTIAL_EVERY`, and the text of
    every decode is queued for the database (itself or a newer one) within `PARTIAL_EVERY`."""
    time = FakeTime()
    writer, _ = counting_writer(time)
    writes: list[tuple[float, int]] = []
    """(when, how many decodes the written text holds)."""
    for n, gap in enumerate(gaps, start=1):
        count = writer.partial_writes
        time.advance(gap)
        if writer.partial_writes > count:  # the timer wrote the newest text: decode n - 1's
            writes.append((time.fired[-1], n - 1))
        count = writer.partial_writes
        writer.on_partial(partial(" ".join(["word"] * n)))
        if writer.partial_writes > count:
            writes.append((time.now, n))
    count = writer.partial_writes
    time.advance(PARTIAL_EVERY)
    if writer.partial_writes > count:
        writes.append((time.fired[-1], len(gaps)))
    assert all(b[0] - a[0] >= PARTIAL_EVERY - 1e-9 for a, b in pairwise(writes))
    assert writes[-1][1] == len(gaps)  # the newest text is written in the end
    sent_at = [100.0 + sum(gaps[:n]) for n in range(1, len(gaps) + 1)]
    for n, at in enumerate(sent_at, start=1):
        landed = next(when for when, holds in writes if holds >= n)
        assert landed - at <= PARTIAL_EVERY + 1e-9


def test_close_writes_an_answer_that_never_finished_and_a_late_timer_does_nothing() -> None:
    time = FakeTime()
    writer, store = counting_writer(time)
    writer.on_partial(partial("So the"))
    time.advance(0.2)
    writer.on_partial(partial("So the thing is"))
    writer.close()
    assert store.writes == [("insert", 3, "So the"), ("update", 3, "So the thing is")]
    time.advance(2.0)  # the timer armed before close fires on a closed writer
    assert store.writes == [("insert", 3, "So the"), ("update", 3, "So the thing is")]


def session(store: SessionStore) -> int:
    interview_id, candidate = Demo(store.engine, now=store.now).seed()
    assert candidate.id is not None
    return store.start_session(
        candidate_id=candidate.id,
        interview_id=interview_id,
        channel="simulate",
        recording_dir="recordings/1",
        settings={},
    )


def test_an_answer_in_progress_lands_in_the_database_and_finishes_in_its_row(store: SessionStore) -> None:
    session_id = session(store)
    time = FakeTime()
    writer = SessionWriter(store, session_id, clock=time.clock, later=time.later)
    writer.on_turn(TurnRecord(0, "interviewer", "question", "Tell me about a project.", 0.0, 3.0, 0))
    writer.on_partial(partial("I built a", index=1, end=6.5))
    writer._pool.submit(lambda: None).result()
    [_, row] = store.turns(session_id)
    assert (row.kind, row.text, row.live_text, row.start_s, row.end_s, row.words) == (
        PARTIAL,
        "I built a",
        "I built a",
        5.0,
        6.5,
        [],
    )
    time.advance(1.0)
    writer.on_partial(partial("I built a billing system", index=1, end=8.0))
    writer.on_turn(
        TurnRecord(
            1,
            "candidate",
            "answer",
            "I built a billing system.",
            5.0,
            8.2,
            0,
            live_text="I built a billing system.",
        )
    )
    writer.on_transcript(1, "I built a billing system.", (Word("I", 5.0, 5.1), Word("built", 5.2, 5.5)))
    writer.close()
    [_, row] = store.turns(session_id)
    assert (row.kind, row.text, row.live_text, row.end_s) == (
        "answer",
        "I built a billing system.",
        "I built a billing system.",
        8.2,
    )
    assert [w["w"] for w in row.words] == ["I", "built"]


def test_a_failed_partial_write_does_not_lose_the_finished_turn(
    store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    session_id = session(store)
    time = FakeTime()
    writer = SessionWriter(store, session_id, clock=time.clock, later=time.later)
    real_add = store.add_turn
    calls = []

    def flaky_add(**row: object) -> int:
        calls.append(row["kind"])
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        return real_add(**row)  # type: ignore[arg-type]

    store.add_turn = flaky_add  # type: ignore[method-assign]
    writer.on_partial(partial("Well", index=0))
    writer.on_turn(finished("Well, I would say yes.", index=0))
    writer.close()
    assert calls == [PARTIAL, "answer"]
    [row] = store.turns(session_id)
    assert (row.kind, row.text) == ("answer", "Well, I would say yes.")
    assert "persist.turn_write_failed" in caplog.text
