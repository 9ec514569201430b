"""The `webrtc` channel of bench/turns.py: an aiortc peer plays the candidate's browser against the real app.

    .venv/bin/python bench/turns.py --channel webrtc --speakers librispeech_367   # ~3 min
    .venv/bin/python bench/turns.py --channel webrtc                             # all 21 answers

Per speaker, one interview (one question per answer) and one browser call, as the page makes it:
POST /api/rtc/{token}/offer with the peer's SDP offer and the `control` data channel. The peer
sends Opus (aiortc's encoder, 48 kHz, 20 ms frames paced in real time) and follows the fake
Twilio caller's rules (tests/fakes/twilio_caller.py): each answer (16 kHz wav resampled to 48 kHz,
its 6 s room-noise tail included) starts `human_delay` after the interviewer went quiet; its tail
stops when the interviewer is heard after the answer's true end; between answers, that room noise
looped. Interviewer audio is a received frame at or above `AUDIBLE_DBFS`: the server's track sends
digital silence when it has nothing to say. Every received frame is logged with its arrival call
time (after aiortc's receive jitter buffer, as a browser's) and level. The call ends on the
server's `hangup` message.

The server's media time is not the call's clock; bench/turns_webrtc_clock.py moves the session's
events onto it by finding each answer in the session's recording. The server's own clock (the
events' `mono`, the same monotonic clock) gives the inbound latency as a check. Measured on 2 cores:
the server processes candidate audio ~110 ms after it was sent (its aiortc jitter buffer holds 4
frames) and its audio reaches the peer ~120 ms after it was handed to its track, so a reply is
heard ~0.23 s after the decision (the phone harness: ~0 s, it has no jitter buffers).
tests/calls/test_turns_webrtc_harness.py runs this peer against the real app.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import turns_webrtc_clock as clock
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from fakes.twilio_caller import QUIET, AnswerLog, CallerAnswer
from turns_score import AUDIBLE_DBFS, SPEECH, frame_dbfs
from turns_wire import OUT, QUESTION, HeardCall, app_server, event_dicts, save_calls

from milo_voice.media.pcm import read_wav, resample
from milo_voice.media.transports.webrtc_offer import CONTROL_LABEL
from milo_voice.settings import Settings

RATE = 48_000
FRAME = 960
TICK = clock.TICK
WAV_RATE = clock.WAV_RATE
"""Samples in 20 ms at 48 kHz."""
HANGUP_WAIT = 2.0
"""Seconds to keep listening after `hangup` (the server lingers 0.5 s so its last words arrive)."""


class Answerer:
    """What the candidate sends next, from what they heard: the fake Twilio caller's rules at 48 kHz.
    Pure: call times are passed in."""

    def __init__(self, answers: Sequence[CallerAnswer], human_delay: float) -> None:
        self.answers, self.human_delay = list(answers), human_delay
        self.audio = [resample(a.samples, WAV_RATE, RATE) for a in answers]
        self.played: list[AnswerLog] = []
        self._next = 0
        self._current: tuple[int, int] | None = None  # answer index, next sample
        self._prompted = False
        self._last_heard: float | None = None
        self._speaking_since: float | None = None
        self._noise_pos = 0

    def hear(self, t: float, dbfs: float) -> None:
        """A frame of the interviewer's track arrived at call time `t`."""
        if dbfs < AUDIBLE_DBFS:
            if self._last_heard is not None and t - self._last_heard > QUIET:
                self._speaking_since = None
            return
        self._last_heard = t
        if self._speaking_since is None:
            self._speaking_since = t
        self._prompted = True
        if self._current is not None:  # the interviewer speaks after the true end: stop the tail
            index, pos = self._current
            if pos / RATE >= self.answers[index].speech_end:
                self.stop(t)

    def stop(self, t: float) -> None:
        if self._current is not None:
            self.played[-1].stopped = t
            self._current = None

    def frame(self, t: float) -> np.ndarray:
        """The FRAME samples (int16) sent at call time `t`."""
        if self._current is None and self._should_start(t):
            self._current = (self._next, 0)
            self.played.append(AnswerLog(t, t + self.answers[self._next].speech_end))
            self._next += 1
            self._prompted = False
        if self._current is None:
            return self._noise()
        index, pos = self._current
        audio = self.audio[index]
        piece = audio[pos : pos + FRAME]
        if pos + FRAME >= len(audio):
            piece = np.concatenate([piece, np.zeros(FRAME - len(piece), np.int16)])
            self.stop(t + TICK)
        else:
            self._current = (index, pos + FRAME)
        return piece

    def _should_start(self, t: float) -> bool:
        if self._next >= len(self.answers):
            return False
        talk_over = self.answers[self._next].talk_over
        if talk_over is not None:
            return self._speaking_since is not None and t - self._speaking_since >= talk_over
        return self._prompted and self._last_heard is not None and t - self._last_heard >= self.human_delay

    def _noise(self) -> np.ndarray:
        """Between answers: the room noise after the next (or last) answer's speech, looped."""
        if not self.answers:
            return np.zeros(FRAME, np.int16)
        index = min(self._next, len(self.answers) - 1)
        tail = self.audio[index][int((self.answers[index].speech_end + 0.3) * RATE) :]
        if len(tail) < FRAME * 10:
            return np.zeros(FRAME, np.int16)
        start = self._noise_pos % (len(tail) - FRAME)
        self._noise_pos = start + FRAME
        return tail[start : start + FRAME]


