"""A fake Twilio: a `websockets` client that plays one phone call against `/phone/stream`.

It speaks the Media Streams wire format as Twilio documents it, written here by hand (not with
milo_voice's own protocol module, so a shared mistake cannot pass unnoticed): `connected`,
`start` with `customParameters`, inbound `media` every 20 ms in real time (mu-law 8 kHz, 160
bytes), `dtmf`, `stop`. It plays the server's `media` at real-time speed, echoes each `mark`
once the audio queued before it has played, and on `clear` drops its buffer and echoes the
pending marks at once, as Twilio does. The caller is a list of recorded answers: each starts
`human_delay` seconds after the interviewer went quiet, or, with `talk_over`, that many seconds
after the interviewer started speaking. Everything seen is logged for assertions and benchmarks.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from milo_voice.media import mulaw
from milo_voice.media.pcm import resample

FRAME = 160
"""mu-law bytes (= samples at 8 kHz) in 20 ms."""
TICK = 0.02
QUIET = 0.3
"""Seconds without interviewer audio after which the interviewer counts as having stopped."""


@dataclass(frozen=True, slots=True)
class CallerAnswer:
    samples: np.ndarray
    """16 kHz mono int16, as recorded."""
    speech_end: float
    """Seconds into the recording where the speech truly ends."""
    talk_over: float | None = None
    """Start this many seconds after the interviewer starts speaking (a barge-in), not after it stops."""

    def phone_audio(self) -> np.ndarray:
        return resample(self.samples, 16_000, 8_000)


@dataclass(slots=True)
class AnswerLog:
    start: float
    speech_end: float
    """Call time of the true end of speech."""
    stopped: float | None = None


@dataclass(slots=True)
class CallLog:
    """What the caller saw; times are seconds since the stream started (the caller's clock)."""

    heard: list[tuple[float, bytes]] = field(default_factory=list)
    """(call time, mu-law frame) for every 20 ms of interviewer audio played."""
    marks_received: list[str] = field(default_factory=list)
    marks_echoed: list[str] = field(default_factory=list)
    clears: list[float] = field(default_factory=list)
    answers: list[AnswerLog] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    """Silences (s, 40 ms to 1 s) between interviewer frames: playout that fell behind real time."""
    gap_ends: list[float] = field(default_factory=list)
    """The call time each of `gaps` ended (the frame after it was played)."""
    late_ticks: list[float] = field(default_factory=list)
    """How late (s) each of the caller's own 20 ms ticks ran (the caller's machine is busy too)."""
    bad_messages: list[str] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""
    duration: float = 0.0

    @property
    def heard_seconds(self) -> float:
        return len(self.heard) * TICK


class FakeTwilioCall:
    """One call. `run()` returns when the server hangs up, the caller hangs up, or `max_duration` passes."""

    def __init__(
        self,
        url: str,
        *,
        parameters: dict[str, str],
        answers: list[CallerAnswer],
        human_delay: float = 0.8,
        hangup_at: float | None = None,
        hangup_into_answer: float | None = None,
        hangup: str = "stop",
        dtmf: str = "",
        dtmf_after_heard: float = 1.0,
        max_duration: float = 300.0,
        stream_sid: str = "MZ00000000000000000000000000000001",
        call_sid: str = "CA00000000000000000000000000000001",
    ) -> None:
        if hangup not in ("stop", "drop"):
            raise ValueError(f"hangup={hangup!r}: expected 'stop' or 'drop'")
        self.url, self.parameters, self.answers = url, parameters, answers
        self.human_delay, self.hangup_at, self.hangup = human_delay, hangup_at, hangup
        self.hangup_into_answer = hangup_into_answer
        """Hang up this many seconds after the first answer started (mid-answer)."""
        self.dtmf, self.dtmf_after_heard, self.max_duration = dtmf, dtmf_after_heard, max_duration
        self.stream_sid, self.call_sid = stream_sid, call_sid
        self.log = CallLog()
        self._phone = [a.phone_audio() for a in answers]
        self._buffer: deque[tuple[str, bytes | str]] = deque()
        self._seq = 0
        self._next = 0
        self._current: tuple[int, int] | None = None  # answer index, next sample
        self._prompted = False
        self._last_heard: float | None = None
        self._speaking_since: float | None = None
        self._noise_pos = 0
        self._dtmf_sent = 0
        self._to_echo: list[str] = []
        self._now = 0.0

    # -- wire --------------------------------------------------------------------------
    def _msg(self, event: str, **body: object) -> str:
        self._seq += 1
        data: dict[str, object] = {"event": event, "sequenceNumber": str(self._seq),
                                   "streamSid": self.stream_sid}
        data.update(body)
        return json.dumps(data)

    async def run(self) -> CallLog:
        async with connect(self.url, max_size=2**20, open_timeout=10) as ws:
            await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
            await ws.send(self._msg("start", start={
                "accountSid": "AC00000000000000000000000000000001", "streamSid": self.stream_sid,
                "callSid": self.call_sid, "tracks": ["inbound"], "customParameters": self.parameters,
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            }))
            receiver = asyncio.ensure_future(self._receive(ws))
            try:
                await self._tick(ws, receiver)
            finally:
                receiver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await receiver
        return self.log

    async def _receive(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                self._on_server_message(raw)
        except ConnectionClosed:
            pass
        finally:
            if ws.close_code is not None:
                self.log.close_code, self.log.close_reason = ws.close_code, ws.close_reason or ""

    def _on_server_message(self, raw: str | bytes) -> None:
        try:
            data = json.loads(raw)
            if data.get("streamSid") != self.stream_sid:
                raise ValueError(f"streamSid {data.get('streamSid')!r}")
            event = data["event"]
            if event == "media":
                payload = base64.b64decode(data["media"]["payload"], validate=True)
                if len(payload) != FRAME:
                    raise ValueError(f"media payload of {len(payload)} bytes")
                self._buffer.append(("audio", payload))
            elif event == "mark":
                name = data["mark"]["name"]
                self.log.marks_received.append(name)
                self._buffer.append(("mark", name))
            elif event == "clear":
                self.log.clears.append(self._now)
                pending = [name for kind, name in self._buffer if kind == "mark"]
                self._buffer.clear()
                self._to_echo.extend(str(n) for n in pending)
            else:
                raise ValueError(f"event {event!r}")
        except (ValueError, KeyError, TypeError) as exc:
            self.log.bad_messages.append(f"{exc}: {str(raw)[:80]}")

    # -- the 20 ms clock -------------------------------------------------------------------
    async def _tick(self, ws: ClientConnection, receiver: asyncio.Future[None]) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        n = 0
        while not receiver.done():
            delay = started + n * TICK - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.log.late_ticks.append(-delay)
            self._now = t = n * TICK
            if t >= self.max_duration:
                break
            try:
                await self._echo_marks(ws)
                self._play_one(t)
                await self._send_dtmf(ws)
                payload = self._caller_frame(t)
                await ws.send(self._msg("media", media={
                    "track": "inbound", "chunk": str(n + 1), "timestamp": str(int(t * 1000)),
                    "payload": base64.b64encode(payload).decode("ascii"),
                }))
                if self._hangup_due(t):
                    await self._hang_up(ws)
                    break
            except ConnectionClosed:
                break
            n += 1
        self.log.duration = self._now
        if self._current is not None:
            self.log.answers[-1].stopped = self._now

    def _hangup_due(self, t: float) -> bool:
        if self.hangup_at is not None and t >= self.hangup_at:
            return True
        into = self.hangup_into_answer
        return into is not None and bool(self.log.answers) and t >= self.log.answers[0].start + into

    async def _echo_marks(self, ws: ClientConnection) -> None:
        """Marks whose audio has played (they sit at the head of the buffer), and those a clear released."""
        while self._buffer and self._buffer[0][0] == "mark":
            self._to_echo.append(str(self._buffer.popleft()[1]))
        for name in self._to_echo:
            await ws.send(self._msg("mark", mark={"name": name}))
            self.log.marks_echoed.append(name)
        self._to_echo = []

    def _play_one(self, t: float) -> None:
        if not self._buffer or self._buffer[0][0] != "audio":
            if self._last_heard is not None and t - self._last_heard > QUIET:
                self._speaking_since = None
            return
        frame = self._buffer.popleft()[1]
        assert isinstance(frame, bytes)
        if self._last_heard is not None and 2 * TICK <= t - self._last_heard + TICK / 2 < 1.0 + TICK:
            self.log.gaps.append(round(t - self._last_heard - TICK, 3))
            self.log.gap_ends.append(round(t, 3))
        self.log.heard.append((t, frame))
        self._last_heard = t
        if self._speaking_since is None:
            self._speaking_since = t
        self._prompted = True
        self._cut_tail(t)

    async def _send_dtmf(self, ws: ClientConnection) -> None:
        if self._dtmf_sent < len(self.dtmf) and self.log.heard_seconds >= self.dtmf_after_heard:
            digit = self.dtmf[self._dtmf_sent]
            await ws.send(self._msg("dtmf", dtmf={"track": "inbound_track", "digit": digit}))
            self._dtmf_sent += 1
            if self._dtmf_sent == len(self.dtmf):  # the keypad step is over: what comes next is the interview
                self._speaking_since, self._prompted = None, False

    async def _hang_up(self, ws: ClientConnection) -> None:
        if self.hangup == "stop":
            await ws.send(self._msg("stop", stop={"accountSid": "AC00000000000000000000000000000001",
                                                  "callSid": self.call_sid}))
            await ws.close()
        else:  # a dropped line: no stop, no close handshake
            ws.transport.abort()

    # -- the caller ----------------------------------------------------------------------------
    def _cut_tail(self, t: float) -> None:
        if self._current is None:
            return
        index, pos = self._current
        if pos / 8000 >= self.answers[index].speech_end:
            self.log.answers[-1].stopped = t
            self._current = None

    def _should_start(self, t: float) -> bool:
        if self._next >= len(self.answers) or self._dtmf_sent < len(self.dtmf):
            return False
        talk_over = self.answers[self._next].talk_over
        if talk_over is not None:
            return self._speaking_since is not None and t - self._speaking_since >= talk_over
        return self._prompted and self._last_heard is not None and t - self._last_heard >= self.human_delay

    def _caller_frame(self, t: float) -> bytes:
        if self._current is None and self._should_start(t):
            self._current = (self._next, 0)
            self.log.answers.append(AnswerLog(t, t + self.answers[self._next].speech_end))
            self._next += 1
            self._prompted = False
        if self._current is None:
            return mulaw.encode(self._noise())
        index, pos = self._current
        audio = self._phone[index]
        piece = audio[pos : pos + FRAME]
        if len(piece) < FRAME:
            piece = np.concatenate([piece, np.zeros(FRAME - len(piece), np.int16)])
        pos += FRAME
        if pos >= len(audio):
            self.log.answers[-1].stopped = t + TICK
            self._current = None
        else:
            self._current = (index, pos)
        return mulaw.encode(piece)

    def _noise(self) -> np.ndarray:
        """Between answers: the room noise after the next (or last) answer's speech, looped."""
        index = min(self._next, len(self.answers) - 1)
        if index < 0:
            return np.zeros(FRAME, np.int16)
        audio = self._phone[index]
        tail = audio[int((self.answers[index].speech_end + 0.3) * 8000) :]
        if len(tail) < FRAME * 10:
            return np.zeros(FRAME, np.int16)
        start = self._noise_pos % (len(tail) - FRAME)
        self._noise_pos = start + FRAME
        return tail[start : start + FRAME]
