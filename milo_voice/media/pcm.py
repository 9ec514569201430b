"""PCM plumbing: WAV reading with clear errors, resampling (PyAV), int16/float conversion, framing.

No I/O beyond reading and writing the files it is given.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from milo_voice.errors import BadMedia
from milo_voice.media.types import FRAME_SAMPLES, SAMPLE_RATE, AudioChunk


def to_float(pcm: bytes | np.ndarray) -> np.ndarray:
    """s16le bytes or int16 array -> float32 in [-1, 1)."""
    samples = np.frombuffer(pcm, dtype="<i2") if isinstance(pcm, bytes) else pcm
    return samples.astype(np.float32) / 32768.0


def to_int16(samples: np.ndarray) -> np.ndarray:
    """float in [-1, 1] -> int16, clipped."""
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)


def resample(samples: np.ndarray, rate_in: int, rate_out: int = SAMPLE_RATE) -> np.ndarray:
    """Resample mono int16 audio with PyAV (libswresample). Returns int16."""
    if rate_in <= 0 or rate_out <= 0:
        raise BadMedia(f"cannot resample from {rate_in} Hz to {rate_out} Hz")
    samples = np.ascontiguousarray(samples, dtype=np.int16)
    if rate_in == rate_out or samples.size == 0:
        return samples.copy()
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate_in
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate_out)
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(out).astype(np.int16) if out else np.zeros(0, np.int16)


def read_wav(path: Path | str, *, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Read a PCM WAV as mono int16 at `rate`: channels are averaged, other rates resampled.

    Raises `BadMedia` naming the file for anything that is not usable PCM audio, including a
    file truncated inside its header or data that ends mid-sample.
    """
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate_in = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.getnframes()
            raw = wav.readframes(frames)
    except FileNotFoundError:
        raise BadMedia(f"{path}: no such file") from None
    except (wave.Error, EOFError) as exc:
        raise BadMedia(f"{path}: not a readable PCM WAV file ({exc})") from None
    if width != 2:
        raise BadMedia(f"{path}: {8 * width}-bit samples; expected 16-bit PCM")
    if len(raw) % (2 * channels):
        raise BadMedia(f"{path}: audio data ends mid-sample (truncated file?); expected whole 16-bit frames")
    samples = np.frombuffer(raw, dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return resample(samples, rate_in, rate)


def write_wav(path: Path | str, samples: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    """Write mono int16 samples as a WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())


def frames(samples: np.ndarray, *, start: float = 0.0) -> Iterator[AudioChunk]:
    """Cut 16 kHz int16 audio into 20 ms chunks; the last one is zero-padded to a whole frame."""
    total = len(samples)
    for offset in range(0, total, FRAME_SAMPLES):
        piece = samples[offset : offset + FRAME_SAMPLES]
        if len(piece) < FRAME_SAMPLES:
            piece = np.concatenate([piece, np.zeros(FRAME_SAMPLES - len(piece), np.int16)])
        yield AudioChunk(piece.astype("<i2").tobytes(), SAMPLE_RATE, start + offset / SAMPLE_RATE)


LEAD_FLOOR_DBFS = -60.0
"""Audio quieter than this (5 ms RMS, dB full scale) before the first sound is dropped from a line."""
LEAD_KEEP = 0.005
"""Seconds kept before the first sound, so its onset is never clipped."""


def trim_leading_silence(samples: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
    """`samples` without the near-silence before their first sound (Piper starts each line with
    40-60 ms of it, which the candidate would otherwise wait through as dead air)."""
    window = max(1, int(rate * 0.005))
    whole = len(samples) // window
    if whole == 0:
        return samples
    blocks = samples[: whole * window].astype(np.float64).reshape(whole, window)
    level = np.sqrt(np.mean(blocks**2, axis=1))
    loud = np.flatnonzero(level >= 32768 * 10 ** (LEAD_FLOOR_DBFS / 20))
    if len(loud) == 0:
        return samples
    start = max(0, int(loud[0]) * window - int(rate * LEAD_KEEP))
    return samples[start:]
