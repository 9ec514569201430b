"""The interviewer's outbound audio track: one 20 ms frame per tick of a paced clock.

`FramePacer` is the pacing rule alone, pure and clock-driven (tested on a fake clock): frame n
leaves at start + n x 20 ms whatever the encoder's speed, and a stall of more than `MAX_LATE`
restarts the clock instead of bursting the backlog. `InterviewerTrack` feeds aiortc's encoder.
"""

from __future__ import annotations

import asyncio
import fractions
from collections.abc import Awaitable, Callable

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from milo_voice.media.types import FRAME_BYTES, FRAME_SAMPLES, FRAME_SECONDS, SAMPLE_RATE

_SILENCE = bytes(FRAME_BYTES)
_TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
MAX_LATE = 0.2
"""Seconds behind schedule after which the pacer starts a new schedule (no burst after a stall)."""
PRIME_SAMPLES = 16
"""Samples of silence (1 ms) before the track's first frame. aiortc's Opus encoder resamples to 48 kHz
into 960-sample frames; its resampler keeps about 1 ms back, so without these every frame would wait
for the next one and leave 20 ms late (test_webrtc_track.py feeds the track to aiortc's encoder)."""


class FramePacer:
    """When each outbound frame may leave, given the time it is asked for."""

    def __init__(self) -> None:
        self.start: float | None = None
        self.frames = 0  # frames scheduled since `start`

    def next_frame(self, now: float) -> tuple[float, int]:
        """Seconds to wait before the next frame leaves (0: now), and its index in the schedule
        (its timestamp in frames); counts that frame as sent."""
        if self.start is None:
            self.start = now
            delay = 0.0
        else:
            delay = self.start + self.frames * FRAME_SECONDS - now
            if delay < -MAX_LATE:  # the loop stalled: do not burst the backlog, restart the clock
                self.start, self.frames = now, 0
        index = self.frames
        self.frames += 1
        return max(delay, 0.0), index


class InterviewerTrack(MediaStreamTrack):
    """The interviewer's voice towards one peer: 20 ms frames from the transport's queue, paced.

    One track per peer connection; a replaced peer's track is retired and then sends silence
    without touching the shared queue, so two peers never consume the same audio.
    """

    kind = "audio"

    def __init__(self, source: Callable[[], bytes], *, clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        super().__init__()
        self._source = source
        self._clock = clock
        self._sleep = sleep
        self.retired = False
        self.pacer = FramePacer()
        self._primed = False

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        clock = self._clock or asyncio.get_running_loop().time
        delay, index = self.pacer.next_frame(clock())
        if delay > 0:
            await self._sleep(delay)
        pcm = _SILENCE if self.retired else self._source()
        first, self._primed = not self._primed, True
        prime = bytes(2 * PRIME_SAMPLES) if first else b""
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES + len(prime) // 2)
        frame.planes[0].update(prime + pcm)
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = _TIME_BASE
        frame.pts = index * FRAME_SAMPLES + (0 if first else PRIME_SAMPLES)
        return frame
