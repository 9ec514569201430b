"""PCM plumbing: read_wav on real speech at other rates and layouts, its refusals, framing, resampling.

The other-rate files are made here from a real 16 kHz clip with numpy interpolation (not with the
code under test), written with the `wave` module.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import SPEECH

from milo_voice.errors import BadMedia
from milo_voice.media.pcm import frames, read_wav, resample, to_float, to_int16, trim_leading_silence
from milo_voice.media.types import FRAME_SAMPLES, SAMPLE_RATE

CLIP = SPEECH / "clips" / "librispeech_1688-142285-0000.wav"


def raw_samples(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, SAMPLE_RATE)
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


def write(path: Path, samples: np.ndarray, rate: int, *, channels: int = 1, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(np.ascontiguousarray(samples).tobytes())
    return path


def interpolate(samples: np.ndarray, rate_out: int) -> np.ndarray:
    """Linear interpolation from 16 kHz: crude, but independent of PyAV."""
    n = round(len(samples) * rate_out / SAMPLE_RATE)
    t_out = np.arange(n) / rate_out
    t_in = np.arange(len(samples)) / SAMPLE_RATE
    return np.interp(t_out, t_in, samples.astype(np.float64))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n].astype(np.float64), b[:n].astype(np.float64))[0, 1])


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return raw_samples(CLIP)


# -- read_wav ----------------------------------------------------------------------------


def test_16_khz_mono_passes_through_unchanged(clip: np.ndarray) -> None:
    samples = read_wav(CLIP)
    assert samples.dtype == np.int16
    assert np.array_equal(samples, clip)


def test_stereo_44_1_khz_comes_back_as_16_khz_mono_of_the_same_clip(tmp_path: Path, clip: np.ndarray) -> None:
    left = interpolate(clip, 44_100)
    stereo = np.stack([left, 0.5 * left], axis=1)  # the channels differ; their mean is 0.75 x
    path = write(tmp_path / "stereo.wav", np.round(stereo).astype("<i2"), 44_100, channels=2)
    samples = read_wav(path)
    assert samples.dtype == np.int16
    assert abs(len(samples) - len(clip)) <= 1
    assert correlation(samples, clip) > 0.99
    level = np.sqrt(np.mean(samples.astype(np.float64) ** 2) / np.mean(clip.astype(np.float64) ** 2))
    assert level == pytest.approx(0.75, abs=0.03)


def test_8_khz_comes_back_as_16_khz_of_the_same_speech(tmp_path: Path, clip: np.ndarray) -> None:
    narrow = np.round(interpolate(clip, 8_000)).astype("<i2")
    samples = read_wav(write(tmp_path / "phone.wav", narrow, 8_000))
    assert abs(len(samples) - len(clip)) <= 1
    assert correlation(samples, clip) > 0.95  # what survives below 4 kHz: nearly all of speech


def test_a_rate_can_be_asked_for(clip: np.ndarray) -> None:
    samples = read_wav(CLIP, rate=8_000)
    assert abs(len(samples) - len(clip) / 2) <= 1


def refused(path: Path) -> str:
    with pytest.raises(BadMedia) as caught:
        read_wav(path)
    message = str(caught.value)
    assert str(path) in message
    return message


def test_a_file_cut_inside_its_header_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "cut-header.wav"
    path.write_bytes(CLIP.read_bytes()[:30])
    refused(path)


def test_a_file_cut_mid_sample_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "cut-mid-sample.wav"
    path.write_bytes(CLIP.read_bytes()[:-1])
    refused(path)


def test_a_file_that_is_not_a_wav_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("these are not the samples you are looking for\n" * 20)
    assert "not a readable PCM WAV" in refused(path)


def test_an_empty_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    refused(path)


def test_8_bit_samples_are_refused_naming_the_file_and_the_width(tmp_path: Path) -> None:
    path = write(tmp_path / "8bit.wav", np.full(1600, 128, np.uint8), SAMPLE_RATE, width=1)
    assert "8-bit" in refused(path)


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    assert "no such file" in refused(tmp_path / "nowhere.wav")


# -- frames ------------------------------------------------------------------------------


def test_frames_are_20_ms_with_start_times_from_sample_counts() -> None:
    samples = np.arange(5 * FRAME_SAMPLES, dtype=np.int16)
    chunks = list(frames(samples, start=7.5))
    assert [c.start for c in chunks] == pytest.approx([7.5, 7.52, 7.54, 7.56, 7.58])
    assert all(c.sample_rate == SAMPLE_RATE and c.samples == FRAME_SAMPLES for c in chunks)
    joined = np.frombuffer(b"".join(c.pcm for c in chunks), dtype="<i2")
    assert np.array_equal(joined, samples)


def test_the_last_frame_is_zero_padded() -> None:
    samples = np.full(2 * FRAME_SAMPLES + 17, 1000, np.int16)
    chunks = list(frames(samples))
    assert len(chunks) == 3
    last = np.frombuffer(chunks[-1].pcm, dtype="<i2")
    assert last.size == FRAME_SAMPLES
    assert np.all(last[:17] == 1000)
    assert np.all(last[17:] == 0)
    assert chunks[-1].start == pytest.approx(0.04)


def test_no_samples_no_frames() -> None:
    assert list(frames(np.zeros(0, np.int16))) == []


# -- resample and conversions ------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate_in", "rate_out"),
    [(16_000, 8_000), (8_000, 16_000), (44_100, 16_000), (48_000, 16_000), (22_050, 16_000)],
)
def test_resample_scales_the_length_by_the_rate_ratio(rate_in: int, rate_out: int) -> None:
    samples = (np.sin(np.arange(rate_in) * 2 * np.pi * 300 / rate_in) * 8000).astype(np.int16)
    out = resample(samples, rate_in, rate_out)
    assert out.dtype == np.int16
    assert abs(len(out) - rate_out) <= 2  # one second in, one second out


def test_resample_at_the_same_rate_returns_an_equal_copy(clip: np.ndarray) -> None:
    out = resample(clip, SAMPLE_RATE, SAMPLE_RATE)
    assert np.array_equal(out, clip)
    assert out is not clip


@pytest.mark.parametrize(("rate_in", "rate_out"), [(0, 16_000), (16_000, 0), (-8_000, 16_000)])
def test_resample_refuses_a_rate_that_is_not_positive(rate_in: int, rate_out: int) -> None:
    with pytest.raises(BadMedia, match=f"from {rate_in} Hz to {rate_out} Hz"):
        resample(np.zeros(10, np.int16), rate_in, rate_out)


def test_float_conversion_round_trips_and_clips() -> None:
    samples = np.array([-32768, -1, 0, 1, 16384, 32767], np.int16)
    floats = to_float(samples.astype("<i2").tobytes())
    assert floats.dtype == np.float32
    assert np.all((floats >= -1.0) & (floats < 1.0))
    assert np.abs(to_int16(floats).astype(np.int32) - samples).max() <= 1
    assert list(to_int16(np.array([-2.0, 2.0]))) == [-32768, 32767]


def test_the_quiet_before_a_line_is_trimmed_but_never_its_first_sound() -> None:
    rng = np.random.default_rng(3)
    hiss = rng.normal(0, 3, 960).astype(np.int16)  # 60 ms at about -80 dBFS, as Piper starts a line
    t = np.arange(3200) / SAMPLE_RATE
    onset = (np.linspace(0, 1, 3200) * 6000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)  # a soft attack
    trimmed = trim_leading_silence(np.concatenate([hiss, onset]))
    dropped = 960 + 3200 - len(trimmed)
    assert 0.04 * SAMPLE_RATE <= dropped <= 960  # most of the quiet goes, none of the line
    assert np.array_equal(trimmed[-3200:], onset)
    silent = np.zeros(1600, np.int16)
    assert np.array_equal(trim_leading_silence(silent), silent)  # nothing audible: left alone
    assert len(trim_leading_silence(onset)) == len(onset)
