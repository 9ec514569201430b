"""Records a received WebRTC video track to a WebM (VP8) file, encoding on its own thread.

aiortc's `MediaRecorder` encodes on the event loop, where a camera's frames would steal time from
every live call's audio; here the loop only hands frames over. VP8 with libvpx's realtime
deadline at `MAX_FPS`: a 320x240 camera costs a few percent of one core. If the encoder falls
behind, frames are dropped rather than queued (the video is evidence, the audio is the interview).
No dialogue or storage here.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

log = logging.getLogger(__name__)

MAX_FPS = 15
"""Frames per second kept; a browser camera sends up to 30, and 15 is plenty for review."""
BIT_RATE = 400_000
"""Target bit/s: ~180 MB per hour, readable faces at 320x240-640x480."""
MAX_BACKLOG = 8
"""Frames waiting for the encoder before new ones are dropped."""
_TIME_BASE = fractions.Fraction(1, 1000)


class VideoRecorder:
    """Pulls frames from `track` and writes them to `path` until `stop()` or the track ends."""

    def __init__(self, track: MediaStreamTrack, path: Path) -> None:
        self.track = track
        self.path = path
        self.frames_written = 0
        self.frames_dropped = 0
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="video")
        self._container: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None
        self._backlog = 0
        self._first_time: float | None = None
        self._last_ms = -1
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop reading, flush the encoder and close the file (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, self._close)
        self._pool.shutdown(wait=False)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                frame = await self.track.recv()
                if not isinstance(frame, av.VideoFrame) or frame.time is None:
                    continue
                if self._first_time is None:
                    self._first_time = frame.time
                ms = round((frame.time - self._first_time) * 1000)
                if self._last_ms >= 0 and ms - self._last_ms < 1000 / MAX_FPS - 5:
                    continue
                if self._backlog >= MAX_BACKLOG:
                    self.frames_dropped += 1
                    continue
                self._last_ms = ms
                self._backlog += 1
                future = loop.run_in_executor(self._pool, self._encode, frame, ms)
                future.add_done_callback(self._encoded)
        except MediaStreamError:
            pass

    def _encoded(self, future: asyncio.Future[None]) -> None:
        self._backlog -= 1
        if not future.cancelled() and future.exception() is not None:
            error = repr(future.exception())
            log.warning("video.encode_failed", extra={"path": str(self.path), "error": error})

    # -- encoder thread -----------------------------------------------------------------------
    def _encode(self, frame: av.VideoFrame, ms: int) -> None:
        if self._container is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._container = av.open(str(self.path), mode="w", format="webm")
            stream = self._container.add_stream("libvpx", rate=MAX_FPS)
            stream.width, stream.height = frame.width - frame.width % 2, frame.height - frame.height % 2
            stream.pix_fmt = "yuv420p"
            stream.bit_rate = BIT_RATE
            stream.codec_context.time_base = _TIME_BASE
            stream.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
            self._stream = stream
        stream = self._stream
        assert stream is not None
        image = frame.reformat(width=stream.width, height=stream.height, format="yuv420p")
        image.pts, image.time_base = ms, _TIME_BASE
        for packet in stream.encode(image):
            self._container.mux(packet)
        self.frames_written += 1

    def _close(self) -> None:
        if self._container is None:
            return
        try:
            if self._stream is not None:
                for packet in self._stream.encode(None):
                    self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None
            log.info("video.recorded", extra={"frames": self.frames_written, "dropped": self.frames_dropped})
