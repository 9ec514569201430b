"""Each answer, handed to the session's observer: while it goes on, its live text so far after each
live decode (a turn of kind `PARTIAL`, so a crash keeps it); once finished, its turn at once (the
live text), then its stored transcript once a whole-answer decode has run off the event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import numpy as np

from milo_voice.dialogue import events as ev
from milo_voice.dialogue.answer import Answer
from milo_voice.dialogue.session_types import PARTIAL, DialogueState, Engines, SessionObserver, TurnRecord
from milo_voice.media.types import is_noise_text

log = logging.getLogger(__name__)


class StoredAnswers:
    """Stores the candidate's answers of one session; the final decodes are tasks in `state`."""

    def __init__(self, observer: SessionObserver, engines: Engines, state: DialogueState,
                 emit: Callable[..., None]) -> None:
        self.observer = observer
        self.engines = engines
        self.state = state
        self.emit = emit

    def index_of(self, answer: Answer) -> int:
        """The answer's turn index, reserved the first time it is asked for: at its first live text
        (`progress`) or when its turn ends, whichever comes first."""
        if answer.turn_index is None:
            answer.turn_index = self.state.turn_index
            self.state.turn_index += 1
        return answer.turn_index

    def progress(self, answer: Answer) -> None:
        """The answer's live text grew: report the answer so far (an `Answer`'s `on_text`)."""
        text = answer.live.text
        if is_noise_text(text):  # nothing said yet ("you" in room noise): no turn, no index
            return
        state = self.state
        start = answer.first_speech if answer.first_speech is not None else answer.start
        self.observer.on_partial(TurnRecord(
            self.index_of(answer), "candidate", PARTIAL, text, round(start, 3),
            round(max(start, answer.text_end()), 3), state.question_index, state.prompt_is_follow_up,
            live_text=text,
        ))

    def store(self, answer: Answer, live_text: str, index: int, now: float, kind: str = "answer") -> None:
        state = self.state
        state.check_ins = 0
        audio, offset = answer.speech_audio()
        start = answer.first_speech if answer.first_speech is not None else answer.start
        end = answer.last_speech_end if answer.last_speech_end is not None else now
        self.observer.on_turn(TurnRecord(
            index, "candidate", kind, live_text, round(start, 3), round(end, 3),
            state.question_index, state.prompt_is_follow_up, live_text=live_text,
        ))
        state.speech_s += len(audio) / 16000
        if len(audio) and not is_noise_text(live_text):  # noise: a beam search would invent words
            task = asyncio.ensure_future(self._store_final(index, audio, offset))
            state.final_tasks.add(task)
            task.add_done_callback(state.final_tasks.discard)

    async def _store_final(self, index: int, audio: np.ndarray, offset: float) -> None:
        try:
            result = await self.engines.asr.final(audio, offset=offset)
        except Exception:  # task root: keep the live text, log the failure
            log.exception("session.final_decode_failed", extra={"turn": index})
            return
        self.state.asr_cpu_s += result.cpu_s
        self.observer.on_transcript(index, result.text, result.words)
        self.emit(ev.TRANSCRIPT_STORED, turn=index, asr_cpu_s=round(result.cpu_s, 3),
                  audio_s=round(result.audio_s, 3))
