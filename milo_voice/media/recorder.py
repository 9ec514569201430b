"""Crash-safe session recording: two mono WAV tracks on one timeline, finished as one stereo Ogg/Opus file.

Each flush appends samples, then rewrites the WAV sizes, fsyncing both, so a killed process leaves playable
WAVs for `recover()`. Everything but `write_*` and `duration` blocks on disk or CPU: run it in an executor.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import wave
from contextlib import ExitStack
from pathlib import Path

import av
import numpy as np

from milo_voice.errors import BadMedia
from milo_voice.media.types import SAMPLE_RATE, AudioChunk

log = logging.getLogger(__name__)

CANDIDATE, INTERVIEWER = "candidate.wav", "interviewer.wav"
TRACKS = (CANDIDATE, INTERVIEWER)
RECORDING = "recording.ogg"
"""The finished file: left channel = candidate, right channel = interviewer."""
OPUS_BIT_RATE = 32_000
"""bit/s for both channels together: clear 16 kHz speech at 14 MB per hour."""
OPUS_COMPLEXITY = 5
"""libopus complexity 0-10: 5 encodes ~90x real time on one core, 10 ~50x, with the same size and SNR."""
OPUS_RATES = (8_000, 12_000, 16_000, 24_000, 48_000)
"""Input rates libopus accepts: 16 kHz goes in as is, with no resampling; other rates go in as 48 kHz."""
DURATION_TOLERANCE = 0.05
"""Seconds the decoded recording may differ from the tracks before the encode counts as failed."""
_HEADER = "<4sI4s4sIHHIIHH4sI"  # RIFF size WAVE fmt 16 PCM channels rate byte-rate align bits data size
_HEADER_BYTES = 44
_BLOCK_SECONDS = 10
_MIN_SECONDS = 0.02  # an empty session still gets one silent Opus frame: header-only Ogg does not open


def _header(sample_rate: int, data_bytes: int) -> bytes:
    """Canonical 44-byte header of a mono 16-bit PCM WAV holding `data_bytes` of samples."""
    fmt = (16, 1, 1, sample_rate, 2 * sample_rate, 2, 16)
    return struct.pack(_HEADER, b"RIFF", 36 + data_bytes, b"WAVE", b"fmt ", *fmt, b"data", data_bytes)


class _Track:
    """One track's in-memory tail: samples not yet handed to disk, plus rewrites of handed-over ones.

    Placement rule: a chunk lands at sample `round(start * sample_rate)`. A gap before it becomes
    silence; where it overlaps earlier audio it overwrites the samples it covers and keeps the rest,
    whether those samples are still buffered or already on disk. The result never depends on flush timing.
    """

    def __init__(self, name: str, sample_rate: int) -> None:
        self.name, self.sample_rate = name, sample_rate
        self.taken = 0  # samples handed to `take()`: on disk, or about to be
        self.pending = bytearray()  # samples after those
        self.patches: list[tuple[int, bytes]] = []  # (first sample, pcm) rewrites of taken samples

    @property
    def samples(self) -> int:
        return self.taken + len(self.pending) // 2

    def place(self, chunk: AudioChunk) -> None:
        if chunk.sample_rate != self.sample_rate:
            raise BadMedia(f"{self.name} chunk at {chunk.sample_rate} Hz; recording at {self.sample_rate} Hz")
        if chunk.start < 0:
            raise BadMedia(f"{self.name} chunk starts at {chunk.start} s; expected a time >= 0")
        at, pcm = round(chunk.start * self.sample_rate), chunk.pcm
        if at < self.taken:
            head = min(len(pcm), 2 * (self.taken - at))
            self.patches.append((at, pcm[:head]))
            at, pcm = self.taken, pcm[head:]
        offset = 2 * (at - self.taken)
        if offset > len(self.pending):
            self.pending.extend(bytes(offset - len(self.pending)))
        self.pending[offset : offset + len(pcm)] = pcm

    def take(self) -> tuple[int, bytes, list[tuple[int, bytes]]]:
        """Hand over (first sample, new pcm, patches) for writing and forget them."""
        taken, data, patches = self.taken, bytes(self.pending), self.patches
        self.taken += len(data) // 2
        self.pending, self.patches = bytearray(), []
        return taken, data, patches


class Recorder:
    """Records one session's candidate and interviewer audio into `directory`.

    `write_*` only touch memory (safe on the event loop); `flush` and `finalize` must run in an executor.
    """

    def __init__(self, directory: Path, sample_rate: int = SAMPLE_RATE, flush_every: float = 1.0) -> None:
        if sample_rate <= 0 or flush_every <= 0:
            raise ValueError(f"sample_rate {sample_rate} Hz and flush_every {flush_every} s must be > 0")
        self.directory, self.sample_rate, self.flush_every = Path(directory), sample_rate, flush_every
        self.directory.mkdir(parents=True, exist_ok=True)
        if any((self.directory / name).exists() for name in (*TRACKS, RECORDING)):
            raise FileExistsError(f"{self.directory} holds an earlier session; use recover() on it")
        self._tracks = [_Track("candidate", sample_rate), _Track("interviewer", sample_rate)]
        self._fds = [os.open(self.directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL) for name in TRACKS]
        for fd in self._fds:
            os.pwrite(fd, _header(sample_rate, 0), 0)
            os.fsync(fd)
        _fsync_directory(self.directory)
        self._lock = threading.Lock()  # guards the tracks' memory: held for microseconds
        self._io_lock = threading.Lock()  # orders flushes and finalize; held during disk writes
        self._flushed_until, self._closed = 0.0, False
        self._recording: Path | None = None

    def write_candidate(self, chunk: AudioChunk) -> None:
        """Place candidate audio on the timeline (memory only)."""
        self._place(0, chunk)

    def write_interviewer(self, chunk: AudioChunk) -> None:
        """Place interviewer audio, as played to the candidate, on the timeline (memory only)."""
        self._place(1, chunk)

    def _place(self, track: int, chunk: AudioChunk) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"recorder for {self.directory} is finalized; it takes no more audio")
            self._tracks[track].place(chunk)

    @property
    def duration(self) -> float:
        """Seconds on the timeline: the end of the longer track, buffered audio included."""
        with self._lock:
            return max(track.samples for track in self._tracks) / self.sample_rate

    def due_for_flush(self, now: float) -> bool:
        """True once the media time `now` is `flush_every` seconds past what the last flush covered."""
        return now - self._flushed_until >= self.flush_every

    def flush(self) -> None:
        """Append buffered audio to both WAVs, then rewrite their sizes; blocking (fsync).

        Data is fsynced before the header that counts it, so the header never claims missing samples.
        """
        with self._io_lock:
            if not self._closed:
                self._write_pending()

    def _write_pending(self) -> None:
        with self._lock:
            work = [(fd, *track.take()) for fd, track in zip(self._fds, self._tracks, strict=True)]
            until = max(track.samples for track in self._tracks) / self.sample_rate
        for fd, first, data, patches in work:
            for at, pcm in patches:
                os.pwrite(fd, pcm, _HEADER_BYTES + 2 * at)
            if data:
                os.pwrite(fd, data, _HEADER_BYTES + 2 * first)
            if data or patches:
                os.fsync(fd)
            if data:
                os.pwrite(fd, _header(self.sample_rate, 2 * first + len(data)), 0)
                os.fsync(fd)
        self._flushed_until = until

    def finalize(self) -> Path:
        """Flush, close, encode `recording.ogg`, verify it, delete the WAVs; idempotent. Blocking.

        If encoding fails, the WAVs stay and `BadMedia` is raised; calling again retries.
        """
        with self._io_lock:
            if self._recording is None:
                if not self._closed:
                    with self._lock:
                        self._closed = True
                    try:
                        self._write_pending()
                    finally:
                        for fd in self._fds:
                            os.close(fd)
                self._recording = _finish(self.directory)
            return self._recording


def recover(directory: Path) -> Path | None:
    """Finish a session left behind by a killed process; None when it recorded nothing. Blocking.

    Each WAV header is rewritten from the file's actual size (cut to whole samples), which also
    keeps samples written after the last header update; then the tracks are finalised as usual.
    """
    directory = Path(directory)
    if (directory / RECORDING).exists():
        return _finish(directory)
    tracks = [directory / name for name in TRACKS if (directory / name).exists()]
    if sum(_repair(path) for path in tracks) == 0:
        return None
    log.info("recording.recovered", extra={"directory": str(directory)})
    return _finish(directory)


def _repair(path: Path) -> int:
    """Fix the sizes in a recorder WAV's header from the file size; return its samples."""
    with open(path, "r+b") as file:
        head = file.read(_HEADER_BYTES)
        if len(head) < _HEADER_BYTES:  # killed before the header landed: no audio either
            path.unlink()
            return 0
        riff, _, wave_id, fmt, _, pcm, channels, rate, _, _, bits, data, _ = struct.unpack(_HEADER, head)
        if (riff, wave_id, fmt, data, pcm, channels, bits) != (b"RIFF", b"WAVE", b"fmt ", b"data", 1, 1, 16):
            raise BadMedia(f"{path}: not a mono 16-bit WAV written by the recorder; cannot repair it")
        data_bytes = (os.fstat(file.fileno()).st_size - _HEADER_BYTES) // 2 * 2
        file.truncate(_HEADER_BYTES + data_bytes)
        file.seek(0)
        file.write(_header(rate, data_bytes))
        file.flush()
        os.fsync(file.fileno())
    return data_bytes // 2


