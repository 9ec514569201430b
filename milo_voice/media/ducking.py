"""The interviewer's playout gain: ducked while the candidate talks over it, faded at a cut.

When the candidate starts speaking over the interviewer, the interviewer yields at once by
dropping its volume (`DUCK_GAIN`, about -12 dB) within the next frame; a backchannel ("mm-hm")
that ends soon restores it, real speech that goes on stops it (the session's barge-in). Right
after an end of turn, when speech most likely means the answer goes on, it falls silent instead
(gain 0) until the speech is plainly speech (then the reply is stopped) or proves a noise burst
(then it goes on). Gain changes ramp across one 20 ms frame so they never click. Pure.
"""

from __future__ import annotations

import numpy as np


def ramp(pcm: bytes, start: float, end: float) -> bytes:
    """s16le audio multiplied by a gain that moves linearly from `start` to `end` across it."""
    if start == end == 1.0:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    gain = np.linspace(start, end, num=samples.size, endpoint=False, dtype=np.float32)
    return np.round(samples * gain).astype("<i2").tobytes()


def fade_out(pcm: bytes, start: float = 1.0) -> bytes:
    """s16le audio ramped down to silence: what plays instead of a hard cut at a barge-in."""
    return ramp(pcm, start, 0.0)


class Ducker:
    """Playout gain for one call: `duck(DUCK_GAIN)` lowers it, `duck(0)` silences it, `duck(1)`
    restores it; each change ramps across the next frame."""

    def __init__(self) -> None:
        self.gain = 1.0
        self.target = 1.0

    def duck(self, gain: float) -> None:
        self.target = min(max(gain, 0.0), 1.0)

    def step(self) -> tuple[float, float]:
        """The gain across the next outgoing frame: (at its start, at its end)."""
        start, self.gain = self.gain, self.target
        return start, self.gain

    def apply(self, frame: bytes) -> bytes:
        """One outgoing frame at the current gain, ramping to the target within it."""
        return ramp(frame, *self.step())

    def reset(self) -> None:
        self.gain = self.target = 1.0

    def fade(self, frame: bytes) -> bytes:
        """The frame that ends a cut line: from the current gain down to silence; then full gain."""
        start, self.gain, self.target = self.gain, 1.0, 1.0
        return fade_out(frame, start)
