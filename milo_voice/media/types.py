"""The media seam: audio chunks in the internal format and the `Transport` protocol.

Internal audio is 16 kHz mono signed 16-bit little-endian PCM in 20 ms frames (320 samples).
Media time is derived from sample counts, never from the wall clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from milo_voice.errors import BadMedia

SAMPLE_RATE = 16_000
"""Internal sample rate (Hz): what Whisper, webrtcvad and Smart Turn all take."""
FRAME_SECONDS = 0.02
"""Internal frame length (s): webrtcvad accepts 10/20/30 ms; 20 ms matches telephony."""
FRAME_SAMPLES = int(SAMPLE_RATE * FRAME_SECONDS)
FRAME_BYTES = FRAME_SAMPLES * 2


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """A piece of mono s16le audio placed on the call's timeline."""

    pcm: bytes
    """Mono signed 16-bit little-endian samples."""
    sample_rate: int = SAMPLE_RATE
    """Samples per second (Hz)."""
    start: float = 0.0
    """Seconds since call start, from sample counts."""

    def __post_init__(self) -> None:
        if len(self.pcm) % 2:
            raise BadMedia(f"PCM chunk of {len(self.pcm)} bytes: expected whole 16-bit samples")
        if self.sample_rate <= 0:
            raise BadMedia(f"sample rate {self.sample_rate} Hz: expected a positive rate")

    @property
    def samples(self) -> int:
        return len(self.pcm) // 2

    @property
    def duration(self) -> float:
        return self.samples / self.sample_rate

    @property
    def end(self) -> float:
        return self.start + self.duration


class Transport(Protocol):
    """One live call, whatever carries it: a WebRTC peer, a phone websocket, or a file."""

    call_id: str

    def inbound(self) -> AsyncIterator[AudioChunk]:
        """Candidate audio as 20 ms internal-format frames, in order, until the call ends."""
        ...

    async def play(self, chunk: AudioChunk) -> None:
        """Queue interviewer audio (internal format) for playout after what is queued."""
        ...

    async def clear(self) -> float:
        """Stop playback now; return the seconds of queued audio the candidate actually heard."""
        ...

    def playing_until(self) -> float:
        """Media time (s) at which the audio queued so far will have finished playing."""
        ...

    def duck(self, gain: float) -> None:
        """Set the interviewer's playout gain: lowered while the candidate talks over it, 0 to
        hold it silent, 1 to restore it (`media.ducking`); ramps in on the next frame sent."""
        ...

    async def close(self) -> None:
        """Hang up and release resources; idempotent."""
        ...
