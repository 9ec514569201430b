"""`TwilioStreamTransport` against an in-memory `MessageSocket`: framing, pacing, marks, clear, bad input."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

import numpy as np
import pytest

from milo_voice.errors import ProtocolViolation
from milo_voice.media import mulaw
from milo_voice.media.halfband import Downsampler, Upsampler
from milo_voice.media.transports.twilio import CLOSE_POLICY, TwilioStreamTransport
from milo_voice.media.transports.twilio_limits import MessageBudget, StreamLimits
from milo_voice.media.types import DUCK_GAIN, FRAME_SAMPLES, AudioChunk

SID = "MZ1"
T = TypeVar("T")


class MemorySocket:
    """A `MessageSocket` whose far end is the test: `incoming` feeds the transport, `sent` collects."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self.sent: list[dict[str, object]] = []
        self.closed: tuple[int, str] | None = None
        self.changed = asyncio.Event()

    async def receive(self) -> str | bytes | None:
        return await self.incoming.get()

    async def send(self, text: str) -> None:
        self.sent.append(json.loads(text))
        self.changed.set()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)
        self.changed.set()

    def feed(self, event: str, **body: object) -> None:
        self.incoming.put_nowait(json.dumps({"event": event, "streamSid": SID, **body}))

    def of(self, event: str) -> list[dict[str, object]]:
        return [m for m in self.sent if m["event"] == event]

    async def until(self, test: Callable[[], bool]) -> None:
        async with asyncio.timeout(5):
            while not test():
                self.changed.clear()
                await self.changed.wait()


def start_message() -> str:
    return json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": SID, "start": {
        "streamSid": SID, "callSid": "CA1", "accountSid": "AC1", "tracks": ["inbound"],
        "customParameters": {"ticket": "t"},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})


def media(payload: bytes, timestamp: int) -> dict[str, object]:
    return {"media": {"track": "inbound", "chunk": "1", "timestamp": str(timestamp),
                      "payload": base64.b64encode(payload).decode()}}


