"""The interviewer's outbound track on an injected clock: pacing is tested in test time, not real time."""

from __future__ import annotations

import fractions

import av
import numpy as np
import pytest
from aiortc.codecs.opus import OpusEncoder
from helpers import run

from milo_voice.media.transports.webrtc_track import MAX_LATE, PRIME_SAMPLES, FramePacer, InterviewerTrack
from milo_voice.media.types import FRAME_BYTES, FRAME_SAMPLES, FRAME_SECONDS


def test_frames_leave_on_a_20_ms_schedule_whatever_the_callers_speed() -> None:
    pacer = FramePacer()
    assert pacer.next_frame(10.0) == (0.0, 0)
    delay, index = pacer.next_frame(10.001)  # the encoder asks again at once: wait for the slot
    assert (delay, index) == (pytest.approx(FRAME_SECONDS - 0.001), 1)
    delay, index = pacer.next_frame(10.0 + 2 * FRAME_SECONDS + 0.005)  # a little late: go now
    assert (delay, index) == (0.0, 2)
    delay, index = pacer.next_frame(10.0 + 2 * FRAME_SECONDS + 0.006)  # and catch up
    assert (delay, index) == (pytest.approx(FRAME_SECONDS - 0.006), 3)


def test_a_stall_restarts_the_schedule_instead_of_bursting_the_backlog() -> None:
    pacer = FramePacer()
    pacer.next_frame(0.0)
    pacer.next_frame(0.0)
    late = FRAME_SECONDS + MAX_LATE + 0.05
    assert pacer.next_frame(late + 0.0) == (0.0, 0), "a new schedule starts at the stall's end"
    delay, index = pacer.next_frame(late + 0.001)
    assert (delay, index) == (pytest.approx(FRAME_SECONDS - 0.001), 1)
    # a delay within MAX_LATE is made up by sending without waiting, on the same schedule
    delay, index = pacer.next_frame(late + 2 * FRAME_SECONDS + MAX_LATE - 0.01)
    assert (delay, index) == (0.0, 2)


class FakeTime:
    """A clock that only moves when the track sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_track_sends_the_sources_frames_in_order_with_timestamps_on_the_fake_clock() -> None:
    frames = [bytes([n]) * FRAME_BYTES for n in range(1, 6)]
    source = iter(frames)
    fake = FakeTime()
    track = InterviewerTrack(lambda: next(source), clock=fake.clock, sleep=fake.sleep)

    async def body() -> list[tuple[int, bytes]]:
        out = []
        for _ in frames:
            frame = await track.recv()
            out.append((frame.pts, bytes(frame.planes[0])[: frame.samples * 2]))
        return out

    sent = run(body)
    assert [pcm[-FRAME_BYTES:] for _, pcm in sent] == frames
    assert sent[0][1] == bytes(2 * PRIME_SAMPLES) + frames[0]  # 1 ms of silence first: see the next test
    assert [pts for pts, _ in sent] == [0] + [n * FRAME_SAMPLES + PRIME_SAMPLES for n in range(1, 5)]
    assert fake.sleeps == pytest.approx([FRAME_SECONDS] * 4)
    assert fake.now == pytest.approx(100.0 + 4 * FRAME_SECONDS)


def test_a_retired_track_sends_silence_and_leaves_the_queue_alone() -> None:
    taken = []
    fake = FakeTime()
    track = InterviewerTrack(lambda: taken.append(1) or bytes([7]) * FRAME_BYTES,
                             clock=fake.clock, sleep=fake.sleep)
    track.retired = True

    async def body() -> bytes:
        frame = await track.recv()
        return bytes(frame.planes[0])[:FRAME_BYTES]

    pcm = run(body)
    assert taken == []
    assert not np.frombuffer(pcm, dtype="<i2").any()


def test_aiortc_encodes_each_frame_when_it_is_sent_not_one_frame_later() -> None:
    """aiortc's Opus encoder holds ~1 ms back in its resampler; the track's first frame makes up for it,
    so every frame the track sends comes out of the encoder at once (without it: one frame late)."""
    fake = FakeTime()
    tone = (3000 * np.sin(np.arange(FRAME_SAMPLES) / 3)).astype("<i2").tobytes()
    track = InterviewerTrack(lambda: tone, clock=fake.clock, sleep=fake.sleep)
    encoder = OpusEncoder()

    async def body() -> list[int]:
        return [len(encoder.encode(await track.recv())[0]) for _ in range(10)]

    assert run(body) == [1] * 10

    late = OpusEncoder()  # the same frames without the first millisecond
    frames = []
    for n in range(3):
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(tone)
        frame.sample_rate, frame.time_base = 16_000, fractions.Fraction(1, 16_000)
        frame.pts = n * FRAME_SAMPLES
        frames.append(len(late.encode(frame)[0]))
    assert frames == [0, 1, 1]
