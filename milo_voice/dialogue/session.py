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

from milo_voice.dialogue import events as ev
from milo_voice.dialogue import floor
from milo_voice.dialogue.answer import Answer
from milo_voice.dialogue.planner import Line, MoveKind, PlanContext, Planner, word_count
from milo_voice.dialogue.playout_log import PlayoutLog
from milo_voice.dialogue.resume import ResumePoint, first_state, opening_lines
from milo_voice.dialogue.script import (
    CHECK_IN_LINES,
    MIN_WORDS,
    PATIENCE,
    REPEAT_LINE,
    TIME_LINE,
    InterviewScript,
    Question,
)
from milo_voice.dialogue.session_types import Engines, HeldAnswer, SessionObserver, TurnRecord
from milo_voice.dialogue.speaker import Speaker
from milo_voice.dialogue.stored_answers import StoredAnswers
from milo_voice.dialogue.text_cues import Request, request_kind
from milo_voice.dialogue.turn_policy import Decision, Rhythm, TurnParams
from milo_voice.media.types import (
    AudioChunk,
    RecordingSink,
    SpeechEdge,
    SpeechSegments,
    Transport,
    VoiceActivity,
)

log = logging.getLogger(__name__)

class InterviewSession:
    """Runs one interview over one transport until the closing line has been played or the call ends."""

    def __init__(
        self,
        script: InterviewScript,
        transport: Transport,
        engines: Engines,
        planner: Planner,
        recorder: RecordingSink,
        observer: SessionObserver,
        *,
        params: TurnParams,
        vad: VoiceActivity,
        segmenter: SpeechSegments,
        clock: Callable[[], float] = time.monotonic,
        resume: ResumePoint | None = None,
    ) -> None:
        self.script = script
        self.transport = transport
        self.engines = engines
        self.planner = planner
        self.recorder = recorder
        self.observer = observer
        self.params = params
        self.clock = clock
        self.vad = vad
        self.segmenter = segmenter
        self.state = first_state(script, resume)
        self._opening = opening_lines(script, resume)
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
        self.rhythm = Rhythm()
        """The candidate's own pauses, learnt across the session's answers."""
        self._held: HeldAnswer | None = None
        self._stopping = False
        self.floor = floor.Floor()
        """Who holds the floor: ducking, early mute, false ends, barge-in, onset grace (pure)."""
        self._unasked: tuple[list[Line], float] | None = None
        """Lines with a question a barge-in cut outside any reply, and when (asked again if noise)."""
        self.playout = PlayoutLog(self._record_line)
        self.answers = StoredAnswers(observer, engines, self.state, self.emit)
        self.speaker = Speaker(transport, engines.tts, engines.tts_executor, self.emit,
                               self.playout.queued_line)
        transport.on_played = self._on_played

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
        self._reply = asyncio.ensure_future(self.speaker.say_lines(self._opening))
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
        if self.playout.queued:
            self.playout.store_heard(self.now)
        self.recorder.write_candidate(chunk)
        self._recent.append(chunk)
        edge = self.segmenter.push(self.vad.is_speech(chunk.pcm), chunk.start)
        self.floor.hear(chunk.end, self.vad.loud, self.vad.above_floor_db)
        if edge is not None:
            self._speech_since = edge.at if edge.speaking else None
            self.emit(ev.SPEECH_START if edge.speaking else ev.SPEECH_END, at=round(edge.at, 3))
        if self._held is not None:
            self._held.answer.append(chunk, self.vad.above_floor_db)  # the held answer's audio goes on
        if not self._stopping:
            frame = self._floor_frame()
            self._carry_out_duck(self.floor.duck(frame))
            if frame.busy:
                self._stop_if_due(frame)
        if self._busy():
            return
        if self._pending is not None:  # the reply has been heard in full: now it counts
            lines, answer_text = self._pending
            self._pending = None
            self._commit_held()
            self.state.advance(lines, answer_text)
        if self.state.closing:
            self.completed = True
            return
        if self.answer is None:
            self._start_listening()
            return
        self.answer.append(chunk, self.vad.above_floor_db)
        if edge is not None:
            self.answer.on_edge(edge)
        if self._unasked and floor.noise_only(self.answer.policy, self.now, since=self._unasked[1]):
            self._ask_again()
            return
        decision = self.answer.decide(self.now)
        if decision is Decision.END_OF_TURN and self.floor.hold_end_of_turn(
                self.now, self.segmenter.onset_pending()):
            return
        self.floor.no_end_due()
        if decision is Decision.END_OF_TURN:
            self._end_of_turn()
        elif decision is Decision.CHECK_IN:
            self._check_in()

    def _busy(self) -> bool:
        """A reply is being prepared or is still playing."""
        replying = self._reply is not None and not self._reply.done()
        return replying or self.transport.playing_until() > self.now + 1e-6

    def _start_listening(self) -> None:
        self._commit_held()
        self.answer = Answer(
            listening_since=self.now,
            params=self.params,
            asr=self.engines.asr,
            detector=self.engines.detector,
            detector_executor=self.engines.detector_executor, on_text=self.answers.progress,
            on_probability=lambda p, at: self.emit(ev.TURN_PROB, p=round(p, 3), pause_at=round(at, 3)),
            expected_words=self._expected_words(),
            patience=PATIENCE[self._question().shape],
            rhythm=self.rhythm,
        )
        if self._speech_since is not None:
            self.answer.on_edge(SpeechEdge(True, self._speech_since))

    def _question(self) -> Question:
        return self.script.questions[min(self.state.question_index, len(self.script.questions) - 1)]

    def _expected_words(self) -> int:
        """Words below which an answer is surely unfinished: the shape's minimum, less for follow-ups."""
        words = MIN_WORDS[self._question().shape]
        return words // 2 if self.state.prompt_is_follow_up else words

    def _floor_frame(self) -> floor.FloorFrame:
        """This frame as the floor rules see it."""
        held = self._held
        return floor.FloorFrame(
            now=self.now, speech_since=self._speech_since, onset_pending=self.segmenter.onset_pending(),
            busy=self._busy(),
            audible=self.speaker.audible(self.now), muted=self.speaker.muted,
            playout_left=self.transport.playing_until() - self.now,
            closing_in_reply=self.playout.closing_in_reply(),
            held_eot_at=held.eot_at if held is not None else None,
            held_final=held.final if held is not None else False, repeats=self._repeats,
        )

    def _stop_if_due(self, frame: floor.FloorFrame) -> None:
        """While the interviewer has the floor: a false end or a barge-in cuts the reply."""
        stop = self.floor.watch(frame)
        if stop is not None:
            self._stop_reply(stop.since, false_end=stop.false_end)

    def _carry_out_duck(self, duck: floor.Duck | None) -> None:
        if duck is None:
            return
        self.transport.duck(duck.gain)
        if duck.gain == 1.0:
            self.emit(ev.DUCK, on=False, gain=1.0)
        else:
            self.emit(ev.DUCK, on=True, gain=duck.gain, onset=round(duck.onset or 0.0, 3),
                      confirmed=int(duck.confirmed))

    def _stop_reply(self, speech_since: float, *, false_end: bool) -> None:
        self._stopping = True
        self.speaker.muted = True
        self._barge = asyncio.ensure_future(self._yield_floor(speech_since, false_end))
        self._barge.add_done_callback(_log_failure)

    async def _yield_floor(self, speech_since: float, false_end: bool) -> None:
        """Stop the interviewer now; the candidate's speech continues the held answer, or starts one."""
        try:
            heard = await self.transport.clear()
            self.floor.cleared()  # clear() fades out from the ducked level and resets the gain
            if self._reply is not None:
                self._reply.cancel()
            unheard = self.playout.cut(self.now)
            if self._pending is not None:  # the move was not heard: the candidate goes on answering
                self._interrupted = unheard or None
            elif self._held is None and any(line.is_prompt for line in unheard):
                self._unasked = (unheard, self.now)  # e.g. the opening question, cut by a noise
            self._pending = None
            if self._held is not None and self._held.final:
                self._commit_held()
            held, self._held = self._held, None
            if held is not None:
                self.emit(ev.FALSE_END if false_end else ev.BARGE_IN, heard_s=round(heard, 3),
                          resumed_after=round(speech_since - held.eot_at, 3), turn=held.index)
                self.answer = held.answer
                held.answer.resume(held.index, len(held.live_text))
                held.answer.on_edge(SpeechEdge(True, speech_since))
            else:
                self.emit(ev.BARGE_IN, heard_s=round(heard, 3))
                self._start_listening()
                if self.answer is not None:
                    pcm = b"".join(c.pcm for c in self._recent)
                    self.answer.prepend(pcm, self._recent[0].start if self._recent else self.now)
        finally:
            self.speaker.muted = False
            self._stopping = False

    # -- turn ends -----------------------------------------------------------------------
    def _ask_again(self) -> None:
        """Say again the lines a noise cut off (their question was never heard)."""
        assert self._unasked is not None
        lines, _ = self._unasked
        self._unasked = None
        if self.answer is not None:
            self.answer.cancel()
            self.state.asr_cpu_s += self.answer.live.take_cpu()
            self.answer = None
        self._repeats += 1
        self.emit(ev.BARGE_IN_IGNORED, words=0)
        self._reply = asyncio.ensure_future(self.speaker.say_lines(lines))

    def _end_of_turn(self) -> None:
        answer = self.answer
        if answer is None:
            return
        self._unasked = None  # they said something: the planner answers it
        policy = answer.policy
        silence = self.now - (policy.pause_started or self.now)
        self.emit(ev.EOT_DECIDED, silence=round(silence, 3), limit=round(policy.silence_limit(), 3),
                  p=round(policy.probability if policy.probability is not None else -1, 3),
                  cue=policy.cue.value, words=policy.words, rhythm=round(self.rhythm.floor(self.params), 3),
                  undecoded_s=round(answer.undecoded_s(), 2), tail=" ".join(answer.live.text.split()[-6:]))
        self.answer = None
        index = self.answers.index_of(answer)  # reserved at its first live text, if it had any
        final = policy.capped(self.now)
        self._reply = asyncio.ensure_future(self._respond(answer, index, self.now, final))

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
            self.state.asr_cpu_s += answer.live.take_cpu()  # decodes of noise before any answer
        self.answer = None
        self._reply = asyncio.ensure_future(self.speaker.say_lines(lines, kind="check_in"))

    async def _respond(self, answer: Answer, index: int, eot_at: float, final: bool = False) -> None:
        state = self.state
        live_text = await answer.finish_live()
        live_cpu = answer.live.take_cpu()
        state.asr_cpu_s += live_cpu
        self.emit(ev.ASR_FINAL, words=word_count(live_text), asr_cpu_s=round(live_cpu, 3))
        self._held = HeldAnswer(answer, live_text, index, eot_at, final)
        interrupted, self._interrupted = self._interrupted, None
        since_resume = live_text[answer.resumed_chars :]
        if interrupted and floor.is_noise(since_resume) and self._repeats < floor.MAX_REPEATS:
            # The barge-in was a cough, noise or "mm-hm" (Whisper hears "you" in noise): say the move again.
            self._repeats += 1
            self.emit(ev.BARGE_IN_IGNORED, words=word_count(since_resume))
            self._pending = (await self.speaker.say_lines(interrupted), "")
            return
        self._repeats = 0
        request = request_kind(live_text)
        if request is not Request.NONE:
            await self._answer_request(request)
            return
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

    async def _answer_request(self, request: Request) -> None:
        """"Let me think" or "can you repeat the question": acknowledged, stored, never scored."""
        self._commit_held(kind="request")
        self.emit(ev.REQUEST, kind=request.value)
        q = self.state.question_index
        if request is Request.REPEAT:
            lines = [Line(REPEAT_LINE, MoveKind.ASIDE, q, "script"),
                     Line(self.state.prompt_text, MoveKind.ASIDE, q, "script", is_prompt=True)]
        else:
            lines = [Line(TIME_LINE, MoveKind.ASIDE, q, "script")]
        self._pending = (await self.speaker.say_lines(lines, kind="aside"), "")

    def _commit_held(self, kind: str = "answer") -> None:
        held, self._held = self._held, None
        if held is not None:
            self.answers.store(held.answer, held.live_text, held.index, self.now, kind)

    # -- playout bookkeeping -------------------------------------------------------------
    def _on_played(self, chunk: AudioChunk) -> None:
        self.recorder.write_interviewer(chunk)
        self.speaker.on_played(chunk)

    def _record_line(self, line: Line, kind: str, start: float, end: float) -> None:
        index = self._next_turn_index()
        self.observer.on_turn(TurnRecord(
            index, "interviewer", kind, line.text, round(start, 3), round(end, 3),
            line.question_index, line.kind is MoveKind.FOLLOW_UP, source=line.source,
        ))

    async def _wind_down(self) -> None:
        if self._reply is not None and not self._reply.done():
            self._reply.cancel()
        self.playout.store_heard(self.now, cut_at=self.now)
        self._commit_held()
        if self.answer is not None and self.answer.has_speech:
            answer, self.answer = self.answer, None
            index = self.answers.index_of(answer)
            try:  # the call ended mid-answer: keep what was said
                text = await asyncio.wait_for(answer.finish_live(), floor.FINAL_DECODE_TIMEOUT)
            except (TimeoutError, asyncio.CancelledError):
                log.warning("session.partial_answer_text_lost", extra={"turn": index})
                text = answer.live.text  # the audio is kept and decoded in full below
            self.answers.store(answer, text, index, self.now)
        if self.state.final_tasks:
            await asyncio.wait(set(self.state.final_tasks), timeout=floor.FINAL_DECODE_TIMEOUT)
        self.emit(ev.SESSION_END, completed=int(self.completed), asr_cpu_s=round(self.state.asr_cpu_s, 3),
                  speech_s=round(self.state.speech_s, 3))
        await self.transport.close()


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("session.task_failed", exc_info=task.exception())
