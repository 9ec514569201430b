"""The plain types a session shares with whoever runs and observes it: no behaviour."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Protocol

from milo_voice.dialogue import events as ev
from milo_voice.dialogue.answer import Answer, TurnDetector
from milo_voice.dialogue.planner import Line, MoveKind
from milo_voice.dialogue.speaker import Synthesizer
from milo_voice.media.types import Transcriber, Word

PARTIAL = "partial"
"""The kind of a candidate turn whose answer is still going on: the live text so far, stored as it
grows (`SessionObserver.on_partial`). The finished turn replaces it under the same index (kind answer
or request); one left with this kind was cut off by the process ending (SIGKILL, power loss), and
`milo-voice recover` keeps it so marked."""


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One stretch of speech by one side, placed on the recording's timeline."""

    index: int
    speaker: str
    kind: str
    """greeting, question, follow_up, acknowledgement, closing, check_in, answer, request, `PARTIAL`."""
    text: str
    start_s: float
    end_s: float
    question_index: int
    is_follow_up: bool = False
    live_text: str = ""
    source: str = ""


class SessionObserver(Protocol):
    def on_event(self, event: ev.TimedEvent) -> None: ...
    def on_turn(self, turn: TurnRecord) -> None: ...
    def on_partial(self, turn: TurnRecord) -> None:
        """An answer in progress, its live text so far (kind `PARTIAL`): reported after each live
        decode that adds text; `on_turn` with the same index ends it."""
        ...
    def on_transcript(self, index: int, text: str, words: tuple[Word, ...]) -> None: ...


@dataclass(slots=True)
class Engines:
    """Shared, loaded engines and the executors that keep them off the event loop."""

    asr: Transcriber
    tts: Synthesizer
    tts_executor: Executor
    detector: TurnDetector | None
    detector_executor: Executor


@dataclass(slots=True)
class HeldAnswer:
    """An answer whose turn has ended but whose reply has not been heard in full yet.

    It is stored only when the reply has been heard: until then the candidate can resume it
    (a false end of turn) and the two parts stay one answer, under one turn index."""

    answer: Answer
    live_text: str
    index: int
    eot_at: float
    """Media time the policy ended the turn."""
    final: bool = False
    """Ended by the answer-length cap: speech after it starts a new answer, it never resumes this one."""


@dataclass(slots=True)
class DialogueState:
    question_index: int = 0
    follow_ups_asked: int = 0
    earlier_answer: str = ""
    prompt_text: str = ""
    prompt_is_follow_up: bool = False
    check_ins: int = 0
    closing: bool = False
    turn_index: int = 0
    asr_cpu_s: float = 0.0
    speech_s: float = 0.0
    final_tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def advance(self, lines: list[Line], answer_text: str) -> None:
        """The move in `lines` has been heard: the question, follow-up count and prompt move on."""
        state = self
        kinds = {line.kind for line in lines}
        prompt = next((line for line in lines if line.is_prompt), None)
        if MoveKind.CLOSE in kinds:
            state.closing = True
        elif MoveKind.FOLLOW_UP in kinds:
            state.follow_ups_asked += 1
            state.earlier_answer = f"{state.earlier_answer} {answer_text}".strip()
            state.prompt_is_follow_up = True
        elif MoveKind.NEXT_QUESTION in kinds:
            state.question_index = max(line.question_index for line in lines)
            state.follow_ups_asked = 0
            state.earlier_answer = ""
            state.prompt_is_follow_up = False
        if prompt is not None:
            state.prompt_text = prompt.text
