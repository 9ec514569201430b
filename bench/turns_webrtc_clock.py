"""The server's events on the webrtc peer's clock: bench/turns_webrtc.py's calls, for bench/turns.py.

The server's media time counts the candidate's samples only from when its session starts listening
(frames before are dropped), so it is not the call's clock. Each answer the peer played is found in
the session's recording (its candidate channel, normalised cross-correlation at 16 kHz, the first
`MATCH_SECONDS` of speech) and the events are moved onto call time with the offset of the answer
they fall in (lost inbound frames would make later offsets larger). Pure but for decoding the file.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from fakes.twilio_caller import CallerAnswer

from milo_voice.dialogue import events as ev

WAV_RATE = 16_000
TICK = 0.02
MATCH_MIN = 0.5
"""Normalised cross-correlation below which an answer counts as not found in the recording."""
MATCH_SECONDS = 10.0
"""Seconds of each answer's speech matched against the recording."""
MEDIA_KEYS = ("at", "pause_at", "onset")
"""Event data fields holding a media time (moved onto call time with the event)."""


@dataclass(frozen=True, slots=True)
class Offset:
    """Where one answer lies on the server's media timeline."""

    media_start: float
    """Media time (s) at which the answer's first sample was recorded."""
    offset: float
    """Call time minus media time of the same audio (s)."""
    match: float
    """Normalised cross-correlation there (1: the same samples)."""


def recorded_candidate(path: Path) -> np.ndarray:
    """The candidate channel (left) of a session's recording.ogg, 16 kHz float."""
    resampler = av.AudioResampler(format="s16", layout="stereo", rate=WAV_RATE)
    parts = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            parts += [f.to_ndarray().reshape(-1, 2)[:, 0] for f in resampler.resample(frame)]
    parts += [f.to_ndarray().reshape(-1, 2)[:, 0] for f in resampler.resample(None)]
    return np.concatenate(parts).astype(np.float64) if parts else np.zeros(0)


def best_match(needle: np.ndarray, hay: np.ndarray) -> tuple[int, float]:
    """Offset in `hay` where `needle` fits best, and the normalised cross-correlation there."""
    n = len(needle)
    if len(hay) < n or n == 0:
        return 0, 0.0
    size = 1 << int(np.ceil(np.log2(len(hay) + n)))
    corr = np.fft.irfft(np.fft.rfft(hay, size) * np.conj(np.fft.rfft(needle, size)), size)[: len(hay) - n + 1]
    energy = np.concatenate([[0.0], np.cumsum(hay**2)])
    norms = np.sqrt(np.maximum(energy[n:] - energy[:-n], 1e-9)) * np.linalg.norm(needle)
    score = corr / norms
    k = int(np.argmax(score))
    return k, float(score[k])


def align(recording: np.ndarray, answers: Sequence[CallerAnswer], starts: Sequence[float]) -> list[Offset]:
    """Each played answer's offset: the first searched from call time 0 to its start, each next one
    from 0.5 s before to 3 s after the previous offset (lost inbound frames only make it grow)."""
    out: list[Offset] = []
    for answer, start in zip(answers, starts, strict=False):
        needle = answer.samples[: int(min(answer.speech_end, MATCH_SECONDS) * WAV_RATE)].astype(np.float64)
        lo, hi = (-0.5, start + 0.5) if not out else (out[-1].offset - 0.5, out[-1].offset + 3.0)
        first = max(int((start - hi) * WAV_RATE), 0)
        k, match = best_match(needle, recording[first : int((start - lo) * WAV_RATE) + len(needle)])
        if match < MATCH_MIN:
            print(f"  webrtc: answer at {start:.2f} s not found in the recording (match {match:.2f})",
                  file=sys.stderr)
            continue
        media = (first + k) / WAV_RATE
        out.append(Offset(round(media, 4), round(start - media, 4), round(match, 3)))
    return out


def edge_clock(rows: Sequence[Any], zero_mono: float) -> list[tuple[float, float]]:
    """(media start of the frame, call time the server processed it) for each speech edge event."""
    return [(float(r.media_time) - TICK, float(r.mono) - zero_mono) for r in rows
            if r.name in (ev.SPEECH_START, ev.SPEECH_END)]


def offset_at(media: float, offsets: Sequence[Offset], fallback: float) -> float:
    """Call time minus media time at media time `media`: the offset of the answer it falls in (the
    first answer's before it; `fallback` when no answer was found in the recording)."""
    found = [o.offset for o in offsets if o.media_start <= media]
    return found[-1] if found else offsets[0].offset if offsets else fallback


def on_call_time(events: list[dict[str, Any]], offsets: Sequence[Offset],
                 fallback: float) -> list[dict[str, Any]]:
    """`events` with their media times moved onto call time, by the offset of the answer they fall in."""
    def shift(media: float) -> float:
        return round(media + offset_at(media, offsets, fallback), 3)

    out = []
    for e in events:
        data = dict(e["data"])
        for key in MEDIA_KEYS:
            value = data.get(key)
            if isinstance(value, int | float) and (key != "onset" or value > 0):
                data[key] = shift(float(value))
        out.append({**e, "t": shift(float(e["t"])), "data": data})
    return out
