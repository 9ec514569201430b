"""Phone media stream: a Twilio Media Streams websocket as a `Transport`. No dialogue logic.

Inbound mu-law 8 kHz `media` becomes 16 kHz 20 ms frames on a timeline counted in samples.
Outbound audio is cut into 20 ms mu-law `media` messages sent in real time (at most `lead`
seconds ahead, so a `clear` on barge-in silences the caller within ~100 ms), with a `mark`
after every `mark_every` frames. Twilio echoes a mark once the audio before it has played:
only then does audio count as heard (`on_played`), and `playing_until` includes everything
sent but not yet acknowledged. The websocket sits behind `MessageSocket`, so this module knows
nothing of Starlette or `web`.

`duck(0)` pauses the sender and `clear`s what Twilio holds, to play on if the mute is lifted
(see phone_playout.py).

Bad input never ends the call by itself: a malformed message is logged and skipped. The stream
is closed with code 1008 and a reason only when it cannot be a real Twilio stream: anything but
`connected` before `start`, more than `max_bad_messages` bad messages, or a message flood.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable

import numpy as np

from milo_voice.errors import BadMedia, ProtocolViolation, TransportClosed
from milo_voice.media import mulaw
from milo_voice.media.ducking import Ducker
from milo_voice.media.halfband import Downsampler
from milo_voice.media.transports import twilio_protocol as tp
from milo_voice.media.transports.phone_framer import PhoneFramer
from milo_voice.media.transports.phone_playout import SentFrame, at_gain
from milo_voice.media.transports.twilio_limits import MessageBudget, StreamLimits
from milo_voice.media.transports.websocket import MessageSocket
from milo_voice.media.types import FRAME_SAMPLES, FRAME_SECONDS, SAMPLE_RATE, AudioChunk

log = logging.getLogger(__name__)

PHONE_FRAME = 160
"""Samples (= mu-law bytes) in 20 ms at 8 kHz."""
CLOSE_POLICY = 1008
"""Websocket close code for a peer that broke the protocol (RFC 6455 "policy violation")."""


class TwilioStreamTransport:
    """One phone call over a Twilio Media Streams websocket; implements `Transport`.

    Call `open()` first: it reads `connected` and `start`, then runs a reader task (media, marks,
    dtmf, stop) and a paced sender task until `close()`.
    """

    def __init__(
        self,
        socket: MessageSocket,
        *,
        limits: StreamLimits | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.socket = socket
        self.limits = limits or StreamLimits()
        self.call_id = ""
        self.start: tp.Start | None = None
        self.on_played: Callable[[AudioChunk], None] | None = None
        self.digits: asyncio.Queue[str] = asyncio.Queue()
        """Keys the caller pressed, in order."""
        self.ended_by = ""
        """Why the stream ended: "stop", "dropped", "closed" or the protocol violation."""
        self.bad_messages = 0
        self.ended = asyncio.Event()
        """Set once no more inbound audio will come (stop, drop, violation or close)."""
        self.dropped_frames = 0
        """Inbound frames dropped because nobody consumed them (an overloaded server)."""
        self._inbound_kept = True  # False from `skip_inbound` to `restart_clock`
        self._drained = asyncio.Event()
        self._drained.set()
        self._clock = clock
        self._frames: asyncio.Queue[AudioChunk | None] = asyncio.Queue()
        self._down, self._ducker = Downsampler(), Ducker()
        self._framer = PhoneFramer(max_gap_fill=self.limits.max_gap_fill)
        self._media_now = 0.0  # end of the latest inbound frame (s)
        self._consumed_now = 0.0  # end of the latest frame handed to the consumer (s)
        self._unsent: deque[tuple[bytes, bytes]] = deque()  # (16 kHz pcm, mu-law) per 20 ms
        self._group: list[SentFrame] = []  # sent frames not yet followed by a mark
        self._pending: dict[str, list[SentFrame]] = {}  # mark name -> frames it acknowledges
        self._paused = False
        """Silenced: nothing is sent until the gain comes back (or a clear)."""
        self._hush_generation, self._unacked, self._generation, self._marks_sent = -1, 0, 0, 0
        self._cancelled: set[str] = set()
        self._heard_in_utterance, self._heard_end, self._paced_until = 0, 0.0, 0.0
        self._wake, self._send_lock = asyncio.Event(), asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed, self._budget = False, MessageBudget(self.limits.max_rate, self.limits.burst)

    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    # -- setup ---------------------------------------------------------------------------
    async def open(self) -> tp.Start:
        """Read `connected` (optional) and `start`; a protocol violation closes the socket and raises."""
        try:
            async with asyncio.timeout(self.limits.handshake_timeout):
                start = await self._read_start()
        except TimeoutError:
            await self._violation("no 'start' message within the handshake timeout")
            raise ProtocolViolation("no 'start' message within the handshake timeout") from None
        except ProtocolViolation as exc:
            await self._violation(str(exc))
            raise
        self.start, self.call_id = start, start.call_sid
        self._tokens_at = self._now()
        self._tasks = [asyncio.ensure_future(self._read()), asyncio.ensure_future(self._send_loop())]
        log.info("twilio.stream_started", extra={"call_id": start.call_sid, "stream": start.stream_sid})
        return start

    async def _read_start(self) -> tp.Start:
        while True:
            text = await self.socket.receive()
            if text is None:
                raise TransportClosed("the caller hung up before the stream started")
            message = tp.parse_twilio(text)
            if isinstance(message, tp.Start):
                return message
            if not isinstance(message, tp.Connected):
                raise ProtocolViolation(f"'{type(message).__name__.lower()}' before 'start'")

    async def _violation(self, reason: str) -> None:
        log.warning("twilio.protocol_violation", extra={"reason": reason[:200]})
        self.ended_by = reason
        await self.close(CLOSE_POLICY, reason)

    # -- Transport -------------------------------------------------------------------------
    async def inbound(self) -> AsyncIterator[AudioChunk]:
        while True:
            chunk = await self._frames.get()
            if chunk is None:
                self._frames.put_nowait(None)  # the end stays visible to any later reader
                return
            self._consumed_now = chunk.end
            yield chunk

    async def play(self, chunk: AudioChunk) -> None:
        if chunk.sample_rate != SAMPLE_RATE:
            raise BadMedia(f"phone playout of {chunk.sample_rate} Hz audio; expected {SAMPLE_RATE} Hz")
        samples = np.frombuffer(chunk.pcm, dtype="<i2")
        if len(samples) % FRAME_SAMPLES:
            pad = np.zeros(FRAME_SAMPLES - len(samples) % FRAME_SAMPLES, np.int16)
            samples = np.concatenate([samples, pad])
        if self._idle():
            self._heard_in_utterance = 0
        self._drained.clear()
        phone = mulaw.encode(self._down.process(samples))
        for i in range(len(samples) // FRAME_SAMPLES):
            pcm = samples[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES].astype("<i2").tobytes()
            self._unsent.append((pcm, phone[i * PHONE_FRAME : (i + 1) * PHONE_FRAME]))
        self._wake.set()

    async def clear(self) -> float:
        heard = self._heard_in_utterance * FRAME_SECONDS
        idle = self._idle()
        self._generation += 1
        self._unsent.clear()
        self._paused = False
        self._ducker.reset()  # Twilio drops what it holds at once (no fade on the phone line)
        self._group = []
        self._cancelled.update(self._pending)
        self._pending.clear()
        self._unacked = 0
        self._heard_in_utterance = 0
        self._paced_until = 0.0
        self._drained.set()
        if self.start is not None and not self._closed and not idle:
            with contextlib.suppress(TransportClosed):
                await self._send(tp.to_json(tp.Clear(self.start.stream_sid)))
        return heard

    def playing_until(self) -> float:
        queued = len(self._unsent) + len(self._group) + self._unacked
        return self._consumed_now + queued * FRAME_SECONDS

    def duck(self, gain: float) -> None:
        if gain <= 0.0:
            if not self._paused:
                self._paused = True
                self._tasks.append(asyncio.ensure_future(self._hush()))
            return
        if self._paused:  # play on from what the caller had not heard, fading in over one frame
            self._paused = False
            self._ducker.gain = 0.0
            self._wake.set()
        self._ducker.duck(gain)

    async def _hush(self) -> None:
        """Stop the caller hearing the reply now: `clear` what Twilio holds and keep it to play later."""
        if self.start is None or self._closed or not (self._group or self._pending):
            return
        self._generation += 1
        self._hush_generation = self._generation
        unheard = [f for frames in self._pending.values() for f in frames] + self._group
        self._cancelled.update(self._pending)
        self._pending.clear()
        self._group = []
        self._unacked = 0
        self._unsent.extendleft((f.pcm, f.phone) for f in reversed(unheard))
        self._paced_until = 0.0
        with contextlib.suppress(TransportClosed):
            await self._send(tp.to_json(tp.Clear(self.start.stream_sid)))
        log.debug("twilio.hushed", extra={"frames": len(unheard)})

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self._closed:
            return
        self._closed = True
        self.ended_by = self.ended_by or "closed"
        self.ended.set()
        self._drained.set()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        self._frames.put_nowait(None)
        self._wake.set()
        try:
            await self.socket.close(code, reason[:120])
        except Exception:  # the peer may already be gone
            log.debug("twilio.close_failed", exc_info=True)

    # -- extras for channels ----------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    async def drained(self) -> None:
        """Return once everything played so far has been heard (or cleared, or the call ended)."""
        await self._drained.wait()

    def skip_inbound(self) -> None:
        """Keep no inbound audio until `restart_clock` (the notice and the keypad read only keys)."""
        self._inbound_kept = False

    def restart_clock(self) -> None:
        """Start the media timeline again at 0 (after a keypad step, before the interview):
        drops buffered inbound frames. Call `clear()` first if audio was playing."""
        self._inbound_kept = True
        while not self._frames.empty():
            item = self._frames.get_nowait()
            if item is None:
                self._frames.put_nowait(None)
                break
        self._framer.restart()
        self._media_now = self._consumed_now = self._heard_end = 0.0

    # -- reader ------------------------------------------------------------------------------
    async def _read(self) -> None:
        try:
            while not self._closed:
                text = await self.socket.receive()
                if text is None:
                    self.ended_by = self.ended_by or "dropped"
                    return
                if not self._budget.take(self._now()):
                    await self._violation(f"message flood: more than {self.limits.max_rate:.0f} messages/s")
                    return
                try:
                    message = tp.parse_twilio(text)
                    if self._handle(message):
                        return
                except ProtocolViolation as exc:
                    self.bad_messages += 1
                    log.warning("twilio.bad_message",
                                extra={"reason": str(exc)[:200], "count": self.bad_messages})
                    if self.bad_messages > self.limits.max_bad_messages:
                        await self._violation(f"too many bad messages; last: {exc}")
                        return
        except Exception:  # task root: the call ends, the session keeps what it has
            log.exception("twilio.reader_failed")
            self.ended_by = self.ended_by or "reader failed"
        finally:
            self._frames.put_nowait(None)
            self.ended.set()
            self._drained.set()

    def _handle(self, message: tp.TwilioEvent) -> bool:
        """Act on one message; True when the stream is over."""
        start = self.start
        assert start is not None
        if isinstance(message, tp.Connected | tp.Start):
            raise ProtocolViolation(f"a second '{type(message).__name__.lower()}' message")
        if message.stream_sid and message.stream_sid != start.stream_sid:
            raise ProtocolViolation(f"{type(message).__name__.lower()} for another stream")
        if isinstance(message, tp.Media):
            if message.track in ("inbound", "inbound_track"):
                self._on_media(message)
        elif isinstance(message, tp.Mark):
            self._on_mark(message.name)
        elif isinstance(message, tp.Dtmf):
            self.digits.put_nowait(message.digit)
        elif isinstance(message, tp.Stop):
            self.ended_by = "stop"
            return True
        return False

    def _on_media(self, media: tp.Media) -> None:
        for chunk in self._framer.push(media.payload, media.timestamp):
            self._media_now = chunk.end
            if not self._inbound_kept:  # before the interview (the notice, the keypad): nobody reads it
                continue
            if self._frames.qsize() >= self.limits.max_backlog:
                self._frames.get_nowait()
                self.dropped_frames += 1
                if self.dropped_frames == 1:
                    log.warning("twilio.inbound_backlog_dropped")
            self._frames.put_nowait(chunk)

    def _on_mark(self, name: str) -> None:
        if name in self._cancelled:  # echoed for audio a `clear` dropped: never heard
            self._cancelled.discard(name)
            return
        if name not in self._pending:
            log.info("twilio.unknown_mark")
            return
        while self._pending:  # marks come back in order; anything before this one was played too
            first, frames = next(iter(self._pending.items()))
            del self._pending[first]
            self._unacked -= len(frames)
            self._heard(frames)
            if first == name:
                break
        if self._idle():
            self._drained.set()

    def _heard(self, frames: list[SentFrame]) -> None:
        """The caller has heard `frames`, which ended about now on the call's timeline."""
        self._heard_in_utterance += len(frames)
        for i, frame in enumerate(frames):
            at = max(self._media_now - (len(frames) - i) * FRAME_SECONDS, self._heard_end)
            self._heard_end = at + FRAME_SECONDS
            if self.on_played is not None:
                self.on_played(AudioChunk(frame.heard, SAMPLE_RATE, round(at, 6)))

    # -- paced sender --------------------------------------------------------------------------
    def _idle(self) -> bool:
        return not self._unsent and not self._group and not self._pending

    async def _send(self, text: str) -> None:
        async with self._send_lock:
            await self.socket.send(text)

    async def _send_loop(self) -> None:
        start = self.start
        assert start is not None
        try:
            while not self._closed:
                if not self._unsent or self._paused:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                now = self._now()
                self._paced_until = max(self._paced_until, now)
                ahead = self._paced_until - now
                if ahead > self.limits.lead:
                    await asyncio.sleep(ahead - self.limits.lead)
                    continue
                generation = self._generation
                original = self._unsent.popleft()
                pcm, phone = at_gain(self._ducker, *original)
                self._paced_until += FRAME_SECONDS
                await self._send(tp.to_json(tp.Media(phone, track="outbound", stream_sid=start.stream_sid),
                                            outbound=True))
                if generation != self._generation:  # a clear came while this frame was on its way
                    if self._paused and self._generation == self._hush_generation:
                        self._unsent.appendleft(original)  # hushed, not stopped: it plays later
                    continue
                self._group.append(SentFrame(pcm, *original))
                if len(self._group) >= self.limits.mark_every or not self._unsent:
                    await self._send_mark(start.stream_sid)
        except TransportClosed:
            self.ended_by = self.ended_by or "dropped"
        except Exception:  # task root
            log.exception("twilio.sender_failed")
        finally:
            if not self._closed:  # the socket is unusable: end the call as a drop would
                self._frames.put_nowait(None)
                self.ended.set()
                self._drained.set()

    async def _send_mark(self, stream_sid: str) -> None:
        self._marks_sent += 1
        name = f"m{self._marks_sent}"
        group, self._group = self._group, []
        self._pending[name] = group
        self._unacked += len(group)
        generation = self._generation
        await self._send(tp.to_json(tp.Mark(name, stream_sid), outbound=True))
        if generation != self._generation and name in self._pending:
            del self._pending[name]
            self._unacked -= len(group)
            self._cancelled.add(name)
