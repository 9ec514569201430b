"""Voice activity: webrtcvad per 20 ms frame behind a level gate, smoothed into speech edges.

webrtcvad alone hears some rooms' noise (around -50 dBFS) as speech, so a frame only counts as
speech when it is also clearly above a running noise-floor estimate. `SpeechSegmenter` is pure
(no clock, no I/O): it turns per-frame decisions into `SpeechEdge`s with media timestamps.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import webrtcvad

from milo_voice.errors import BadMedia
from milo_voice.media.types import FRAME_BYTES, FRAME_SECONDS, SAMPLE_RATE, SpeechEdge

FLOOR_MARGIN_DB = 12.0
"""A speech frame must be this far above the noise floor (dB)."""
PEAK_RANGE_DB = 40.0
"""...and no more than this far below the recent speech peak (dB)."""
ABSOLUTE_GATE_DBFS = -70.0
"""Frames quieter than this are never speech, whatever webrtcvad says."""
DIGITAL_SILENCE_DBFS = -85.0
"""Frames at or below this (a muted or not-yet-open microphone) stay out of the floor estimate."""
FLOOR_WINDOW = 750
"""Frames (15 s) of level history; the floor is their 10th percentile."""
PEAK_DECAY_DB_PER_S = 3.0
HOLD_MARGIN_DB = 6.0
"""Once speaking, frames this far above the floor still count (soft endings, unvoiced sounds)."""
SOFT_FRAMES = 8
"""...for at most this many frames (160 ms) in a row without webrtcvad or the onset level agreeing."""
"""How fast the remembered speech peak decays (dB/s)."""


def frame_dbfs(frame: bytes) -> float:
    """RMS level of one s16le frame in dB relative to full scale."""
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float32)
    rms = float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0
    return 20.0 * math.log10(max(rms, 1.0) / 32768.0)


class FrameVad:
    """Per-frame speech decision: webrtcvad AND clearly above the room's noise (stateful)."""

    def __init__(self, mode: int = 2) -> None:
        self._vad = webrtcvad.Vad(mode)
        self._levels: deque[float] = deque(maxlen=FLOOR_WINDOW)
        self._since_floor = 0
        self.floor_dbfs = ABSOLUTE_GATE_DBFS - FLOOR_MARGIN_DB
        self.peak_dbfs = -120.0
        self._in_speech = False
        self._soft_frames = 0
        self.loud = False
        """The latest frame reached the speech gate's level (whatever webrtcvad said of it)."""
        self.above_floor_db = 0.0
        """The latest frame's level above the room's noise floor (dB)."""

    @property
    def gate_dbfs(self) -> float:
        """Level a frame must reach to start speech."""
        return max(
            ABSOLUTE_GATE_DBFS, self.floor_dbfs + FLOOR_MARGIN_DB, self.peak_dbfs - PEAK_RANGE_DB
        )

    @property
    def hold_dbfs(self) -> float:
        """Level that keeps speech going once it has started (hysteresis: soft word endings)."""
        return max(ABSOLUTE_GATE_DBFS, self.floor_dbfs + HOLD_MARGIN_DB)

    def is_speech(self, frame: bytes) -> bool:
        if len(frame) != FRAME_BYTES:
            raise BadMedia(f"VAD frame of {len(frame)} bytes; expected {FRAME_BYTES} (20 ms at 16 kHz)")
        level = frame_dbfs(frame)
        self._track(level)
        self.loud = level >= self.gate_dbfs
        self.above_floor_db = level - self.floor_dbfs
        if self._in_speech and level >= self.hold_dbfs:
            speech = level >= self.gate_dbfs or bool(self._vad.is_speech(frame, SAMPLE_RATE)) or (
                self._soft_frames < SOFT_FRAMES
            )
            self._soft_frames = 0 if level >= self.gate_dbfs else self._soft_frames + 1
        else:
            speech = level >= self.gate_dbfs and bool(self._vad.is_speech(frame, SAMPLE_RATE))
            self._soft_frames = 0
        if speech:
            self.peak_dbfs = max(self.peak_dbfs, level)
        self._in_speech = speech
        return speech

    def _track(self, level: float) -> None:
        if level > DIGITAL_SILENCE_DBFS:  # digital silence says nothing about the room's noise
            self._levels.append(level)
        self.peak_dbfs -= PEAK_DECAY_DB_PER_S * FRAME_SECONDS
        self._since_floor += 1
        if self._levels and (self._since_floor >= 10 or len(self._levels) < 10):
            self._since_floor = 0
            self.floor_dbfs = float(np.percentile(np.fromiter(self._levels, float), 10))


@dataclass(frozen=True, slots=True)
class SegmenterParams:
    onset: float = 0.12
    """Speech (s) within `onset_window` that starts a speech run (rejects clicks)."""
    onset_window: float = 0.2
    hangover: float = 0.24
    """Non-speech (s) that ends a speech run; the edge is stamped at the last speech frame."""


class SpeechSegmenter:
    """Per-frame booleans -> speech start/end edges. Pure: media time comes in with each frame."""

    def __init__(self, params: SegmenterParams | None = None) -> None:
        self.params = params or SegmenterParams()
        self.speaking = False
        self._recent: list[tuple[float, bool]] = []
        self._last_speech_end = 0.0

    def onset_pending(self) -> float | None:
        """While not speaking: the start of the first speech frame within the onset window, i.e.
        speech that may yet be confirmed as an onset (None if there is none, or while speaking)."""
        if self.speaking or not self._recent:
            return None
        end = self._recent[-1][0] + FRAME_SECONDS
        return next((t for t, s in self._recent if s and t >= end - self.params.onset_window - 1e-9), None)

    def trailing_speech(self) -> float:
        """Seconds of speech frames in a row up to the latest frame."""
        run = 0
        for _, s in reversed(self._recent):
            if not s:
                break
            run += 1
        return run * FRAME_SECONDS

    def push(self, is_speech: bool, at: float) -> SpeechEdge | None:
        """Feed one frame decision (frame starts at `at`); return an edge when one is confirmed."""
        p = self.params
        end = at + FRAME_SECONDS
        if is_speech:
            self._last_speech_end = end
        self._recent.append((at, is_speech))
        horizon = end - max(p.onset_window, p.hangover)
        while self._recent and self._recent[0][0] < horizon - 1e-9:
            self._recent.pop(0)
        if not self.speaking:
            window = [(t, s) for t, s in self._recent if t >= end - p.onset_window - 1e-9]
            if sum(FRAME_SECONDS for _, s in window if s) >= p.onset - 1e-9:
                self.speaking = True
                first = next(t for t, s in window if s)
                return SpeechEdge(True, first)
        elif end - self._last_speech_end >= p.hangover - 1e-9:
            self.speaking = False
            return SpeechEdge(False, self._last_speech_end)
        return None
