"""The candidate's audio as the WebRTC server hears it, without a network: aiortc's own Opus encoder (the
browser peer's: 48 kHz, 96 kb/s, the "voip" application, whose high-pass filter removes rumble under
about 50 Hz: -12 dB at 30 Hz, -19 dB at 20 Hz, on top of the 3 dB that the mono-stereo-mono path costs
every sound) and decoder, then PyAV's resampler to 16 kHz mono as `media/transports/webrtc.py` does.

Used by bench/onsets.py to score the early-mute rules on what the server can hear of a browser call.
"""

from __future__ import annotations

import fractions

import av
import numpy as np
from aiortc.codecs.opus import OpusDecoder, OpusEncoder
from aiortc.jitterbuffer import JitterFrame

from milo_voice.media.pcm import resample

RATE = 48_000
FRAME = 960
"""Samples of one 20 ms Opus frame at 48 kHz."""
CODEC_DELAY = 104
"""Samples (16 kHz) by which the coded audio lags the original: Opus's look-ahead and the resamplers'
filters (measured by cross-correlation on the corpus; the same for every answer)."""


def webrtc_audio(samples: np.ndarray) -> np.ndarray:
    """16 kHz int16 in, 16 kHz int16 out, aligned with the input (the codec's delay removed)."""
    wide = resample(samples, 16_000, RATE).astype(np.int16)
    encoder, decoder = OpusEncoder(), OpusDecoder()
    to_server = av.AudioResampler(format="s16", layout="mono", rate=16_000)
    out: list[np.ndarray] = []
    for start in range(0, len(wide) - FRAME + 1, FRAME):
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME)
        frame.planes[0].update(wide[start:start + FRAME].tobytes())
        frame.sample_rate, frame.pts, frame.time_base = RATE, start, fractions.Fraction(1, RATE)
        payloads, timestamp = encoder.encode(frame)
        for payload in payloads:
            for decoded in decoder.decode(JitterFrame(data=payload, timestamp=timestamp)):
                out += [piece.to_ndarray().reshape(-1) for piece in to_server.resample(decoded)]
    coded = np.concatenate(out).astype(np.int16) if out else np.zeros(0, np.int16)
    return coded[CODEC_DELAY:]
