"""Inbound phone audio as the pipeline takes it: Twilio's 8 kHz mu-law `media` payloads become 16 kHz
20 ms frames on a timeline counted in samples. Lost media (a jump in Twilio's timestamps) is filled
with silence, so media time keeps step with the call. Pure: no I/O, no clock."""

from __future__ import annotations

import logging

import numpy as np

from milo_voice.media import mulaw
from milo_voice.media.halfband import Upsampler
from milo_voice.media.types import FRAME_SAMPLES, FRAME_SECONDS, SAMPLE_RATE, AudioChunk

log = logging.getLogger(__name__)

PHONE_RATE = 8000


class PhoneFramer:
    """One call's inbound audio: `push` each `media` payload, get the whole 16 kHz frames it completes."""

    def __init__(self, *, max_gap_fill: float) -> None:
        self.max_gap_fill = max_gap_fill
        """Longest silence (s) put in for lost media."""
        self._up = Upsampler()
        self._pending = np.zeros(0, np.int16)
        self._samples8 = 0  # phone samples received since the stream started (timestamps' clock)
        self._produced = 0  # 16 kHz frames made since the clock base

    def push(self, payload: bytes, timestamp_ms: int) -> list[AudioChunk]:
        out: list[AudioChunk] = []
        gap_ms = timestamp_ms - self._samples8 // 8
        if gap_ms > 2 * FRAME_SECONDS * 1000:  # lost media: keep the timeline in step with the call
            fill = min(gap_ms / 1000, self.max_gap_fill)
            out += self._add(np.zeros(int(fill * PHONE_RATE), np.int16))
            log.info("twilio.gap_filled", extra={"ms": round(fill * 1000)})
        return out + self._add(mulaw.decode(payload))

    def restart(self) -> None:
        """Media time starts again at 0 with the next frame."""
        self._produced = 0

    def _add(self, samples: np.ndarray) -> list[AudioChunk]:
        self._samples8 += len(samples)
        pcm = np.concatenate([self._pending, self._up.process(samples)])
        whole = len(pcm) // FRAME_SAMPLES
        out = []
        for i in range(whole):
            frame = pcm[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES].astype("<i2").tobytes()
            out.append(AudioChunk(frame, SAMPLE_RATE, self._produced * FRAME_SECONDS))
            self._produced += 1
        self._pending = pcm[whole * FRAME_SAMPLES :]
        return out
