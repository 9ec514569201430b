"""Playout gain: ducking under the candidate's speech and the fade at a cut, without clicks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from milo_voice.media.ducking import Ducker, fade_out, ramp
from milo_voice.media.types import DUCK_GAIN, FRAME_SAMPLES

LOUD = (np.full(FRAME_SAMPLES, 10_000, dtype="<i2")).tobytes()


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.int32)


def test_full_gain_leaves_the_audio_untouched() -> None:
    assert Ducker().apply(LOUD) == LOUD


def test_ducking_ramps_down_within_one_frame_then_holds_and_comes_back() -> None:
    ducker = Ducker()
    ducker.duck(DUCK_GAIN)
    first = samples(ducker.apply(LOUD))
    assert first[0] == 10_000 and first[-1] == pytest.approx(10_000 * DUCK_GAIN, rel=0.02)
    assert np.all(np.diff(first) <= 0)  # a ramp, not a step: no click
    held = samples(ducker.apply(LOUD))
    assert np.all(held == round(10_000 * DUCK_GAIN))
    ducker.duck(1.0)
    back = samples(ducker.apply(LOUD))
    assert back[0] == round(10_000 * DUCK_GAIN) and np.all(np.diff(back) >= 0)
    assert samples(ducker.apply(LOUD))[0] == 10_000


def test_the_fade_starts_where_the_gain_is_and_ends_silent_then_full_gain_again() -> None:
    ducker = Ducker()
    ducker.duck(DUCK_GAIN)
    ducker.apply(LOUD)
    faded = samples(ducker.fade(LOUD))
    assert faded[0] == round(10_000 * DUCK_GAIN) and abs(faded[-1]) < 0.01 * 10_000
    assert ducker.apply(LOUD) == LOUD  # the next line plays at full volume


@given(st.floats(0, 1), st.floats(0, 1), st.integers(-32768, 32767))
def test_a_ramp_never_amplifies_and_never_overflows(start: float, end: float, level: int) -> None:
    out = samples(ramp(np.full(FRAME_SAMPLES, level, dtype="<i2").tobytes(), start, end))
    assert np.all(np.abs(out) <= abs(level))


def test_fade_out_of_a_tone_ends_near_zero() -> None:
    t = np.arange(FRAME_SAMPLES) / 16_000
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
    out = samples(fade_out(tone))
    assert np.abs(out[-16:]).max() < 0.05 * 8000 and np.abs(out[:40]).max() > 0.5 * 8000


def test_gain_zero_holds_the_interviewer_silent_after_one_ramp_frame_and_is_undone() -> None:
    ducker = Ducker()
    ducker.duck(0.0)
    assert samples(ducker.apply(LOUD))[-1] < 0.01 * 10_000
    assert not samples(ducker.apply(LOUD)).any()
    ducker.duck(1.0)
    ducker.apply(LOUD)
    assert ducker.apply(LOUD) == LOUD