@dataclass(slots=True)
class PeerLog:
    """One browser call as the peer lived it; times are call time (s since the offer was made)."""

    zero_mono: float
    """time.monotonic() at call time 0 (the server's events carry the same clock)."""
    heard: list[tuple[float, float]] = field(default_factory=list)
    """(arrival call time, dBFS) of every frame received on the interviewer's track."""
    answers: list[AnswerLog] = field(default_factory=list)
    sent: int = 0
    late_ticks: list[float] = field(default_factory=list)
    """How late (s) each of the peer's 20 ms frames more than a frame late was handed to the encoder."""
    messages: list[dict[str, Any]] = field(default_factory=list)
    """The control channel's messages (state, caption, hangup)."""
    hung_up: bool = False
    duration: float = 0.0


class Microphone(MediaStreamTrack):
    """The peer's outbound track: the `Answerer`'s frames, paced 20 ms apart from the first one asked for."""

    kind = "audio"

    def __init__(self, answerer: Answerer, log: PeerLog, zero: float) -> None:
        super().__init__()
        self.answerer, self.log, self.zero = answerer, log, zero
        self._first: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._first is None:
            self._first = loop.time() - self.zero
        n = self.log.sent
        t = self._first + n * TICK
        delay = self.zero + t - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif -delay > TICK:
            self.log.late_ticks.append(round(-delay, 3))
        piece = self.answerer.frame(round(t, 3))
        frame = av.AudioFrame.from_ndarray(piece.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.time_base, frame.pts = RATE, fractions.Fraction(1, RATE), n * FRAME
        self.log.sent += 1
        return frame


async def _listen(track: MediaStreamTrack, answerer: Answerer, log: PeerLog, zero: float,
                  lost: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    try:
        while True:
            frame = await track.recv()
            data = frame.to_ndarray().reshape(-1)
            if frame.layout.name == "stereo":  # packed s16: L R L R ...
                data = data.reshape(-1, 2).mean(axis=1)
            t, level = round(loop.time() - zero, 3), round(frame_dbfs(data), 1)
            log.heard.append((t, level))
            answerer.hear(t, level)
    except MediaStreamError:
        lost()


async def _offer(pc: RTCPeerConnection, base: str, token: str) -> None:
    """Signalling as the page does it: the SDP offer (with consent to the notice version the candidate
    page shows) to the link's offer route."""
    await pc.setLocalDescription(await pc.createOffer())
    async with httpx.AsyncClient(timeout=30) as client:
        page = (await client.get(f"{base}/i/{token}")).text
        config = json.loads(page.split('id="milo-config">', 1)[1].split("</script>", 1)[0])
        offer = {"sdp": pc.localDescription.sdp, "type": "offer", "consent": True,
                 "notice_version": config["noticeVersion"]}
        response = await client.post(f"{base}/api/rtc/{token}/offer", json=offer)
    if response.status_code != 200:
        raise RuntimeError(f"offer refused: {response.status_code} {response.text[:200]}")
    answer = response.json()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))


async def talk(base: str, token: str, answers: Sequence[CallerAnswer], *, human_delay: float,
               max_duration: float) -> PeerLog:
    """One browser call on the candidate link `token`, to the server's hangup or `max_duration`."""
    loop = asyncio.get_running_loop()
    zero = loop.time()
    log = PeerLog(time.monotonic())
    answerer = Answerer(answers, human_delay)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # loopback: no STUN
    over, gone = asyncio.Event(), asyncio.Event()
    """The call is over (hangup, or the connection lost); the connection is gone."""

    def lost() -> None:
        gone.set()
        over.set()

    readers: list[asyncio.Task[None]] = []
    channel = pc.createDataChannel(CONTROL_LABEL)

    @channel.on("message")
    def on_message(message: str | bytes) -> None:
        data = json.loads(message)
        log.messages.append(data)
        if data.get("type") == "hangup":
            log.hung_up = True
            over.set()

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            readers.append(asyncio.ensure_future(_listen(track, answerer, log, zero, lost)))

    @pc.on("connectionstatechange")
    def on_state() -> None:
        if pc.connectionState in ("failed", "closed"):
            lost()

    mic = Microphone(answerer, log, zero)
    pc.addTrack(mic)
    try:
        await _offer(pc, base, token)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(over.wait(), max(max_duration - (loop.time() - zero), 0.1))
        if log.hung_up:  # the last words are still on their way
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gone.wait(), HANGUP_WAIT)
    finally:
        log.duration = round(loop.time() - zero, 3)
        answerer.stop(log.duration)
        log.answers = answerer.played
        mic.stop()
        await pc.close()
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    return log


