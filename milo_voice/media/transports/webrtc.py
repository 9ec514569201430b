"""A browser call over WebRTC (aiortc) as a `Transport`: Opus in both directions, a swappable peer.

Inbound Opus (48 kHz) is resampled to 16 kHz mono 20 ms frames; media time is the count of inbound
samples, so the timeline only advances while the candidate's audio arrives (a dropped connection
is a gap in nobody's recording, not silence). Outbound, `InterviewerTrack` hands the encoder one
20 ms frame per tick of its own clock; `clear()` empties the queue, so the candidate stops hearing
the interviewer within a frame plus the network and jitter-buffer delay (~100 ms). Each frame
handed to the encoder is reported through `on_played`. The peer can be replaced (`accept()` with a
new offer) while the session keeps running; with no peer for `resume_window` seconds the call ends.
No dialogue, storage or HTTP here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import av
from aiortc import (
    MediaStreamTrack,
    RTCDataChannel,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from milo_voice.errors import BadMedia, ProtocolViolation
from milo_voice.media.ducking import Ducker
from milo_voice.media.transports.webrtc_offer import CONTROL_LABEL, ice_configuration
from milo_voice.media.transports.webrtc_receive import HEARD_DELAY, shorten_receive_buffer
from milo_voice.media.transports.webrtc_track import InterviewerTrack
from milo_voice.media.types import FRAME_BYTES, FRAME_SAMPLES, FRAME_SECONDS, SAMPLE_RATE, AudioChunk
from milo_voice.media.video_recorder import VideoRecorder

log = logging.getLogger(__name__)

MAX_INBOUND_BACKLOG = 500
"""Frames (10 s) of candidate audio the session may fall behind before the oldest are dropped."""
HANGUP_LINGER = 0.5
"""Seconds the peer stays up after the "hangup" message: the browser's jitter buffer (~100 ms) still
holds the interviewer's last words, and the message must arrive before the connection closes."""
_SILENCE = bytes(FRAME_BYTES)


