"""bench/webrtc_audio.py: the browser channel model bench/onsets.py scores the early mute on. It must be
aligned with the original (else every onset looks late or early by the codec's delay), keep a voice's
band, and drop what aiortc's Opus encoder drops (rumble under about 50 Hz, the "voip" high-pass)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))

from webrtc_audio import webrtc_audio

RATE = 16_000


def tone(hz: float, seconds: float = 1.0, level: float = 6000.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def db(x: np.ndarray) -> float:
    x = x.astype(np.float64)
    return 10 * np.log10(np.mean(x * x) + 1e-9)


MONO_STEREO_MONO_DB = 3.0
"""What aiortc's path costs every sound: mono up to stereo for the encoder, stereo down to mono after."""


def test_a_voice_band_tone_keeps_its_level_and_its_place() -> None:
    original = tone(440.0) + tone(1000.0, level=3000.0)
    coded = webrtc_audio(original)
    middle = slice(RATE // 4, 3 * RATE // 4)
    assert abs(db(original[middle]) - db(coded[middle]) - MONO_STEREO_MONO_DB) < 0.5
    def fit(lag: int) -> float:
        moved = coded[middle.start + lag: middle.stop + lag].astype(float)
        return float(np.dot(original[middle].astype(float), moved))

    best = max(range(-20, 21), key=fit)
    assert abs(best) <= 2


def test_rumble_under_50_hz_is_removed() -> None:
    middle = slice(RATE // 4, 3 * RATE // 4)
    for hz, at_least, at_most in ((20.0, 15.0, 90.0), (30.0, 10.0, 90.0), (150.0, -0.5, 0.5)):
        lost = db(tone(hz)[middle]) - db(webrtc_audio(tone(hz))[middle]) - MONO_STEREO_MONO_DB
        assert at_least <= lost < at_most, hz
