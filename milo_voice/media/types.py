"""The media seam: audio chunks in the internal format, and the Protocols of everything media
hands to a dialogue: the `Transport`, the voice-activity detector and segmenter, the recorder,
and the transcriber (live text at pauses, one final decode per answer).

Internal audio is 16 kHz mono signed 16-bit little-endian PCM in 20 ms frames (320 samples).
Media time is derived from sample counts, never from the wall clock. `dialogue` imports this
module and nothing else of media (tests/test_layering.py); `calls` builds the concrete parts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from milo_voice.errors import BadMedia

SAMPLE_RATE = 16_000
"""Internal sample rate (Hz): what Whisper, webrtcvad and Smart Turn all take."""
FRAME_SECONDS = 0.02
"""Internal frame length (s): webrtcvad accepts 10/20/30 ms; 20 ms matches telephony."""
FRAME_SAMPLES = int(SAMPLE_RATE * FRAME_SECONDS)
FRAME_BYTES = FRAME_SAMPLES * 2
STRONG_DB = 20.0
"""A frame this far above the room's noise floor (dB) is a voice, not room noise: on the corpus's
answers, phone and wide-band, no noise burst after an answer reaches it for three frames in a row, and
most speech runs do (bench/onsets.py chose the level for the early mute, leaving one speaker out)."""
DUCK_GAIN = 0.25
"""Playout gain while the candidate speaks over the interviewer (-12 dB: audibly yielding)."""
NOISE_WORDS = frozenset({"you", "thank", "thanks", "bye", "hmm", "mm"})
"""What Whisper tends to hear in a cough, a breath or room noise."""


def is_noise_text(text: str) -> bool:
    """True for empty text or text made only of the recogniser's noise words."""
    return all(w.strip(".,!?'\"").lower() in NOISE_WORDS for w in text.split())


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
    """One live call, whatever carries it: a WebRTC peer, a phone websocket, or a file.

    A transport whose buffers delay the candidate's audio or the reply beyond what media time counts
    also has `heard_delay` (seconds; the turn-taking waits end that much sooner: `TurnParams.heard_delay`).
    """

    call_id: str
    on_played: Callable[[AudioChunk], None] | None
    """Called with each interviewer frame as the candidate hears it (its media time), for the
    recording and the heard-lines bookkeeping; set by whoever runs the session."""

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


@dataclass(frozen=True, slots=True)
class SpeechEdge:
    """Speech started or stopped, at a media time (s)."""

    speaking: bool
    at: float
    """Media time of the edge: first speech frame's start, or last speech frame's end."""


@dataclass(frozen=True, slots=True)
class Word:
    """A recognised word with its place on the recording's timeline (s)."""

    text: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    words: tuple[Word, ...]
    cpu_s: float
    """CPU seconds the decode used: the calling thread's plus CTranslate2's workers' (see
    `cpu_clock`); where those counters are unreadable, wall time x threads (an upper bound)."""
    audio_s: float


class VoiceActivity(Protocol):
    """Per-frame speech decisions (webrtcvad behind a noise-floor gate: `media.vad.FrameVad`)."""

    loud: bool
    """The last frame was at speech level, whatever the VAD said."""

    def is_speech(self, frame: bytes) -> bool: ...


class SpeechSegments(Protocol):
    """Per-frame speech decisions -> speech start/end edges (`media.vad.SpeechSegmenter`)."""

    def push(self, is_speech: bool, at: float) -> SpeechEdge | None: ...
    def onset_pending(self) -> float | None: ...
    def trailing_speech(self) -> float: ...


class RecordingSink(Protocol):
    """Where both sides' audio is recorded (`media.recorder.Recorder`)."""

    def write_candidate(self, chunk: AudioChunk) -> None: ...
    def write_interviewer(self, chunk: AudioChunk) -> None: ...


class LiveText(Protocol):
    """One answer's text, decoded at each pause while the candidate speaks
    (`media.live_transcript.LiveTranscript`)."""

    decoded_upto: int
    """Samples of the answer buffer already decoded or being decoded."""
    done_upto: int
    """Samples of the answer buffer whose decode has finished (the text covers them)."""

    @property
    def text(self) -> str: ...

    def on_pause(self, audio: np.ndarray, pause_at_sample: int, *,
                 speech_s: float | None = None) -> Awaitable[str | None] | None:
        """The pending decode of the new audio (its text; None if the decode failed), or None."""
        ...
    async def finish(self, audio: np.ndarray, speech_end_sample: int) -> str: ...
    def take_cpu(self) -> float: ...
    def cancel(self) -> None: ...


class Decoder(Protocol):
    """Blocking Whisper decodes (`media.asr.WhisperEngine` in this process, or
    `media.asr_processes.WhisperProcesses` in child processes); called from the ASR executor."""

    @property
    def measures_cpu(self) -> bool: ...
    @property
    def live_slots(self) -> int:
        """Live decodes it runs at once (the live queue's slots)."""
        ...
    def decode_live(self, audio: np.ndarray, *, prompt: str = "") -> Decoded: ...
    def decode(self, audio: np.ndarray, *, offset: float = 0.0) -> Decoded: ...


class Transcriber(Protocol):
    """Speech recognition as a dialogue uses it (`media.asr.WhisperTranscriber`)."""

    def live(self, on_decoded: Callable[[Decoded], None], *,
             paused: Callable[[], bool] | None = None) -> LiveText:
        """A new answer's live text; `on_decoded` is called after each decode; `paused` says whether
        the candidate is silent now (their decodes then go before those of candidates speaking)."""
        ...

    async def final(self, audio: np.ndarray, *, offset: float) -> Decoded:
        """The stored transcript: the whole answer decoded once, off the event loop."""
        ...