def stored_session(engine: Any, candidate_id: int, limit: float = 30.0) -> Any:
    """The candidate's newest session once it is no longer live (None if it never was stored)."""
    from milo_voice.workspace.review import Review

    row = None
    for _ in range(int(limit / 0.1)):  # the server finishes storing after the peer closed
        rows = Review(engine).sessions(candidate_id)
        row = rows[0] if rows else None
        if row is not None and row.status != "live":
            break
        time.sleep(0.1)
    return row


def heard_call(speaker: str, group: list[dict[str, Any]], answers: Sequence[CallerAnswer], log: PeerLog,
               engine: Any, candidate_id: int) -> tuple[HeardCall, list[clock.Offset], list[float]]:
    """The call as `summarise_calls` scores it, the answers' offsets, and the inbound latencies (s)."""
    from milo_voice.calls.session_store import SessionStore

    store = SessionStore(engine)
    session = stored_session(engine, candidate_id)
    rows = store.events(session.id) if session is not None and session.id is not None else []
    starts = [a.start for a in log.answers]
    offsets: list[clock.Offset] = []
    if session is not None and session.recording_path and Path(session.recording_path).is_file():
        offsets = clock.align(clock.recorded_candidate(Path(session.recording_path)), answers, starts)
    edges = clock.edge_clock(rows, log.zero_mono)
    fallback = min((c - m for m, c in edges), default=0.0)  # assumes the fastest edge had no latency
    events = clock.on_call_time(event_dicts(rows), offsets, fallback)
    latency = [c - m - clock.offset_at(m, offsets, fallback) for m, c in edges]
    status = session.status if session is not None else ""
    call = HeardCall("webrtc", speaker, group, log.heard, [(a.start, a.speech_end) for a in log.answers],
                     log.duration, events, session.id if session is not None else None, status == "completed")
    return call, offsets, latency


# -- the channel ----------------------------------------------------------------------------------
def run_webrtc(groups: dict[str, list[dict[str, Any]]], settings: Settings) -> list[HeardCall]:
    """One browser call per speaker against the real app (a subprocess), one after another."""
    from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
    from milo_voice.store.db import create_engine, migrate
    from milo_voice.workspace.candidates import Candidates
    from milo_voice.workspace.interviews import Interviews

    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="turns-webrtc-", dir=OUT))
    db = f"sqlite:///{tmp / 'bench.db'}"
    migrate(db)
    engine = create_engine(db)
    plan = []
    for k, (speaker, group) in enumerate(groups.items()):
        script = InterviewScript(title=f"turns webrtc {speaker}", questions=tuple(
            Question(QUESTION.format(n=i + 1), AnswerShape.EXPLANATION, max_follow_ups=0)
            for i in range(len(group))))
        interview_id = Interviews(engine).add_script(script, slug=f"turns-webrtc-{k}")
        candidate = Candidates(engine).enrol(interview_id=interview_id, name=speaker,
                                             email=f"candidate{k}@example.com")
        plan.append((speaker, group, candidate))
    calls = []
    with app_server(db, tmp / "rec") as base:
        for speaker, group, candidate in plan:
            started = time.perf_counter()
            answers = [CallerAnswer(read_wav(SPEECH / e["audio"]), float(e["speech_end_s"])) for e in group]
            limit = sum(float(e["duration_s"]) + 40 for e in group) + 60
            log = asyncio.run(talk(base, candidate.token, answers, human_delay=settings.human_delay,
                                   max_duration=limit))
            if not log.hung_up:  # as the page's end button: the session stores its end
                httpx.post(f"{base}/api/rtc/{candidate.token}/end", timeout=30)
            call, offsets, latency = heard_call(speaker, group, answers, log, engine, candidate.id)
            call.wall_s = round(time.perf_counter() - started, 1)
            calls.append(call)
            shifts = ", ".join(f"{o.offset * 1000:.0f} ms ({o.match:.2f})" for o in offsets)
            lat = sorted(latency)
            print(f"  webrtc {speaker}: {len(log.answers)} of {len(group)} answers, session "
                  f"{'completed' if call.completed else 'not completed'}, {log.duration:.0f} s call, "
                  f"hangup {log.hung_up}, late frames {len(log.late_ticks)} (max "
                  f"{max(log.late_ticks, default=0) * 1000:.0f} ms); call - media time per answer: "
                  f"{shifts or '-'}; inbound latency min/p50 "
                  f"{lat[0] * 1000 if lat else 0:.0f}/{lat[len(lat) // 2] * 1000 if lat else 0:.0f} ms",
                  file=sys.stderr, flush=True)
    save_calls(tmp / "calls.json", calls)
    return calls
