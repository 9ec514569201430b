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

import numpy as np

from milo_voice.dialogue import events as ev
from milo_voice.dialogue import floor
from milo_voice.dialogue.answer import Answer
from milo_voice.dialogue.planner import Line, MoveKind, PlanContext, Planner, word_count
from milo_voice.dialogue.script import (
    CHECK_IN_LINES,
    MIN_WORDS,
    PATIENCE,
    REPEAT_LINE,
    TIME_LINE,
    InterviewScript,
    Question,
)
from milo_voice.dialogue.session_types import (
    DialogueState,
    Engines,
    HeldAnswer,
    SessionObserver,
    TurnRecord,
)
from milo_voice.dialogue.speaker import Speaker
from milo_voice.dialogue.text_cues import Request, request_kind
from milo_voice.dialogue.turn_policy import Decision, Rhythm, TurnParams
from milo_voice.media.asr import decode_final, is_noise_text
from milo_voice.media.ducking import DUCK_GAIN
from milo_voice.media.recorder import Recorder
from milo_voice.media.types import FRAME_SECONDS, AudioChunk, Transport
from milo_voice.media.vad import FrameVad, SpeechEdge, SpeechSegmenter

log = logging.getLogger(__name__)

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
        self.rhythm = Rhythm()
        """The candidate's own pauses, learnt across the session's answers."""
        self._held: HeldAnswer | None = None
        self._stopping = False
        self._ducked = False  # the transport's volume is lowered under the candidate's speech
        self._eot_due: float | None = None  # when an end of turn first came due (onset grace)
        self._loud_at = -1.0  # end of the latest frame at speech level
        self._loud_run = 0.0  # seconds of frames at speech level in a row, up to now
        self._early_mute_at: float | None = None  # when an unconfirmed onset silenced the reply
        self._unasked: tuple[list[Line], float] | None = None
        """Lines with a question a barge-in cut outside any reply, and when (asked again if noise)."""
        self._spoken: list[tuple[Line, float]] = []  # the current reply's lines, till they end or a cut
        self._queued: list[tuple[Line, str, float, float]] = []
        """Interviewer lines queued for playout and not yet stored: (line, kind, start, end)."""
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
        if self.vad.loud:
            self._loud_at = chunk.end
        self._loud_run = self._loud_run + FRAME_SECONDS if self.vad.loud else 0.0
        if edge is not None:
            self._speech_since = edge.at if edge.speaking else None
            self.emit(ev.SPEECH_START if edge.speaking else ev.SPEECH_END, at=round(edge.at, 3))
        if self._held is not None:
            self._held.answer.append(chunk)  # the held answer's audio stays continuous
        if not self._stopping:
            self._update_duck()
        if self._busy():
            if not self._stopping:
                self._watch_false_end()
                self._watch_barge_in()
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
        self.answer.append(chunk)
        if edge is not None:
            self.answer.on_edge(edge)
        if self._unasked and floor.noise_only(self.answer.policy, self.now, since=self._unasked[1]):
            self._ask_again()
            return
        decision = self.answer.decide(self.now)
        if decision is Decision.END_OF_TURN and self._onset_in_progress():
            return
        self._eot_due = None
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
            asr_executor=self.engines.asr_executor,
            detector=self.engines.detector,
            detector_executor=self.engines.detector_executor,
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

    def _onset_in_progress(self) -> bool:
        """An end of turn is due but the last frames (an unconfirmed speech frame, or a loud one)
        may be the candidate going on: wait for the VAD, at most `ONSET_GRACE`."""
        loud = self.now - self._loud_at <= floor.LOUD_RECENT + 1e-9
        if self.segmenter.onset_pending() is None and not loud:
            return False
        if self._eot_due is None:
            self._eot_due = self.now
        return self.now - self._eot_due < floor.ONSET_GRACE - 1e-9

    def _update_duck(self) -> None:
        """Yield the moment the candidate speaks over the interviewer: silent after 40 ms when it may
        be a false end (lifted if unconfirmed), else 12 dB quieter; back when the speech stops."""
        since = self._speech_since
        pending = self.segmenter.onset_pending() if since is None else None
        if self._ducked:
            early = self._early_mute_at
            unconfirmed = early is not None and since is None
            if (since is None and pending is None and self._loud_run == 0) or (
                unconfirmed and self.now - early >= floor.EARLY_MUTE_MAX - 1e-9  # type: ignore[operator]
            ):
                self._ducked = False
                self._early_mute_at = None
                self.transport.duck(1.0)
                self.emit(ev.DUCK, on=False, gain=1.0)
            elif since is not None:
                self._early_mute_at = None  # confirmed: the false-end watch takes over
            return
        if not (self._busy() and self.speaker.audible(self.now)):
            return
        early_at = pending if pending is not None else self.now - self._loud_run
        if since is not None:
            gain = 0.0 if self._may_resume(since) else DUCK_GAIN
            onset = since
        elif (max(self.segmenter.trailing_speech(), self._loud_run) >= floor.EARLY_MUTE - 1e-9
              and self._may_resume(early_at)):
            gain, onset = 0.0, early_at
            self._early_mute_at = self.now
        else:
            return
        self._ducked = True
        self.transport.duck(gain)
        self.emit(ev.DUCK, on=True, gain=gain, onset=round(onset, 3), confirmed=int(since is not None))

    def _watch_barge_in(self) -> None:
        since = self._speech_since
        if since is None or self.speaker.muted or not self.speaker.audible(self.now):
            return
        left = self.transport.playing_until() - self.now  # of the reply
        if self._repeats >= floor.MAX_REPEATS or left < floor.BARGE_IN_TAIL:
            return
        if any(line.kind is MoveKind.CLOSE for line, _ in self._spoken):
            return  # the closing is said to the end: nothing after it could be answered anyway
        if self.now - since >= floor.BARGE_IN_SPEECH:
            self._stop_reply(since, false_end=False)

    def _watch_false_end(self) -> None:
        """The candidate resumes the answer just after the interviewer decided it was over.

        The resumed run must last `FALSE_END_RUN`: a click or a room-noise burst does not cut the
        interviewer off mid-word.
        """
        since = self._speech_since
        if since is not None and self._may_resume(since) and self.now - since >= floor.FALSE_END_RUN - 1e-9:
            self._stop_reply(since, false_end=True)

    def _may_resume(self, speech_at: float) -> bool:
        """Speech starting at `speech_at` may continue the held answer: it is not final, the
        speech came within the recovery window, and "speech" has not twice been only noise."""
        held = self._held
        if held is None or held.final or self._repeats >= floor.MAX_REPEATS:
            return False
        return held.eot_at - floor.ONSET_LAG <= speech_at <= held.eot_at + floor.RECOVERY_WINDOW

    def _stop_reply(self, speech_since: float, *, false_end: bool) -> None:
        self._stopping = True
        self.speaker.muted = True
        self._barge = asyncio.ensure_future(self._yield_floor(speech_since, false_end))
        self._barge.add_done_callback(_log_failure)

    async def _yield_floor(self, speech_since: float, false_end: bool) -> None:
        """Stop the interviewer now; the candidate's speech continues the held answer, or starts one."""
        try:
            heard = await self.transport.clear()
            self._ducked = False  # clear() fades out from the ducked level and resets the gain
            if self._reply is not None:
                self._reply.cancel()
            self._record_heard(cut_at=self.now)
            unheard, self._spoken = [ln for ln, end in self._spoken if end > self.now + 0.2], []
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
        index = answer.turn_index if answer.turn_index is not None else self._next_turn_index()
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
            self._record_answer(held.answer, held.live_text, held.index, kind)

    def _record_answer(self, answer: Answer, live_text: str, index: int, kind: str = "answer") -> None:
        state = self.state
        state.check_ins = 0
        audio, offset = answer.speech_audio()
        start = answer.first_speech if answer.first_speech is not None else answer.start
        end = answer.last_speech_end if answer.last_speech_end is not None else self.now
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
            result = await decode_final(self.engines.asr, self.engines.asr_executor, audio, offset=offset)
        except Exception:  # task root: keep the live text, log the failure
            log.exception("session.final_decode_failed", extra={"turn": index})
            return
        self.state.asr_cpu_s += result.cpu_s
        self.observer.on_transcript(index, result.text, result.words)
        self.emit(ev.TRANSCRIPT_STORED, turn=index, asr_cpu_s=round(result.cpu_s, 3),
                  audio_s=round(result.audio_s, 3))

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
        self._commit_held()
        if self.answer is not None and self.answer.has_speech:
            answer, self.answer = self.answer, None
            index = answer.turn_index if answer.turn_index is not None else self._next_turn_index()
            try:  # the call ended mid-answer: keep what was said
                text = await asyncio.wait_for(answer.finish_live(), floor.FINAL_DECODE_TIMEOUT)
            except (TimeoutError, asyncio.CancelledError):
                log.warning("session.partial_answer_text_lost", extra={"turn": index})
                text = answer.live.text  # the audio is kept and decoded in full below
            self._record_answer(answer, text, index)
        if self.state.final_tasks:
            await asyncio.wait(set(self.state.final_tasks), timeout=floor.FINAL_DECODE_TIMEOUT)
        self.emit(ev.SESSION_END, completed=int(self.completed), asr_cpu_s=round(self.state.asr_cpu_s, 3),
                  speech_s=round(self.state.speech_s, 3))
        await self.transport.close()


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("session.task_failed", exc_info=task.exception())
