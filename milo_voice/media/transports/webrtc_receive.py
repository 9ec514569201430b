"""How much candidate audio the server's WebRTC receiver holds back before decoding it: none.

aiortc gives every audio receiver a jitter buffer that releases a frame only once 4 later frames have
arrived (80 ms). A browser needs that to play smoothly; the server does not play anything: it reads
the candidate's frames in order and counts time in samples, so network jitter changes nothing here.
An Opus packet is a whole 20 ms frame, so `FrameAtOnceBuffer` hands each packet to the decoder the
moment it arrives (aiortc's buffer, even at its least, holds one frame: it knows a frame is complete
only when the next one starts). The interviewer hears the candidate 80 ms sooner than with aiortc's
default and 20 ms sooner than with one frame held, which shortens both the dead air after an answer
and the time a talk-over stays audible once the candidate resumes (bench/turns.py --channel webrtc).
A lost packet is skipped at once (a held buffer waited until it was full, 16 frames, before skipping
it: hearing stalled for 0.3 s); a packet that arrives after a later one was decoded is dropped (its
20 ms of audio are lost, as a browser's buffer drops a packet that comes too late to play).

aiortc (1.16) has no option for this; the receiver's buffer is replaced before any packet arrives.
If a later aiortc renames it, `shorten_receive_buffer` logs a warning and keeps aiortc's buffer.
"""

from __future__ import annotations

import logging

from aiortc import RTCPeerConnection, RTCRtpReceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

log = logging.getLogger(__name__)

RECEIVE_PREFETCH = 0
"""Frames held back before one is decoded (aiortc's default for audio: 4; its least: 1)."""
RECEIVE_CAPACITY = 16
"""Packets aiortc's audio buffer spans (the base class wants one; `FrameAtOnceBuffer` holds none)."""
RESTART_BACK = 100
"""A packet this many sequence numbers or more behind the last one decoded is a restarted sender, not a
late packet: decoding goes on from it (aiortc's own limit for misordered packets)."""
PEER_PLAYOUT = 0.08
"""Seconds the candidate's side holds the interviewer's audio before playing it, assumed: aiortc's peer
holds 4 frames; a browser's adaptive buffer on a clean network holds about as much."""
SERVER_PATH = 0.05
"""Seconds the server's side of WebRTC adds, measured on loopback (bench/turns.py --channel webrtc,
2026-12-06 and 2026-12-07): the candidate's audio reaches the session 30 ms after it was sent (50 ms
with one frame held in the receive buffer; Opus decoding, resampling and 20 ms framing), and a reply
leaves about 20 ms after it is queued (half a frame of pacing on average, Opus's 6.5 ms look-ahead)."""
HEARD_DELAY = round(SERVER_PATH + PEER_PLAYOUT, 3)
"""What WebRTC adds, outside media time, between the candidate's speech and their hearing the reply
(`TurnParams.heard_delay`). A real network's round trip adds to it and is not counted: the reply then
comes later than on a loopback, never sooner."""
_ATTRIBUTE = "_RTCRtpReceiver__jitter_buffer"


class FrameAtOnceBuffer(JitterBuffer):
    """aiortc's jitter buffer interface, holding nothing: each audio packet (one Opus frame) is released
    as it arrives, in sequence order; a gap is skipped at once, a late or repeated packet dropped."""

    def __init__(self) -> None:
        super().__init__(capacity=RECEIVE_CAPACITY, prefetch=0)
        self._last: int | None = None

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        seq = packet.sequence_number
        if self._last is not None:
            behind = (self._last - seq) % 0x10000  # 0: a repeat; 1..: older; near 0x10000: a gap ahead
            if behind < RESTART_BACK:
                return False, None
        self._last = seq
        data: bytes = packet._data  # type: ignore[attr-defined]  # the depayloaded frame (aiortc sets it)
        return False, JitterFrame(data=data, timestamp=packet.timestamp)


def _audio_receivers(pc: RTCPeerConnection) -> list[RTCRtpReceiver]:
    return [t.receiver for t in pc.getTransceivers() if t.kind == "audio"]


def shorten_receive_buffer(pc: RTCPeerConnection) -> int:
    """Give each audio receiver of `pc` a `FrameAtOnceBuffer`; returns how many it changed. Call after
    `setRemoteDescription` (the receivers exist) and before media flows."""
    changed = 0
    for receiver in _audio_receivers(pc):
        if not isinstance(getattr(receiver, _ATTRIBUTE, None), JitterBuffer):
            log.warning("webrtc.receive_buffer_kept", extra={"reason": "aiortc's receiver has no jitter "
                                                                      "buffer where expected"})
            continue
        setattr(receiver, _ATTRIBUTE, FrameAtOnceBuffer())
        changed += 1
    return changed


def receive_prefetch(pc: RTCPeerConnection) -> list[int]:
    """The prefetch of each audio receiver's buffer (for tests and the bench's trace)."""
    buffers = [getattr(receiver, _ATTRIBUTE, None) for receiver in _audio_receivers(pc)]
    return [buffer._prefetch for buffer in buffers if isinstance(buffer, JitterBuffer)]
