"""One live interview attempt: transport audio in, VAD and turn policy, planner, TTS, audio out.

The inbound frame loop is the session's heartbeat and clock (media time from sample counts);
replies, pause analysis and final transcripts run as tasks the session owns. Storage is the
observer's business: the session only reports turns, transcripts and timed events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from milo_voice.dialogue import events as ev
from milo_voice.dialogue.answer import Answer, TurnDetector
from milo_voice.dialogue.planner import Line, MoveKind, PlanContext, Planner, word_count
from milo_voice.dialogue.script import CHECK_IN_LINES, MIN_WORDS, InterviewScript
from milo_voice.dialogue.speaker import Speaker, Synthesizer
from milo_voice.media.asr import WhisperEngine, Word, decode_final, is_noise_text
from milo_voice.media.recorder import Recorder
from milo_voice.media.turn_policy import Decision, TurnParams
from milo_voice.media.types import AudioChunk, Transport
from milo_voice.media.vad import FrameVad, SpeechEdge, SpeechSegmenter

log = logging.getLogger(__name__)

BARGE_IN_SPEECH = 0.5
"""Seconds of candidate speech over the interviewer before it yields (issue 4 refines this)."""
BARGE_IN_TAIL = 0.6
"""No barge-in in the last this-many seconds of a reply: it is as good as said."""


def is_noise(text: str) -> bool:
    """A barge-in that transcribes to one word, or only to Whisper's noise words, was not speech."""
    return len(text.split()) <= 1 or is_noise_text(text)


MAX_REPEATS = 2
"""...at most this many times in a row; then the interviewer goes on without waiting for silence."""
FINAL_DECODE_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One stretch of speech by one side, placed on the recording's timeline."""

    index: int
    speaker: str
    kind: str
    """greeting, question, follow_up, acknowledgement, closing, check_in, answer."""
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
    def on_transcript(self, index: int, text: str, words: tuple[Word, ...]) -> None: ...


@dataclass(slots=True)
class Engines:
    """Shared, loaded engines and the executors that keep them off the event loop."""

    asr: WhisperEngine
    asr_executor: Executor
    tts: Synthesizer
    tts_executor: Executor
    detector: TurnDetector | None
    detector_executor: Executor


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