def run(coro: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(20):
            return await coro()
    return asyncio.run(bounded())


async def opened(
    limits: StreamLimits | None = None, clock: Callable[[], float] | None = None
) -> tuple[TwilioStreamTransport, MemorySocket]:
    sock = MemorySocket()
    sock.incoming.put_nowait('{"event": "connected", "protocol": "Call", "version": "1.0.0"}')
    sock.incoming.put_nowait(start_message())
    transport = TwilioStreamTransport(sock, limits=limits, clock=clock)
    start = await transport.open()
    assert start.custom_parameters == {"ticket": "t"} and transport.call_id == "CA1"
    return transport, sock


def tone(freq: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (8000 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def test_inbound_mulaw_becomes_20ms_frames_on_a_sample_clock() -> None:
    async def go() -> list[AudioChunk]:
        transport, sock = await opened()
        phone = mulaw.encode(tone(440, 0.5, 8000))
        for i in range(0, len(phone), 100):  # odd-sized payloads: still whole 20 ms frames out
            sock.feed("media", **media(phone[i : i + 100], i // 8))
        sock.feed("stop", stop={"callSid": "CA1"})
        frames = [chunk async for chunk in transport.inbound()]
        assert transport.ended_by == "stop"
        await transport.close()
        return frames

    frames = run(go)
    assert len(frames) == 25
    assert [f.start for f in frames] == pytest.approx([i * 0.02 for i in range(25)])
    assert all(len(f.pcm) == FRAME_SAMPLES * 2 and f.sample_rate == 16000 for f in frames)
    pcm = np.frombuffer(b"".join(f.pcm for f in frames[2:]), "<i2").astype(float)
    spectrum = np.abs(np.fft.rfft(pcm))
    assert abs(np.fft.rfftfreq(len(pcm), 1 / 16000)[spectrum.argmax()] - 440) < 10


def test_lost_media_is_filled_with_silence_so_the_clock_keeps_step() -> None:
    async def go() -> list[AudioChunk]:
        transport, sock = await opened()
        sock.feed("media", **media(bytes([0xFF]) * 160, 0))
        sock.feed("media", **media(bytes([0xFF]) * 160, 100))  # 80 ms lost in between
        sock.feed("stop")
        frames = [chunk async for chunk in transport.inbound()]
        await transport.close()
        return frames

    assert len(run(go)) == 6


async def drained(sock: MemorySocket) -> None:
    """Until the transport has read everything fed so far."""
    for _ in range(1000):
        if sock.incoming.empty():
            break
        await asyncio.sleep(0.01)  # the queue has no "emptied" event
    await asyncio.sleep(0.05)


def test_inbound_skipped_before_the_interview_is_not_buffered_and_the_interview_starts_at_zero(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The notice and the keypad read no audio: 30 s of it (more than the 10 s backlog) is neither kept
    nor dropped with a warning; after `restart_clock` the frames count from 0 again."""
    async def go() -> list[AudioChunk]:
        transport, sock = await opened(StreamLimits(max_rate=1e6, burst=10**6))  # fed at once, not a flood
        transport.skip_inbound()
        silence = bytes([0xFF]) * 160
        for i in range(1500):  # 30 s
            sock.feed("media", **media(silence, i * 20))
        await drained(sock)
        transport.restart_clock()
        for i in range(1500, 1505):
            sock.feed("media", **media(silence, i * 20))
        sock.feed("stop")
        frames = [chunk async for chunk in transport.inbound()]
        await transport.close()
        return frames

    frames = run(go)
    assert [round(f.start, 2) for f in frames] == [0.0, 0.02, 0.04, 0.06, 0.08]
    assert "twilio.inbound_backlog_dropped" not in [r.getMessage() for r in caplog.records]


def test_outbound_audio_is_paced_marked_and_heard_when_marks_come_back() -> None:
    async def go() -> None:
        now = [0.0]  # the pacing clock stands still until the test moves it
        transport, sock = await opened(clock=lambda: now[0])
        played: list[AudioChunk] = []
        ten_heard = asyncio.Event()

        def on_played(chunk: AudioChunk) -> None:
            played.append(chunk)
            if len(played) >= 10:
                ten_heard.set()

        transport.on_played = on_played
        audio = tone(300, 0.5, 16000)
        await transport.play(AudioChunk(audio.tobytes(), 16000, 0.0))
        assert transport.playing_until() == pytest.approx(0.5)
        await sock.until(lambda: len(sock.of("media")) >= 6)
        await asyncio.sleep(0.15)
        assert len(sock.of("media")) == 6  # paced: about 100 ms ahead of the clock, no more
        for step in range(1, 5):  # each 100 ms of clock releases 100 ms of audio
            now[0] = 0.1 * step + 0.001
            await sock.until(lambda: len(sock.of("media")) >= min(25, 6 + 5 * step))  # noqa: B023
        assert len(sock.of("media")) == 25
        marks = [m["mark"]["name"] for m in sock.of("mark")]  # type: ignore[index]
        assert len(marks) == 5 and len(set(marks)) == 5
        payloads = [base64.b64decode(m["media"]["payload"]) for m in sock.of("media")]  # type: ignore[index]
        assert all(len(p) == 160 for p in payloads)
        assert played == []  # nothing counts as heard before Twilio says so
        for name in marks[:2]:
            sock.feed("mark", mark={"name": name})
        await ten_heard.wait()
        assert b"".join(c.pcm for c in played) == audio[: 10 * FRAME_SAMPLES].tobytes()
        assert transport.playing_until() == pytest.approx(0.3)
        heard = await transport.clear()
        assert heard == pytest.approx(0.2)
        assert sock.of("clear") == [{"event": "clear", "streamSid": SID}]
        sock.feed("mark", mark={"name": marks[2]})  # echoed for cleared audio: not heard
        sock.feed("media", **media(bytes([0xFF]) * 160, 0))
        async for _ in transport.inbound():
            break
        assert len(played) == 10 and transport.playing_until() == pytest.approx(0.02)
        await transport.close()

    run(go)


def test_outbound_downsampling_keeps_speech_band_and_drops_what_8khz_cannot_carry() -> None:
    down, up = Downsampler(), Upsampler()
    low = down.process(tone(1000, 0.2, 16000))
    high = down.process(tone(6000, 0.2, 16000))
    assert len(low) == 1600 and len(up.process(low)) == 3200
    assert np.abs(low[100:]).max() > 7000
    assert np.abs(high[100:]).max() < 100


def test_anything_but_connected_before_start_closes_the_stream_with_a_reason() -> None:
    async def go() -> MemorySocket:
        sock = MemorySocket()
        sock.feed("media", **media(b"\xff" * 160, 0))
        with pytest.raises(ProtocolViolation, match="'media' before 'start'"):
            await TwilioStreamTransport(sock).open()
        return sock

    assert run(go).closed == (CLOSE_POLICY, "'media' before 'start'")


def test_bad_messages_are_skipped_until_there_are_too_many() -> None:
    async def go() -> tuple[TwilioStreamTransport, MemorySocket, int]:
        transport, sock = await opened(StreamLimits(max_bad_messages=3))
        sock.incoming.put_nowait("{oops")
        sock.feed("media", media={"payload": "!!!"})
        sock.feed("media", **media(b"\xff" * 160, 0))  # a good one among them is used
        got = 0
        async for _ in transport.inbound():
            got += 1
            break
        sock.feed("tap-dance")
        sock.feed("start", start={})
        frames = [c async for c in transport.inbound()]
        return transport, sock, got + len(frames)

    transport, sock, frames = run(go)
    assert frames == 1 and transport.bad_messages == 4
    assert sock.closed is not None and sock.closed[0] == CLOSE_POLICY
    assert sock.closed[1] == "too many bad messages; last: start: missing 'mediaFormat'"


def test_a_flood_is_cut_off() -> None:
    async def go() -> MemorySocket:
        transport, sock = await opened(StreamLimits(max_rate=50, burst=100))
        for _ in range(500):
            sock.feed("dtmf", dtmf={"digit": "1"})
        await transport.ended.wait()
        return sock

    sock = run(go)
    assert sock.closed is not None and sock.closed[0] == CLOSE_POLICY and "flood" in sock.closed[1]


def test_a_dropped_socket_ends_inbound_and_close_is_idempotent() -> None:
    async def go() -> TwilioStreamTransport:
        transport, sock = await opened()
        sock.incoming.put_nowait(None)
        assert [c async for c in transport.inbound()] == []
        assert [c async for c in transport.inbound()] == []  # the end stays the end
        await transport.close()
        await transport.close()
        return transport

    transport = run(go)
    assert transport.ended_by == "dropped" and transport.closed


def test_ducking_lowers_the_audio_not_yet_sent_to_twilio() -> None:
    async def go() -> None:
        now = [0.0]
        transport, sock = await opened(clock=lambda: now[0])
        await transport.play(AudioChunk(tone(300, 0.6, 16000).tobytes(), 16000, 0.0))
        await sock.until(lambda: len(sock.of("media")) >= 6)  # sent ahead at full volume
        transport.duck(DUCK_GAIN)
        for step in range(1, 4):
            now[0] = 0.1 * step + 0.001
            await sock.until(lambda: len(sock.of("media")) >= 6 + 5 * step)  # noqa: B023
        payloads = [base64.b64decode(m["media"]["payload"]) for m in sock.of("media")]  # type: ignore[index]
        peak = [int(np.abs(mulaw.decode(p).astype(np.int32)).max()) for p in payloads]
        assert min(peak[1:6]) > 0.8 * max(peak[:6])
        assert max(peak[8:20]) < 0.35 * max(peak[:6])  # about -12 dB after one ramp frame
        await transport.close()

    run(go)


def test_silencing_clears_what_twilio_holds_and_plays_it_later_if_the_mute_is_lifted() -> None:
    async def go() -> None:
        now = [0.0]
        transport, sock = await opened(clock=lambda: now[0])
        played: list[AudioChunk] = []
        transport.on_played = played.append
        audio = tone(300, 0.6, 16000)
        await transport.play(AudioChunk(audio.tobytes(), 16000, 0.0))
        await sock.until(lambda: len(sock.of("media")) >= 6)  # 120 ms ahead, one mark so far
        marks = [m["mark"]["name"] for m in sock.of("mark")]  # type: ignore[index]
        sock.feed("mark", mark={"name": marks[0]})  # the first 100 ms were heard
        await asyncio.sleep(0.05)
        assert len(played) == 5
        transport.duck(0.0)  # the candidate may be going on with their answer: silence, now
        await sock.until(lambda: len(sock.of("clear")) == 1)
        sent = len(sock.of("media"))
        for step in range(1, 4):  # time passes: nothing more is sent while silenced
            now[0] = 0.1 * step + 0.001
            await asyncio.sleep(0.02)
        assert len(sock.of("media")) == sent
        assert transport.playing_until() == pytest.approx(0.5)  # the unheard 500 ms still to play
        for name in marks[1:]:
            sock.feed("mark", mark={"name": name})  # echoed for the cleared audio: not heard
        await asyncio.sleep(0.02)
        assert len(played) == 5
        transport.duck(1.0)  # a noise burst after all: play on from what was not heard
        for step in range(1, 8):
            now[0] = 0.3 + 0.1 * step + 0.001
            await asyncio.sleep(0.03)
        assert len(sock.of("media")) == sent + 25  # the 25 frames not heard, once each
        resent = [base64.b64decode(m["media"]["payload"]) for m in sock.of("media")[sent:]]  # type: ignore[index]
        first = [base64.b64decode(m["media"]["payload"]) for m in sock.of("media")[5:sent]]  # type: ignore[index]
        assert resent[1 : len(first)] == first[1:]  # frame 6 on, as first sent (the first fades in)
        assert peak_of(resent[0]) < peak_of(resent[1])
        await transport.close()

    run(go)


def test_silencing_then_a_stop_sends_nothing_more() -> None:
    async def go() -> None:
        now = [0.0]
        transport, sock = await opened(clock=lambda: now[0])
        await transport.play(AudioChunk(tone(300, 0.6, 16000).tobytes(), 16000, 0.0))
        await sock.until(lambda: len(sock.of("media")) >= 6)
        transport.duck(0.0)
        await sock.until(lambda: len(sock.of("clear")) == 1)
        assert await transport.clear() == 0.0  # the reply is stopped: nothing of it was heard
        sent = len(sock.of("media"))
        transport.duck(1.0)
        now[0] = 1.0
        await asyncio.sleep(0.05)
        assert len(sock.of("media")) == sent and transport.playing_until() == pytest.approx(0.0)
        await transport.close()

    run(go)


def peak_of(payload: bytes) -> int:
    return int(np.abs(mulaw.decode(payload).astype(np.int32)).max())


def test_the_message_budget_allows_a_burst_then_the_rate_and_refuses_a_flood() -> None:
    budget = MessageBudget(rate=50, burst=3)
    assert [budget.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert budget.take(0.04)  # 2 tokens back after 40 ms at 50/s, less the one owed
    assert not budget.take(0.04)
    assert all(budget.take(0.1 + n * 0.02) for n in range(50)), "a steady 50/s never runs dry"