class WebRtcTransport:
    """Implements `Transport` over one aiortc peer at a time (see the module docstring)."""

    heard_delay = HEARD_DELAY
    """Seconds its buffers add before the candidate hears a reply (`Transport`; the waits end sooner)."""

    def __init__(
        self,
        *,
        ice_servers: list[dict[str, Any]] | None = None,
        resume_window: float = 120.0,
        call_id: str | None = None,
    ) -> None:
        self.call_id = call_id or f"rtc-{uuid.uuid4().hex[:8]}"
        self.ice_servers = list(ice_servers or [])
        self.resume_window = resume_window
        self.on_played: Callable[[AudioChunk], None] | None = None
        """Set by the session: called with each interviewer frame handed to the encoder."""
        self.on_speaking: Callable[[bool], None] | None = None
        """Called when the interviewer starts (True) or stops (False) being heard."""
        self.on_control: Callable[[dict[str, Any]], None] | None = None
        """Called with each JSON object the browser sends on the control channel."""
        self.on_peer: Callable[[str], None] | None = None
        """Called with "connected" when a peer's media flows and "lost" when it goes away."""
        self.peers = 0
        """Peers accepted so far (1 + the number of resumes)."""
        self.video_files: list[Path] = []
        self._pc: RTCPeerConnection | None = None
        self._track: InterviewerTrack | None = None
        self._channel: RTCDataChannel | None = None
        self._readers: set[asyncio.Task[None]] = set()
        """Tasks the transport owns (peer readers, video stops), kept so none is garbage-collected."""
        self._videos: list[VideoRecorder] = []
        self._pending_video: MediaStreamTrack | None = None
        self._video_dir: Path | None = None
        self._inbound: asyncio.Queue[AudioChunk | None] = asyncio.Queue()
        self._consuming = False
        self._samples_in = 0
        self._out: deque[bytes] = deque()
        self._fade: bytes | None = None
        self._ducker = Ducker()
        """After `clear()`: one frame fading to silence, played next but not counted as speech."""
        self._played_in_utterance = 0
        self._played_until = 0.0
        self._speaking = False
        self._closed = asyncio.Event()
        self._expiry: asyncio.Task[None] | None = None

    # -- signalling -----------------------------------------------------------------------
    async def accept(self, offer: RTCSessionDescription) -> RTCSessionDescription:
        """Answer a browser's offer with a new peer; an existing peer is replaced (resume).

        Raises `ProtocolViolation` for an offer aiortc cannot use; the current peer is then kept.
        """
        if self._closed.is_set():
            raise ProtocolViolation("this call has ended")
        pc = RTCPeerConnection(ice_configuration(self.ice_servers))
        track = InterviewerTrack(self._next_outbound)
        pc.on("track", lambda remote: self._on_track(pc, remote))
        pc.on("datachannel", lambda channel: self._on_datachannel(pc, channel))
        pc.on("connectionstatechange", lambda: self._on_state(pc))
        try:
            await pc.setRemoteDescription(offer)
            shorten_receive_buffer(pc)
            pc.addTrack(track)
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:  # aiortc raises ValueError, KeyError, ... on malformed SDP
            await pc.close()
            raise ProtocolViolation(f"unusable SDP offer: {type(exc).__name__}: {exc}"[:300]) from None
        old = self._pc
        self._pc, self._track, self._channel, self.peers = pc, track, None, self.peers + 1
        if old is not None:
            await self._retire(old)
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        log.info("webrtc.peer_accepted", extra={"call_id": self.call_id, "peer": self.peers})
        return pc.localDescription

    def send_control(self, message: dict[str, Any]) -> bool:
        """Send a JSON object to the browser on the control channel; False if it is not open."""
        channel = self._channel
        if channel is None or channel.readyState != "open":
            return False
        channel.send(json.dumps(message))
        return True

    def record_video(self, directory: Path) -> None:
        """Record the candidate's camera (if on, now or after a resume) into `directory`."""
        self._video_dir = directory
        if self._pending_video is not None:
            track, self._pending_video = self._pending_video, None
            self._start_video(track)

    @property
    def connected(self) -> bool:
        return self._pc is not None and self._pc.connectionState == "connected"

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    # -- Transport ------------------------------------------------------------------------
    async def inbound(self) -> AsyncIterator[AudioChunk]:
        self._consuming = True
        while True:
            chunk = await self._inbound.get()
            if chunk is None:
                return
            yield chunk

    async def play(self, chunk: AudioChunk) -> None:
        if chunk.sample_rate != SAMPLE_RATE:
            raise BadMedia(f"playout of {chunk.sample_rate} Hz audio; expected {SAMPLE_RATE} Hz")
        pcm = chunk.pcm
        if len(pcm) % FRAME_BYTES:
            pcm += bytes(FRAME_BYTES - len(pcm) % FRAME_BYTES)
        self._out.extend(pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES))

    async def clear(self) -> float:
        if self._out:  # the next frame fades out instead of the voice stopping mid-waveform
            self._fade = self._ducker.fade(self._out[0])
        self._out.clear()
        heard = self._played_in_utterance * FRAME_SECONDS
        self._played_in_utterance = 0
        self._set_speaking(False)
        return heard

    def playing_until(self) -> float:
        return max(self.media_time, self._played_until) + len(self._out) * FRAME_SECONDS

    def duck(self, gain: float) -> None:
        self._ducker.duck(gain)

    async def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        self._inbound.put_nowait(None)
        if self._expiry is not None and self._expiry is not asyncio.current_task():
            self._expiry.cancel()
            await asyncio.gather(self._expiry, return_exceptions=True)
        self._expiry = None
        if self._pc is not None:
            if self.send_control({"type": "hangup"}):  # let the last words and the message arrive
                await asyncio.sleep(HANGUP_LINGER)
            pc, self._pc = self._pc, None
            await self._retire(pc)
        pending = [t for t in self._readers if t is not asyncio.current_task()]
        if pending:  # readers end with their peer; a video still being finished is waited for
            await asyncio.wait(pending, timeout=10)
        log.info("webrtc.closed", extra={"call_id": self.call_id, "media_s": round(self.media_time, 3)})

    @property
    def media_time(self) -> float:
        """Seconds of candidate audio received while the session listened."""
        return self._samples_in / SAMPLE_RATE

    # -- outbound (called by InterviewerTrack) ----------------------------------------------
    def _next_outbound(self) -> bytes:
        if not self._out:
            if self._played_in_utterance:
                self._played_in_utterance = 0
            self._set_speaking(False)
            fade, self._fade = self._fade, None
            if fade is not None and self.on_played is not None:  # the recording keeps what was heard
                self.on_played(AudioChunk(fade, SAMPLE_RATE, max(self.media_time, self._played_until)))
            return fade if fade is not None else _SILENCE
        frame = self._ducker.apply(self._out.popleft())
        start = max(self.media_time, self._played_until)
        self._played_until = start + FRAME_SECONDS
        self._played_in_utterance += 1
        self._set_speaking(True)
        if self.on_played is not None:
            self.on_played(AudioChunk(frame, SAMPLE_RATE, start))
        return frame

    def _set_speaking(self, speaking: bool) -> None:
        if speaking != self._speaking:
            self._speaking = speaking
            if self.on_speaking is not None:
                self.on_speaking(speaking)

    # -- inbound --------------------------------------------------------------------------
    def _on_track(self, pc: RTCPeerConnection, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._background(self._read_audio(pc, track))
        elif track.kind == "video":
            if self._video_dir is None:
                self._pending_video = track
            else:
                self._start_video(track)

    async def _read_audio(self, pc: RTCPeerConnection, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        buffer = bytearray()
        try:
            while True:
                frame = await track.recv()
                if pc is not self._pc or self._closed.is_set():
                    continue  # a replaced peer: drain its track until it ends, keep nothing
                for out in resampler.resample(frame):
                    buffer += bytes(out.planes[0])[: out.samples * 2]
                while len(buffer) >= FRAME_BYTES:
                    pcm = bytes(buffer[:FRAME_BYTES])
                    del buffer[:FRAME_BYTES]
                    self._push(pcm)
        except MediaStreamError:
            pass
        if pc is self._pc:
            self._peer_lost(pc)

    def _push(self, pcm: bytes) -> None:
        if not self._consuming:
            return  # nobody listens yet (models loading): the candidate's silence is not kept
        if self._inbound.qsize() >= MAX_INBOUND_BACKLOG:
            self._inbound.get_nowait()
            log.warning("webrtc.inbound_overrun", extra={"call_id": self.call_id})
        start = self.media_time
        self._samples_in += FRAME_SAMPLES
        self._inbound.put_nowait(AudioChunk(pcm, SAMPLE_RATE, start))

    def _on_datachannel(self, pc: RTCPeerConnection, channel: RTCDataChannel) -> None:
        if channel.label != CONTROL_LABEL:
            return
        if pc is self._pc:
            self._channel = channel

        @channel.on("message")
        def on_message(message: str | bytes) -> None:
            if pc is not self._pc or self.on_control is None:
                return
            try:
                data = json.loads(message)
            except (ValueError, UnicodeDecodeError):
                log.warning("webrtc.bad_control_message", extra={"call_id": self.call_id})
                return
            if isinstance(data, dict):
                self.on_control(data)

    def _on_state(self, pc: RTCPeerConnection) -> None:
        if pc is not self._pc:
            return
        state = pc.connectionState
        log.info("webrtc.peer_state", extra={"call_id": self.call_id, "state": state})
        if state == "connected" and self.on_peer is not None:
            self.on_peer("connected")
        elif state in ("failed", "closed"):
            self._peer_lost(pc)

    def _peer_lost(self, pc: RTCPeerConnection) -> None:
        """The current peer went away: wait `resume_window` seconds for a new offer, then end."""
        if pc is not self._pc or self._closed.is_set() or self._expiry is not None:
            return
        log.info("webrtc.peer_lost", extra={"call_id": self.call_id, "window_s": self.resume_window})
        if self._track is not None:  # a dead peer must not consume the interviewer's queue
            self._track.retired = True
        self._set_speaking(False)
        if self.on_peer is not None:
            self.on_peer("lost")
        self._expiry = asyncio.ensure_future(self._expire())
        self._background(self._stop_videos())

    async def _expire(self) -> None:
        await asyncio.sleep(self.resume_window)
        log.info("webrtc.resume_window_over", extra={"call_id": self.call_id})
        await self.close()

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._readers.add(task)
        task.add_done_callback(self._readers.discard)

    async def _retire(self, pc: RTCPeerConnection) -> None:
        for sender in pc.getSenders():
            if isinstance(sender.track, InterviewerTrack):
                sender.track.retired = True
        await self._stop_videos()
        await pc.close()

    # -- camera ---------------------------------------------------------------------------
    def _start_video(self, track: MediaStreamTrack) -> None:
        if self._video_dir is None:
            return
        path = self._video_dir / f"camera-{len(self.video_files) + 1}.webm"
        recorder = VideoRecorder(track, path)
        recorder.start()
        self._videos.append(recorder)
        self.video_files.append(path)

    async def _stop_videos(self) -> None:
        videos, self._videos = self._videos, []
        for recorder in videos:
            await recorder.stop()
