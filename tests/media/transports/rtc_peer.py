"""A second, real aiortc peer that plays the candidate's browser: sends audio (and optionally video),
receives the interviewer's audio, and opens the control data channel. Loopback host candidates only.
"""

from __future__ import annotations

import asyncio
import fractions
import json
from typing import Any

import av
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from milo_voice.media.transports.webrtc import WebRtcTransport
from milo_voice.media.transports.webrtc_offer import CONTROL_LABEL, parse_offer

RATE = 48_000
FRAME = 960  # 20 ms at 48 kHz


def tone(freq: float, seconds: float, rate: int = RATE, level: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0


class SamplesTrack(MediaStreamTrack):
    """A microphone that plays `samples` (48 kHz mono int16) once, then low noise, in paced 20 ms frames."""

    kind = "audio"

    def __init__(self, samples: np.ndarray) -> None:
        super().__init__()
        self.samples = samples
        self.sent = 0
        self._start: float | None = None
        self._noise = np.random.default_rng(3).normal(0, 20, FRAME * 50).astype(np.int16)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        delay = self._start + self.sent * 0.02 - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        offset = self.sent * FRAME
        piece = self.samples[offset : offset + FRAME]
        if len(piece) < FRAME:
            noise = self._noise[(offset % len(self._noise)) // FRAME * FRAME :][: FRAME - len(piece)]
            piece = np.concatenate([piece, noise, np.zeros(FRAME - len(piece) - len(noise), np.int16)])
        frame = av.AudioFrame.from_ndarray(piece.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.time_base = fractions.Fraction(1, RATE)
        frame.pts = offset
        self.sent += 1
        return frame


class BrowserPeer:
    """The candidate's side of the call, with what it heard kept as 16 kHz-free raw 48 kHz mono."""

    def __init__(self, samples: np.ndarray, *, video: bool = False) -> None:
        self.pc = RTCPeerConnection()
        self.mic = SamplesTrack(samples)
        self.pc.addTrack(self.mic)
        if video:
            self.pc.addTrack(VideoStreamTrack())
        self.channel = self.pc.createDataChannel(CONTROL_LABEL)
        self.messages: list[dict[str, Any]] = []
        self.heard: list[np.ndarray] = []
        """Each received frame, down-mixed to mono (48 kHz)."""
        self.opened = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self.channel.on("open", self.opened.set)
        self.channel.on("message", lambda m: self.messages.append(json.loads(m)))
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._reader = asyncio.ensure_future(self._read(track))

    async def _read(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                data = frame.to_ndarray().reshape(-1)
                if frame.layout.name == "stereo":  # packed s16: L R L R ...
                    data = data.reshape(-1, 2).mean(axis=1).astype(np.int16)
                self.heard.append(data)
        except MediaStreamError:
            pass

    async def connect(self, transport: WebRtcTransport) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = {"sdp": self.pc.localDescription.sdp, "type": "offer"}
        answer = await transport.accept(parse_offer(offer))
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type=answer.type))
        await asyncio.wait_for(self.opened.wait(), 10)

    def loud_frames(self, since: int = 0, threshold: float = 500.0) -> int:
        return sum(1 for f in self.heard[since:] if rms(f) > threshold)

    async def close(self) -> None:
        await self.pc.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