def _finish(directory: Path) -> Path:
    """Encode the WAV tracks to `recording.ogg`, verify it, then delete them."""
    out, part = directory / RECORDING, directory / f"{RECORDING}.part"
    tracks = [directory / name for name in TRACKS]
    if not out.exists():  # an existing one was verified before it was renamed into place
        try:
            expected = _encode(tracks, part)
            decoded = _decoded_duration(part)
            if abs(decoded - expected) > DURATION_TOLERANCE:
                raise BadMedia(f"it decodes to {decoded:.3f} s, the tracks hold {expected:.3f} s")
        except (av.FFmpegError, OSError, wave.Error, EOFError, BadMedia) as exc:
            part.unlink(missing_ok=True)
            raise BadMedia(f"{directory}: encoding {RECORDING} failed ({exc}); WAV tracks kept") from exc
        os.replace(part, out)
        log.info("recording.finalized", extra={"duration_s": round(expected, 3), "bytes": out.stat().st_size})
    _fsync_directory(directory)
    for track in tracks:
        track.unlink(missing_ok=True)
    _fsync_directory(directory)
    return out


def _encode(tracks: list[Path], out: Path) -> float:
    """Write the tracks (left, right; a missing one is silence) as stereo Ogg/Opus; return seconds."""
    with ExitStack() as stack:
        present = [(channel, path) for channel, path in enumerate(tracks) if path.exists()]
        readers = [(channel, stack.enter_context(wave.open(str(path), "rb"))) for channel, path in present]
        rates = {reader.getframerate() for _, reader in readers} or {SAMPLE_RATE}
        if len(rates) > 1:
            raise BadMedia(f"tracks in {out.parent} have different rates: {sorted(rates)} Hz")
        rate = rates.pop()
        total = max([reader.getnframes() for _, reader in readers] + [round(_MIN_SECONDS * rate)])
        file = stack.enter_context(open(out, "wb"))
        container = stack.enter_context(av.open(file, "w", format="ogg"))
        opus_rate = rate if rate in OPUS_RATES else 48_000
        stream = container.add_stream("libopus", rate=opus_rate, layout="stereo", bit_rate=OPUS_BIT_RATE)
        stream.codec_context.options = {"application": "voip", "compression_level": str(OPUS_COMPLEXITY)}
        for first in range(0, total, _BLOCK_SECONDS * rate):
            stereo = np.zeros((min(_BLOCK_SECONDS * rate, total - first), 2), dtype="<i2")
            for channel, reader in readers:
                pcm = np.frombuffer(reader.readframes(len(stereo)), dtype="<i2")
                stereo[: len(pcm), channel] = pcm
            frame = av.AudioFrame.from_ndarray(stereo.reshape(1, -1), format="s16", layout="stereo")
            frame.sample_rate, frame.pts = rate, first
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        container.close()
        file.flush()
        os.fsync(file.fileno())
    return total / rate


def _decoded_duration(path: Path) -> float:
    """Seconds of audio the file actually decodes to (full decode; Opus decodes at ~900x real time)."""
    with av.open(str(path)) as container:
        return sum(frame.samples / frame.sample_rate for frame in container.decode(audio=0))


def probe_duration(path: Path) -> float:
    """Duration (s) of a WAV or Ogg file from its headers, without decoding.

    For Ogg/Opus this includes the encoder's pre-skip, a few milliseconds beyond the decoded audio.
    """
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise BadMedia(f"{path}: no audio stream")
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
    except av.FFmpegError as exc:
        raise BadMedia(f"{path}: not a readable audio file ({exc})") from None
    return _decoded_duration(path)


def _fsync_directory(directory: Path) -> None:
    """Make names created, renamed or deleted in `directory` durable (POSIX)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
