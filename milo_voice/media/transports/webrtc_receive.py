"""How much candidate audio the server's WebRTC receiver holds back before decoding it.

aiortc gives every audio receiver a jitter buffer that releases a frame only once 4 later frames have
arrived (80 ms). A browser needs that to play smoothly; the server does not play anything: it reads
the candidate's frames in order and counts time in samples, so network jitter changes nothing here,
and only packets that arrive out of order need holding. Holding 1 frame (the least aiortc's buffer
can: a frame is known complete when the next one starts) lets the interviewer hear the candidate
60 ms sooner, which shortens both the dead air after an answer and the time a talk-over stays
audible once the candidate resumes (bench/turns.py --channel webrtc). Packet loss is handled as
before (the buffer skips a gap once it is full), and a swapped pair of packets still decodes in order.

aiortc (1.16) has no option for this; the receiver's buffer is replaced before any packet arrives.
If a later aiortc renames it, `shorten_receive_buffer` logs a warning and keeps aiortc's buffer.
"""

from __future__ import annotations

import logging

from aiortc import RTCPeerConnection, RTCRtpReceiver
from aiortc.jitterbuffer import JitterBuffer

log = logging.getLogger(__name__)

RECEIVE_PREFETCH = 1
"""Frames held back before one is decoded (aiortc's default for audio: 4)."""
RECEIVE_CAPACITY = 16
"""Packets the buffer spans (aiortc's default for audio); a gap longer than this is skipped."""
PEER_PLAYOUT = 0.08
"""Seconds the candidate's side holds the interviewer's audio before playing it, assumed: aiortc's peer
holds 4 frames; a browser's adaptive buffer on a clean network holds about as much."""
SERVER_PATH = 0.07
"""Seconds the server's side of WebRTC adds, measured on loopback (bench/turns.py --channel webrtc,
2026-12-06): the candidate's audio reaches the session 50 ms after it was sent (the 1-frame receive
buffer, Opus decoding, resampling and 20 ms framing), and a reply leaves about 20 ms after it is queued
(half a frame of pacing on average, Opus's 6.5 ms look-ahead)."""
HEARD_DELAY = round(SERVER_PATH + PEER_PLAYOUT, 3)
"""What WebRTC adds, outside media time, between the candidate's speech and their hearing the reply
(`TurnParams.heard_delay`). A real network's round trip adds to it and is not counted: the reply then
comes later than on a loopback, never sooner."""
_ATTRIBUTE = "_RTCRtpReceiver__jitter_buffer"


def _audio_receivers(pc: RTCPeerConnection) -> list[RTCRtpReceiver]:
    return [t.receiver for t in pc.getTransceivers() if t.kind == "audio"]


def shorten_receive_buffer(pc: RTCPeerConnection, prefetch: int = RECEIVE_PREFETCH) -> int:
    """Give each audio receiver of `pc` a buffer that holds `prefetch` frames; returns how many it
    changed. Call after `setRemoteDescription` (the receivers exist) and before media flows."""
    changed = 0
    for receiver in _audio_receivers(pc):
        if not isinstance(getattr(receiver, _ATTRIBUTE, None), JitterBuffer):
            log.warning("webrtc.receive_buffer_kept", extra={"reason": "aiortc's receiver has no jitter "
                                                                      "buffer where expected"})
            continue
        setattr(receiver, _ATTRIBUTE, JitterBuffer(capacity=RECEIVE_CAPACITY, prefetch=prefetch))
        changed += 1
    return changed


def receive_prefetch(pc: RTCPeerConnection) -> list[int]:
    """The prefetch of each audio receiver's buffer (for tests and the bench's trace)."""
    buffers = [getattr(receiver, _ATTRIBUTE, None) for receiver in _audio_receivers(pc)]
    return [buffer._prefetch for buffer in buffers if isinstance(buffer, JitterBuffer)]
