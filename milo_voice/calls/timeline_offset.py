"""A session that goes on after another node's part: its media time starts at 0 on the new transport, and
these wrappers place its audio, turns, words and events after what the earlier node recorded (`offset_s`).

The dialogue keeps its own clock (the transport's samples); only what it records and reports moves.
"""

from __future__ import annotations

from dataclasses import replace

from milo_voice.dialogue.events import TimedEvent
from milo_voice.dialogue.session_types import SessionObserver, TurnRecord
from milo_voice.media.types import AudioChunk, RecordingSink, Word


class OffsetSink:
    """A `RecordingSink` that records every chunk `offset_s` later on the timeline."""

    def __init__(self, inner: RecordingSink, offset_s: float) -> None:
        self.inner, self.offset_s = inner, offset_s

    def write_candidate(self, chunk: AudioChunk) -> None:
        self.inner.write_candidate(replace(chunk, start=chunk.start + self.offset_s))

    def write_interviewer(self, chunk: AudioChunk) -> None:
        self.inner.write_interviewer(replace(chunk, start=chunk.start + self.offset_s))


class OffsetObserver:
    """A `SessionObserver` that reports turns, words and events `offset_s` later on the timeline."""

    def __init__(self, inner: SessionObserver, offset_s: float) -> None:
        self.inner, self.offset_s = inner, offset_s

    def _turn(self, turn: TurnRecord) -> TurnRecord:
        return replace(turn, start_s=round(turn.start_s + self.offset_s, 3),
                       end_s=round(turn.end_s + self.offset_s, 3))

    def on_event(self, event: TimedEvent) -> None:
        self.inner.on_event(replace(event, media_time=round(event.media_time + self.offset_s, 3)))

    def on_turn(self, turn: TurnRecord) -> None:
        self.inner.on_turn(self._turn(turn))

    def on_partial(self, turn: TurnRecord) -> None:
        self.inner.on_partial(self._turn(turn))

    def on_transcript(self, index: int, text: str, words: tuple[Word, ...]) -> None:
        moved = tuple(Word(w.text, round(w.start + self.offset_s, 3), round(w.end + self.offset_s, 3))
                      for w in words)
        self.inner.on_transcript(index, text, moved)
