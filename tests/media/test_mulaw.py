"""G.711 mu-law: known code points, the decode table's order and the quantisation error bound.

mu-law spends 8 segments of 16 steps on each sign; in the segment holding |x| the step is
2^(segment + 3), and decoding returns the middle of the step, so the round-trip error is at most
half a step: (|x| + 132) / 32 (132 is the encoder bias).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from milo_voice.media.mulaw import decode, encode

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)
ALL_CODES = bytes(range(256))


def half_step(x: np.ndarray) -> np.ndarray:
    return (np.minimum(np.abs(x.astype(np.int64)), 32635) + 132) / 32


@pytest.mark.parametrize(
    ("sample", "code"), [(0, 0xFF), (32767, 0x80), (-32768, 0x00), (-1, 0x7F), (1, 0xFF)]
)
def test_known_code_points(sample: int, code: int) -> None:
    assert encode(np.array([sample], np.int16)) == bytes([code])


def test_one_byte_per_sample_and_nothing_for_nothing() -> None:
    assert len(encode(ALL_INT16)) == ALL_INT16.size
    assert encode(np.zeros(0, np.int16)) == b""
    assert decode(b"").size == 0


def test_decode_is_monotone_each_half_and_symmetric() -> None:
    table = decode(ALL_CODES).astype(np.int32)
    negative, positive = table[:0x80], table[0x80:]
    assert np.all(np.diff(negative) > 0)  # 0x00 is the most negative level, 0x7F is zero
    assert np.all(np.diff(positive) < 0)  # 0x80 is the most positive level, 0xFF is zero
    assert (table[0x00], table[0x7F], table[0x80], table[0xFF]) == (-32124, 0, 32124, 0)
    assert np.array_equal(negative, -positive)


def test_decode_gives_int16() -> None:
    assert decode(ALL_CODES).dtype == np.int16


def test_every_int16_round_trips_within_half_a_quantisation_step() -> None:
    error = np.abs(decode(encode(ALL_INT16)).astype(np.int64) - ALL_INT16)
    clip_error = np.maximum(np.abs(ALL_INT16.astype(np.int64)) - 32635, 0)  # beyond the encoder's clip
    assert np.all(error <= half_step(ALL_INT16) + clip_error)
    loud = np.abs(ALL_INT16.astype(np.int64)) >= 1000
    relative = error[loud] / np.abs(ALL_INT16[loud].astype(np.int64))
    assert relative.max() < 0.04  # about 1/32 plus the bias; 14 bits of range in 8 bits


def test_every_code_but_negative_zero_survives_decode_then_encode() -> None:
    again = encode(decode(ALL_CODES))
    expected = bytearray(ALL_CODES)
    expected[0x7F] = 0xFF  # the two zeros collapse onto the positive one
    assert again == bytes(expected)


@given(arrays(np.int16, st.integers(0, 400)))
def test_round_trip_error_is_bounded_by_the_step(samples: np.ndarray) -> None:
    decoded = decode(encode(samples))
    assert decoded.shape == samples.shape
    error = np.abs(decoded.astype(np.int64) - samples)
    clip_error = np.maximum(np.abs(samples.astype(np.int64)) - 32635, 0)
    assert np.all(error <= half_step(samples) + clip_error)
    assert np.all(np.sign(decoded) * np.sign(samples) >= 0)  # never flips the sign
