"""Persists one session's turns, transcripts and timed events through its `SessionStore`, off the event loop.

Writes go, in order, through a single-thread executor; events are batched and written with
each turn and at the end, so a crash loses at most the events since the last turn.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.events import TimedEvent
from milo_voice.dialogue.session_types import TurnRecord
from milo_voice.media.types import Word
from milo_voice.store.tables import Word as StoredWord

log = logging.getLogger(__name__)


class SessionWriter:
    """A `SessionObserver` that stores what the session reports."""

    def __init__(self, store: SessionStore, session_id: int) -> None:
        self.store = store
        self.session_id = session_id
        self.events: list[TimedEvent] = []
        self.turns: list[TurnRecord] = []
        self.transcripts: dict[int, tuple[str, tuple[Word, ...]]] = {}
        self._pending: list[TimedEvent] = []
        self._turn_ids: dict[int, Future[int]] = {}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"db-{session_id}")

    def on_event(self, event: TimedEvent) -> None:
        self.events.append(event)
        self._pending.append(event)

    def on_turn(self, turn: TurnRecord) -> None:
        self.turns.append(turn)
        self._turn_ids[turn.index] = self._pool.submit(self._add_turn, turn)
        self.flush_events()

    def on_transcript(self, index: int, text: str, words: tuple[Word, ...]) -> None:
        self.transcripts[index] = (text, words)
        turn_id = self._turn_ids.get(index)
        if turn_id is not None:
            self._pool.submit(self._update_text, turn_id, text, words)

    def flush_events(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            self._pool.submit(self.store.add_events, self.session_id, batch)

    def close(self) -> None:
        """Write what is left and wait for every write (blocking)."""
        self.flush_events()
        self._pool.shutdown(wait=True)

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
