"""G.711 mu-law codec in numpy (the phone network's 8 kHz format); `audioop` is gone from Python 3.13."""

from __future__ import annotations

import numpy as np

_BIAS = 0x84
_CLIP = 32635


def encode(samples: np.ndarray) -> bytes:
    """int16 PCM -> mu-law bytes (one byte per sample)."""
    x = np.asarray(samples, dtype=np.int32)
    sign = np.where(x < 0, 0x80, 0x00)
    magnitude = np.minimum(np.abs(x), _CLIP) + _BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    code = ~(sign | (exponent << 4) | mantissa) & 0xFF
    return code.astype(np.uint8).tobytes()


def _decode_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


_TABLE = _decode_table()


def decode(data: bytes) -> np.ndarray:
    """mu-law bytes -> int16 PCM."""
    return _TABLE[np.frombuffer(data, dtype=np.uint8)]
