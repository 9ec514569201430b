"""Persists one session's turns, transcripts and timed events through its `SessionStore`, off the event loop.

Writes go, in order, through a single-thread executor; events are batched and written with
each turn and at the end, so a crash loses at most the events since the last turn. An answer in
progress is written as it grows (`on_partial`, a turn of kind `PARTIAL`), throttled to one write
every `PARTIAL_EVERY` seconds per session: a crash loses at most the text of the last second's
live decodes, besides the speech since the candidate's last pause (never decoded yet).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.events import TimedEvent
from milo_voice.dialogue.session_types import TurnRecord
from milo_voice.media.types import Word
from milo_voice.store.tables import Word as StoredWord

log = logging.getLogger(__name__)

PARTIAL_EVERY = 1.0
"""Seconds between two writes of answers in progress, per session. Text that arrives sooner waits
for the next write, which a timer makes at the latest `PARTIAL_EVERY` s after the previous one."""

Later = Callable[[float, Callable[[], None]], object]
"""Calls a function after a delay in seconds (the event loop's `call_later` by default)."""


def _call_later(delay: float, callback: Callable[[], None]) -> object:
    return asyncio.get_running_loop().call_later(delay, callback)


class SessionWriter:
    """A `SessionObserver` that stores what the session reports.

    Every method but `close` is called on the event loop and only queues writes; a turn stored
    while its answer went on is rewritten, not inserted again, when the answer finishes."""

    def __init__(self, store: SessionStore, session_id: int, *, clock: Callable[[], float] = time.monotonic,
                 later: Later = _call_later) -> None:
        self.store = store
        self.session_id = session_id
        self.events: list[TimedEvent] = []
        self.turns: list[TurnRecord] = []
        self.transcripts: dict[int, tuple[str, tuple[Word, ...]]] = {}
        self.partial_writes = 0
        """Writes of answers in progress queued so far."""
        self._pending: list[TimedEvent] = []
        self._turn_ids: dict[int, Future[int]] = {}
        """Per turn index, the latest write of its row (its result is the row's id)."""
        self._partials: dict[int, TurnRecord] = {}
        """The newest text of each answer in progress not written yet."""
        self._finished: set[int] = set()
        self._clock = clock
        self._later = later
        self._last_partial: float | None = None
        self._timer_armed = False
        self._closed = False
        self._lock = threading.Lock()  # `close` runs on another thread than the loop's timer
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"db-{session_id}")

    def on_event(self, event: TimedEvent) -> None:
        self.events.append(event)
        self._pending.append(event)

    def on_turn(self, turn: TurnRecord) -> None:
        self.turns.append(turn)
        with self._lock:
            self._partials.pop(turn.index, None)
            self._finished.add(turn.index)
            self._save(turn)
        self.flush_events()

    def on_partial(self, turn: TurnRecord) -> None:
        """The answer so far: written now if the last such write is `PARTIAL_EVERY` s old, else by a
        timer when it is (the newest text then; a finished turn makes it moot)."""
        if turn.index in self._finished:
            return
        self._partials[turn.index] = turn
        wait = 0.0 if self._last_partial is None else self._last_partial + PARTIAL_EVERY - self._clock()
        if wait <= 0:
            self.write_partials()
        elif not self._timer_armed:
            self._timer_armed = True
            self._later(wait, self._on_timer)

    def on_transcript(self, index: int, text: str, words: tuple[Word, ...]) -> None:
        self.transcripts[index] = (text, words)
        turn_id = self._turn_ids.get(index)
        if turn_id is not None:
            self._pool.submit(self._update_text, turn_id, text, words)

    def write_partials(self) -> None:
        """Queue the writes of the answers in progress whose newest text is not written yet."""
        with self._lock:
            if self._closed or not self._partials:
                return
            partials, self._partials = self._partials, {}
            for turn in partials.values():
                self._save(turn)
                self.partial_writes += 1
            self._last_partial = self._clock()

    def flush_events(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            self._pool.submit(self.store.add_events, self.session_id, batch)

    def close(self) -> None:
        """Write what is left and wait for every write (blocking)."""
        self.write_partials()  # an answer never finished (a session's normal end finishes them all)
        with self._lock:
            self._closed = True
        self.flush_events()
        self._pool.shutdown(wait=True)

    def _on_timer(self) -> None:
        self._timer_armed = False
        self.write_partials()

    def _save(self, turn: TurnRecord) -> None:
        """Queue the turn's row: inserted the first time, rewritten after (callers hold the lock)."""
        self._turn_ids[turn.index] = self._pool.submit(self._write_turn, self._turn_ids.get(turn.index), turn)

    def _write_turn(self, earlier: Future[int] | None, turn: TurnRecord) -> int:
        """In the pool: `earlier` (the row's previous write, done: the pool runs one write at a time)
        gives the row to rewrite; without one, or if it failed, the turn is inserted."""
        turn_id = earlier.result() if earlier is not None and earlier.exception() is None else None
        try:
            if turn_id is None:
                return self._add_turn(turn)
            self.store.update_turn(
                turn_id=turn_id, kind=turn.kind, text=turn.text, live_text=turn.live_text,
                start_s=turn.start_s, end_s=turn.end_s, question_position=turn.question_index,
                is_follow_up=turn.is_follow_up,
            )
            return turn_id
        except Exception:  # kept in the future too; logged here, where nobody waits for it
            log.exception("persist.turn_write_failed",
                          extra={"session_id": self.session_id, "turn": turn.index})
            raise

    def _add_turn(self, turn: TurnRecord) -> int:
        return self.store.add_turn(
            session_id=self.session_id,
            index=turn.index,
            speaker=turn.speaker,
            text=turn.text,
            start_s=turn.start_s,
            end_s=turn.end_s,
            question_position=turn.question_index,
            is_follow_up=turn.is_follow_up,
            kind=turn.kind,
            live_text=turn.live_text,
            source=turn.source,
        )

    def _update_text(self, turn_id: Future[int], text: str, words: tuple[Word, ...]) -> None:
        stored: list[StoredWord] = [{"w": w.text, "start": w.start, "end": w.end} for w in words]
        self.store.update_turn_text(turn_id=turn_id.result(), text=text, words=stored)
