"""Streaming 2:1 resampling between the phone's 8 kHz and our 16 kHz, with exact sample counts.

A live stream needs every 160-sample phone frame to become exactly 320 internal samples (and
back), so media time stays a pure sample count; PyAV's resampler returns uneven pieces around its
filter delay (288 then 320 samples) and costs ~145 us per 20 ms frame here, against ~20 us for
this windowed-sinc FIR (47 taps, Hamming: flat to 3.4 kHz, the telephone band, -6 dB at 4 kHz,
-19 dB at 4.3 kHz and below -57 dB from 4.6 kHz). Filter state carries across calls, so frame
edges do not click. No I/O.
"""

from __future__ import annotations

import numpy as np

TAPS = 47
"""FIR length (odd, so the delay is a whole number of 16 kHz samples: 23, i.e. 1.4 ms)."""


def _lowpass(taps: int) -> np.ndarray:
    """Low-pass at a quarter of the 16 kHz rate (4 kHz), unity gain at DC."""
    n = np.arange(taps) - (taps - 1) / 2
    h = np.sinc(n / 2) * np.hamming(taps)
    return (h / h.sum()).astype(np.float64)


_H = _lowpass(TAPS)


class _Fir:
    def __init__(self) -> None:
        self._state = np.zeros(TAPS - 1)

    def run(self, x: np.ndarray) -> np.ndarray:
        buf = np.concatenate([self._state, x])
        self._state = buf[-(TAPS - 1) :]
        return np.convolve(buf, _H, mode="valid")


def _to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


class Upsampler:
    """8 kHz int16 -> 16 kHz int16, exactly two output samples per input sample."""

    def __init__(self) -> None:
        self._fir = _Fir()

    def process(self, samples: np.ndarray) -> np.ndarray:
        up = np.zeros(2 * len(samples))
        up[0::2] = 2.0 * np.asarray(samples, dtype=np.float64)  # zero-stuffing halves the level
        return _to_int16(self._fir.run(up))


class Downsampler:
    """16 kHz int16 -> 8 kHz int16, exactly one output sample per two input samples (even input)."""

    def __init__(self) -> None:
        self._fir = _Fir()

    def process(self, samples: np.ndarray) -> np.ndarray:
        if len(samples) % 2:
            raise ValueError(f"{len(samples)} samples: 2:1 downsampling needs an even count")
        return _to_int16(self._fir.run(np.asarray(samples, dtype=np.float64))[0::2])
