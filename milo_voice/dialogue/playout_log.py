"""The interviewer's lines between the speaker and the transcript: queued for playout, stored once
the candidate has heard them, or cut short where a barge-in stopped them. The transcript holds
only what the candidate heard. Pure: media times in, stored lines out through `record`."""

from __future__ import annotations

from collections.abc import Callable

from milo_voice.dialogue.planner import Line, MoveKind

NEW_REPLY_GAP = 0.5
"""A line queued this long (s) after the previous one ended starts a new reply."""
UNHEARD_MARGIN = 0.2
"""A line with more than this left to play at a cut counts as not heard (it may be said again)."""


class PlayoutLog:
    """Lines queued for playout and not yet stored, and the lines of the reply playing now."""

    def __init__(self, record: Callable[[Line, str, float, float], None]) -> None:
        self.record = record
        """Stores one heard line: (line, kind, start, end) in media time."""
        self.spoken: list[tuple[Line, float]] = []
        """The current reply's lines and when each ends, till they end or a cut."""
        self.queued: list[tuple[Line, str, float, float]] = []
        """Lines queued for playout and not yet stored: (line, kind, start, end)."""

    def queued_line(self, line: Line, kind: str, start: float, end: float) -> None:
        if not self.spoken or self.spoken[-1][1] < start - NEW_REPLY_GAP:
            self.spoken = []  # a new reply
        self.spoken.append((line, end))
        self.queued.append((line, kind, start, end))

    def closing_in_reply(self) -> bool:
        return any(line.kind is MoveKind.CLOSE for line, _ in self.spoken)

    def store_heard(self, now: float, cut_at: float | None = None) -> None:
        """Store the lines whose playout is over by `now`; with `cut_at`, also one cut short there
        (and drop the ones never heard)."""
        waiting = []
        for line, kind, start, end in self.queued:
            if end <= now + 1e-6:
                self.record(line, kind, start, end)
            elif cut_at is not None:
                if start < cut_at:
                    self.record(line, kind, start, cut_at)
            else:
                waiting.append((line, kind, start, end))
        self.queued = waiting

    def cut(self, now: float) -> list[Line]:
        """A barge-in stopped the reply at `now`: store what was heard and return the lines that
        were not (to be said again if the barge-in was only noise)."""
        self.store_heard(now, cut_at=now)
        unheard = [line for line, end in self.spoken if end > now + UNHEARD_MARGIN]
        self.spoken = []
        return unheard