class InterviewSession:
    """Runs one interview over one transport until the closing line has been played or the call ends."""

    def __init__(
        self,
        script: InterviewScript,
        transport: Transport,
        engines: Engines,
        planner: Planner,
        recorder: Recorder,
        observer: SessionObserver,
        *,
        params: TurnParams,
        vad_mode: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.script = script
        self.transport = transport
        self.engines = engines
        self.planner = planner
        self.recorder = recorder
        self.observer = observer
        self.params = params
        self.clock = clock
        self.vad = FrameVad(vad_mode)
        self.segmenter = SpeechSegmenter()
        self.state = DialogueState()
        self.now = 0.0
        self.completed = False
        self.answer: Answer | None = None
        self._recent: deque[AudioChunk] = deque(maxlen=50)  # last second, for barge-in
        self._reply: asyncio.Task[None] | None = None
        self._speech_since: float | None = None
        self._barge: asyncio.Future[None] | None = None
        self._pending: tuple[list[Line], str] | None = None
        self._interrupted: list[Line] | None = None
        """Lines cut short by the last barge-in; said again if it was only noise."""
        self._repeats = 0
        self._spoken: list[tuple[Line, float]] = []
        self._queued: list[tuple[Line, str, float, float]] = []
        """Interviewer lines queued for playout and not yet stored: (line, kind, start, end)."""
        """Lines of the current reply with the media time their playout ends."""
        self.speaker = Speaker(transport, engines.tts, engines.tts_executor, self.emit, self._on_line_queued)
        transport.on_played = self._on_played  # type: ignore[attr-defined]

    # -- events --------------------------------------------------------------------------
    def emit(self, name: str, **data: float | int | str) -> None:
        event = ev.TimedEvent(name, round(self.now, 3), self.clock(), self.state.turn_index, dict(data))
        self.observer.on_event(event)

    def _next_turn_index(self) -> int:
        self.state.turn_index += 1
        return self.state.turn_index - 1

    # -- main loop -----------------------------------------------------------------------
    async def run(self) -> bool:
        """Run to the end; True when the interview completed, False when the call ended early."""
        self.emit(ev.SESSION_START)
        self.state.prompt_text = self.script.questions[0].text
        opening = [
            Line(self.script.greeting, MoveKind.NEXT_QUESTION, 0, "script"),
            Line(self.script.questions[0].text, MoveKind.NEXT_QUESTION, 0, "script", is_prompt=True),
        ]
        self._reply = asyncio.ensure_future(self.speaker.say_lines(opening))
        try:
            async for chunk in self.transport.inbound():
                self._on_frame(chunk)
                if self.completed:
                    break
        finally:
            await self._wind_down()
        return self.completed

    def _on_frame(self, chunk: AudioChunk) -> None:
        self.now = chunk.end
        if self._queued:
            self._record_heard()
        self.recorder.write_candidate(chunk)
        self._recent.append(chunk)
        edge = self.segmenter.push(self.vad.is_speech(chunk.pcm), chunk.start)
        if edge is not None:
            self._speech_since = edge.at if edge.speaking else None
            self.emit(ev.SPEECH_START if edge.speaking else ev.SPEECH_END, at=round(edge.at, 3))
        if self._busy():
            self._watch_barge_in()
            return
        if self._pending is not None:  # the reply has been heard in full: now it counts
            lines, answer_text = self._pending
            self._pending = None
            self._advance(lines, answer_text)
        if self.state.closing:
            self.completed = True
            return
        if self.answer is None:
            self._start_listening()
            return
        self.answer.append(chunk)
        if edge is not None:
            self.answer.on_edge(edge)
        decision = self.answer.decide(self.now)
        if decision is Decision.END_OF_TURN:
            self._end_of_turn()
        elif decision is Decision.CHECK_IN:
            self._check_in()

    def _busy(self) -> bool:
        """A reply is being prepared or is still playing."""
        replying = self._reply is not None and not self._reply.done()
        return replying or self.transport.playing_until() > self.now + 1e-6

    def _start_listening(self) -> None:
        self.answer = Answer(
            listening_since=self.now,
            params=self.params,
            asr=self.engines.asr,
            asr_executor=self.engines.asr_executor,
            detector=self.engines.detector,
            detector_executor=self.engines.detector_executor,
            on_probability=lambda p, at: self.emit(ev.TURN_PROB, p=round(p, 3), pause_at=round(at, 3)),
            expected_words=self._expected_words(),
        )
        if self._speech_since is not None:
            self.answer.on_edge(SpeechEdge(True, self._speech_since))

    def _expected_words(self) -> int:
        """Words below which an answer is surely unfinished: the shape's minimum, less for follow-ups."""
        shape = self.script.questions[min(self.state.question_index, len(self.script.questions) - 1)].shape
        words = MIN_WORDS[shape]
        return words // 2 if self.state.prompt_is_follow_up else words

    def _watch_barge_in(self) -> None:
        since = self._speech_since
        if since is None or self.speaker.muted or not self.speaker.audible(self.now):
            return
        if self._repeats >= MAX_REPEATS or self.transport.playing_until() - self.now < BARGE_IN_TAIL:
            return
        if any(line.kind is MoveKind.CLOSE for line, _ in self._spoken):
            return  # the closing is said to the end: nothing after it could be answered anyway
        if self.now - since >= BARGE_IN_SPEECH:
            self.speaker.muted = True
            self._barge = asyncio.ensure_future(self._barge_in())

    async def _barge_in(self) -> None:
        heard = await self.transport.clear()
        if self._reply is not None:
            self._reply.cancel()
        self._record_heard(cut_at=self.now)
        if self._pending is not None:  # the move was not heard: the candidate goes on answering
            unheard = [line for line, end in self._spoken if end > self.now + 0.2]
            self._interrupted = unheard or None
        self._pending = None
        self.emit(ev.BARGE_IN, heard_s=round(heard, 3))
        self._start_listening()
        if self.answer is not None:
            pcm = b"".join(c.pcm for c in self._recent)
            self.answer.prepend(pcm, self._recent[0].start if self._recent else self.now)
        self.speaker.muted = False

    # -- turn ends -----------------------------------------------------------------------
    def _end_of_turn(self) -> None:
        answer = self.answer
        if answer is None:
            return
        policy = answer.policy
        silence = self.now - (policy.pause_started or self.now)
        self.emit(ev.EOT_DECIDED, silence=round(silence, 3), limit=round(policy.silence_limit(), 3))
        self.answer = None
        self._reply = asyncio.ensure_future(self._respond(answer))

    def _check_in(self) -> None:
        answer = self.answer
        self.state.check_ins += 1
        if self.state.check_ins > len(CHECK_IN_LINES):
            self._end_of_turn()
            return
        line = CHECK_IN_LINES[self.state.check_ins - 1]
        lines = [Line(line, MoveKind.FOLLOW_UP, self.state.question_index, "script")]
        if self.state.check_ins == len(CHECK_IN_LINES):
            lines.append(Line(self.state.prompt_text, MoveKind.FOLLOW_UP, self.state.question_index,
                              "script", is_prompt=True))
        if answer is not None:
            answer.cancel()
        self.answer = None
        self._reply = asyncio.ensure_future(self.speaker.say_lines(lines, kind="check_in"))

    async def _respond(self, answer: Answer) -> None:
        state = self.state
        live_text = await answer.finish_live()
        state.asr_cpu_s += answer.live.cpu_s
        self.emit(ev.ASR_FINAL, words=word_count(live_text), asr_cpu_s=round(answer.live.cpu_s, 3))
        interrupted, self._interrupted = self._interrupted, None
        if interrupted and is_noise(live_text) and self._repeats < MAX_REPEATS:
            # The barge-in was a cough or noise (Whisper hears "you" in noise): say the move again.
            self._repeats += 1
            self.emit(ev.BARGE_IN_IGNORED, words=word_count(live_text))
            self._pending = (await self.speaker.say_lines(interrupted), "")
            return
        self._repeats = 0
        self._record_answer(answer, live_text)
        ctx = PlanContext(
            script=self.script,
            question_index=state.question_index,
            follow_ups_asked=state.follow_ups_asked,
            answer_text=live_text,
            prompt_text=state.prompt_text,
            earlier_answer=state.earlier_answer,
        )
        lines = await self.speaker.say_stream(self.planner.plan(ctx))
        self._pending = (lines, live_text)

    def _record_answer(self, answer: Answer, live_text: str) -> None:
        state = self.state
        state.check_ins = 0
        index = self._next_turn_index()
        audio, offset = answer.speech_audio()
        start = answer.first_speech if answer.first_speech is not None else answer.start
        end = answer.last_speech_end if answer.last_speech_end is not None else self.now
        self.observer.on_turn(TurnRecord(
            index, "candidate", "answer", live_text, round(start, 3), round(end, 3),
            state.question_index, state.prompt_is_follow_up, live_text=live_text,
        ))
        state.speech_s += len(audio) / 16000
        if len(audio) and not is_noise_text(live_text):  # noise: a beam search would invent words
            task = asyncio.ensure_future(self._store_final(index, audio, offset))
            state.final_tasks.add(task)
            task.add_done_callback(state.final_tasks.discard)

    async def _store_final(self, index: int, audio: np.ndarray, offset: float) -> None:
        try:
            result = await decode_final(self.engines.asr, self.engines.asr_executor, audio, offset=offset)
        except Exception:  # task root: keep the live text, log the failure
            log.exception("session.final_decode_failed", extra={"turn": index})
            return
        self.state.asr_cpu_s += result.cpu_s
        self.observer.on_transcript(index, result.text, result.words)
        self.emit(ev.TRANSCRIPT_STORED, turn=index, asr_cpu_s=round(result.cpu_s, 3),
                  audio_s=round(result.audio_s, 3))

    def _advance(self, lines: list[Line], answer_text: str) -> None:
        state = self.state
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

    # -- playout bookkeeping -------------------------------------------------------------
    def _on_played(self, chunk: AudioChunk) -> None:
        self.recorder.write_interviewer(chunk)
        self.speaker.on_played(chunk)

    def _on_line_queued(self, line: Line, kind: str, start: float, end: float) -> None:
        if not self._spoken or self._spoken[-1][1] < start - 0.5:
            self._spoken = []  # a new reply
        self._spoken.append((line, end))
        self._queued.append((line, kind, start, end))

    def _record_heard(self, cut_at: float | None = None) -> None:
        """Store interviewer lines whose playout is over; with `cut_at`, also one cut short there
        (and drop the ones never heard). The transcript holds only what the candidate heard."""
        waiting = []
        for line, kind, start, end in self._queued:
            if end <= self.now + 1e-6:
                self._record_line(line, kind, start, end)
            elif cut_at is not None:
                if start < cut_at:
                    self._record_line(line, kind, start, cut_at)
            else:
                waiting.append((line, kind, start, end))
        self._queued = waiting

    def _record_line(self, line: Line, kind: str, start: float, end: float) -> None:
        index = self._next_turn_index()
        self.observer.on_turn(TurnRecord(
            index, "interviewer", kind, line.text, round(start, 3), round(end, 3),
            line.question_index, line.kind is MoveKind.FOLLOW_UP, source=line.source,
        ))

    async def _wind_down(self) -> None:
        if self._reply is not None and not self._reply.done():
            self._reply.cancel()
        self._record_heard(cut_at=self.now)
        if self.answer is not None and self.answer.has_speech:
            answer, self.answer = self.answer, None
            try:  # the call ended mid-answer: keep what was said
                text = await asyncio.wait_for(answer.finish_live(), FINAL_DECODE_TIMEOUT)
                self._record_answer(answer, text)
            except (TimeoutError, asyncio.CancelledError):
                log.warning("session.partial_answer_lost")
        if self.state.final_tasks:
            await asyncio.wait(set(self.state.final_tasks), timeout=FINAL_DECODE_TIMEOUT)
        self.emit(ev.SESSION_END, completed=int(self.completed), asr_cpu_s=round(self.state.asr_cpu_s, 3),
                  speech_s=round(self.state.speech_s, 3))
        await self.transport.close()
