"""Outbound phone frames: a 20 ms frame in both encodings at the playout gain, and the record kept
of each frame sent until Twilio's mark says it was played.

Silencing the interviewer (`duck(0)`, when the candidate may be resuming a held answer) does not
send silent frames: Twilio would still play the lead it holds, and the candidate would hear the
reply go on for 100-150 ms after they resumed. The transport pauses, sends `clear`, and queues
again every frame not yet confirmed as played (`SentFrame.pcm`/`.phone`, as first queued);
lifting the mute plays on from there (at worst a mark's worth, 100 ms, is heard twice). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from milo_voice.media import mulaw
from milo_voice.media.ducking import Ducker, ramp


@dataclass(frozen=True, slots=True)
class SentFrame:
    """One outbound frame on its way: as heard (at the gain it was sent with), and as queued."""

    heard: bytes
    pcm: bytes
    phone: bytes


def at_gain(ducker: Ducker, pcm: bytes, phone: bytes) -> tuple[bytes, bytes]:
    """A frame about to be sent (16 kHz PCM, 8 kHz mu-law) at the ducking gain."""
    start, end = ducker.step()
    if start == end == 1.0:
        return pcm, phone
    scaled = ramp(mulaw.decode(phone).astype("<i2").tobytes(), start, end)
    return ramp(pcm, start, end), mulaw.encode(np.frombuffer(scaled, dtype="<i2"))
