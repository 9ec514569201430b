"""The server's WebRTC receiver holds back one frame of candidate audio, not aiortc's four: the
buffer a real accepted peer connection ends up with, fed RTP packets in order, swapped and lost."""

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


def packet(n: int) -> RtpPacket:
    out = RtpPacket(payload_type=111, sequence_number=1000 + n, timestamp=5000 + n * OPUS_TICKS,
                    payload=bytes([n % 256]) * 20)
    out._data = out.payload  # type: ignore[attr-defined]  # what the receiver sets (the depayloaded frame)
    return out


def released(buffer: JitterBuffer, order: list[int]) -> list[tuple[int, int]]:
    """(packet that arrived, frame released then) for each arrival that released a frame."""
    out = []
    for n in order:
        _, frame = buffer.add(packet(n))
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


def test_an_accepted_peer_hears_each_frame_as_soon_as_the_next_one_starts() -> None:
    prefetch, buffer = accepted_buffer()
    assert prefetch == [RECEIVE_PREFETCH] == [1]
    assert released(buffer, [0, 1, 2, 3, 4, 5]) == [(1, 0), (2, 1), (3, 2), (4, 3), (5, 4)]


def test_aiortc_default_would_hold_four_frames_back() -> None:
    buffer = JitterBuffer(capacity=16, prefetch=4)  # what aiortc gives an audio receiver
    assert released(buffer, [0, 1, 2, 3, 4, 5]) == [(4, 0), (5, 1)]


def test_a_swapped_pair_still_comes_out_in_order() -> None:
    _, buffer = accepted_buffer()
    got = released(buffer, [0, 2, 1, 3, 4, 5])
    assert [frame for _, frame in got] == sorted(frame for _, frame in got)
    assert got[0] == (1, 0)


def test_a_lost_packet_is_skipped_once_the_buffer_is_full() -> None:
    _, buffer = accepted_buffer()
    got = released(buffer, [0, 1, *range(3, 22)])  # packet 2 never arrives
    frames = [frame for _, frame in got]
    assert frames[:1] == [0] and 2 not in frames and frames[-1] > 3
    assert frames == sorted(frames)
