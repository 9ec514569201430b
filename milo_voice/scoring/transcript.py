"""What a scorer reads: the stored transcript as plain dataclasses (no ORM, no audio).

Times are seconds on the recording's timeline. Only the candidate's turns can be quoted as
evidence; the interviewer's turns give the scorer the questions as they were actually asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CANDIDATE = "candidate"
INTERVIEWER = "interviewer"


@dataclass(frozen=True, slots=True)
class TimedWord:
    text: str
    start: float
    """Seconds from the start of the recording."""
    end: float


@dataclass(frozen=True, slots=True)
class Utterance:
    """One stored turn."""

    index: int
    speaker: str
    text: str
    start_s: float
    end_s: float
    question_position: int
    kind: str = ""
    is_follow_up: bool = False
    words: tuple[TimedWord, ...] = ()

    @classmethod
    def from_row(cls, row: object) -> Utterance:
        """Build from anything with the `Turn` attributes (a row, or a test double of one)."""
        raw_words: Sequence[Mapping[str, object]] = getattr(row, "words", None) or ()
        words = tuple(TimedWord(str(w["w"]), float(str(w["start"])), float(str(w["end"]))) for w in raw_words)
        return cls(
            index=int(getattr(row, "index")),  # noqa: B009 (a column called `index`)
            speaker=str(getattr(row, "speaker")),  # noqa: B009
            text=str(getattr(row, "text")),  # noqa: B009
            start_s=float(getattr(row, "start_s")),  # noqa: B009
            end_s=float(getattr(row, "end_s")),  # noqa: B009
            question_position=int(getattr(row, "question_position")),  # noqa: B009
            kind=str(getattr(row, "kind", "")),
            is_follow_up=bool(getattr(row, "is_follow_up", False)),
            words=words,
        )


@dataclass(frozen=True, slots=True)
class Transcript:
    utterances: tuple[Utterance, ...]

    def answers(self, position: int) -> list[Utterance]:
        """The candidate's turns that answer question `position` (follow-up answers included)."""
        return [
            u
            for u in self.utterances
            if u.speaker == CANDIDATE and u.question_position == position and u.text.strip()
        ]

    def asked(self, position: int) -> list[Utterance]:
        """The interviewer's questions and follow-ups for question `position`, as spoken."""
        return [
            u
            for u in self.utterances
            if u.speaker == INTERVIEWER
            and u.question_position == position
            and u.kind in ("question", "follow_up")
        ]

    def candidate_turn(self, index: int) -> Utterance | None:
        for u in self.utterances:
            if u.index == index and u.speaker == CANDIDATE:
                return u
        return None
