"""Each finished answer, handed to the session's observer: its turn at once (the live text), then
its stored transcript once a whole-answer decode has run off the event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import numpy as np

from milo_voice.dialogue import events as ev
from milo_voice.dialogue.answer import Answer
from milo_voice.dialogue.session_types import DialogueState, Engines, SessionObserver, TurnRecord
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
