"""The server's WebRTC receiver holds back no candidate audio, not aiortc's four frames: the buffer a
real accepted peer connection ends up with, fed RTP packets in order, swapped, lost, repeated, across
the sequence number's wrap and from a restarted sender."""

from __future__ import annotations

import numpy as np
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtpPacket
from helpers import run
from rtc_peer import BrowserPeer

from milo_voice.media.transports.webrtc import WebRtcTransport
from milo_voice.media.transports.webrtc_receive import RECEIVE_PREFETCH, receive_prefetch

OPUS_TICKS = 960
"""RTP timestamp step of one 20 ms Opus frame (48 kHz clock)."""


def packet(n: int, first_seq: int = 1000) -> RtpPacket:
    out = RtpPacket(payload_type=111, sequence_number=(first_seq + n) % 0x10000,
                    timestamp=5000 + n * OPUS_TICKS, payload=bytes([n % 256]) * 20)
    out._data = out.payload  # type: ignore[attr-defined]  # what the receiver sets (the depayloaded frame)
    return out


def released(buffer: JitterBuffer, order: list[int], first_seq: int = 1000) -> list[tuple[int, int]]:
    """(packet that arrived, frame released then) for each arrival that released a frame."""
    out = []
    for n in order:
        _, frame = buffer.add(packet(n, first_seq))
        if frame is not None:
            out.append((n, (frame.timestamp - 5000) // OPUS_TICKS))
    return out


def accepted_buffer() -> tuple[list[int], JitterBuffer]:
    async def body() -> tuple[list[int], JitterBuffer]:
        transport = WebRtcTransport()
        peer = BrowserPeer(np.zeros(0, np.int16))
        try:
            await peer.connect(transport)
            pc = transport._pc
            assert pc is not None
            receivers = [t.receiver for t in pc.getTransceivers() if t.kind == "audio"]
            return receive_prefetch(pc), receivers[0]._RTCRtpReceiver__jitter_buffer
        finally:
            await peer.close()
            await transport.close()
    return run(body, timeout=30)


def test_an_accepted_peer_hears_each_frame_the_moment_it_arrives() -> None:
    prefetch, buffer = accepted_buffer()
    assert prefetch == [RECEIVE_PREFETCH] == [0]
    assert released(buffer, [0, 1, 2, 3, 4, 5]) == [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)]
    assert buffer.add(packet(5))[1] is None  # a repeated packet is not decoded twice


def test_aiortc_default_would_hold_four_frames_back() -> None:
    buffer = JitterBuffer(capacity=16, prefetch=4)  # what aiortc gives an audio receiver
    assert released(buffer, [0, 1, 2, 3, 4, 5]) == [(4, 0), (5, 1)]


def test_one_frame_held_waits_for_the_next_one() -> None:
    buffer = JitterBuffer(capacity=16, prefetch=1)  # the least aiortc's own buffer can hold
    assert released(buffer, [0, 1, 2]) == [(1, 0), (2, 1)]


def test_a_swapped_pair_keeps_the_order_and_drops_the_late_packet() -> None:
    _, buffer = accepted_buffer()
    assert released(buffer, [0, 2, 1, 3, 4]) == [(0, 0), (2, 2), (3, 3), (4, 4)]


def test_a_lost_packet_is_skipped_at_once() -> None:
    _, buffer = accepted_buffer()
    assert released(buffer, [0, 1, 3, 4]) == [(0, 0), (1, 1), (3, 3), (4, 4)]
    held = JitterBuffer(capacity=16, prefetch=1)  # aiortc's buffer waits until it is full
    assert released(held, [0, 1, 3, 4]) == [(1, 0)]


def test_the_sequence_number_wraps_and_a_restarted_sender_is_heard() -> None:
    _, buffer = accepted_buffer()
    assert released(buffer, [0, 1, 2, 3], first_seq=0xFFFE) == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert released(buffer, [0, 1], first_seq=0xFFFE - 500) == [(0, 0), (1, 1)]
