"""Mirrors a live session's recording to the object store, so another node can rebuild it (issue 21 item 4).

Why: the recorder (media/recorder.py) makes the two WAV tracks crash-safe on the node's own disk, but when
a node dies its disk may die with it, and the node that adopts the call cannot reach that disk anyway.
The object store (MILO_STORAGE_URL, docs/storage.md) is the only storage every node reaches. So, about
once a second, right after the recorder's flush, `LiveMirror.sync` uploads the samples flushed since the
last upload, both tracks in one object: one PUT per session per second, ~64 kB/s per call (2 tracks x
16 kHz x 2 bytes). A node's death then loses at most the last second, and the adopting node calls
`rebuild` to get the audio up to the dead node's last upload, pre-fills its own recorder with it and goes
on recording (and mirroring, one generation up). When the session's recording is finished and stored,
`drop` deletes the pieces.

Format. Keys: `live/<session_id>/<generation:03d>/<seq:08d>.pcm`; generation 1 is the node that started
the session, each adoption adds one (`next_generation`); seq counts a generation's uploads from 0. An
object holds the header `<4sIQIQI` = (b"MLV1", sample_rate, candidate_first_sample, candidate_bytes,
interviewer_first_sample, interviewer_bytes), then the candidate's s16le PCM, then the interviewer's.
`rebuild` applies the objects in (generation, seq) order, each track's bytes at sample `first_sample`:
gaps become silence, later pieces overwrite what they cover.

Only appended samples are mirrored: a recorder patch that rewrites samples already mirrored (audio placed
earlier than the last flush) reaches the store only if the node lives to upload the finished recording.
Every call here blocks on disk or network: run them in an executor, never on the event loop.
"""

from __future__ import annotations

import logging
import os
import re
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from milo_voice.media.recorder import CANDIDATE, INTERVIEWER
from milo_voice.store.objects import ObjectMissing, ObjectStore, StorageError

log = logging.getLogger(__name__)

LIVE_PREFIX = "live"
MAGIC = b"MLV1"
CHUNK_HEADER = struct.Struct("<4sIQIQI")
"""magic, sample rate, candidate first sample and bytes, interviewer first sample and bytes."""
WAV_HEADER_BYTES = 44
"""The recorder's WAV header: PCM data starts right after it."""
MAX_TRACK_BYTES = 4 * 1024 * 1024
"""Bytes of one track per object (~2 min at 16 kHz): a backlog after an outage goes up in several PUTs."""
MAX_RATE = 384_000
"""Hz; a higher rate in a piece's header means the piece is corrupt."""
MAX_SECONDS = 24 * 3600
"""A piece placed later than this into the session is corrupt, not audio: skipped rather than padded."""
READERS = 8
"""Objects `rebuild` downloads at once: an hour of call is 3600 small objects."""
_KEY = re.compile(r"(\d+)/(\d+)\.pcm")
TRACKS = (CANDIDATE, INTERVIEWER)


def session_prefix(session_id: int) -> str:
    """Where a session's mirror objects live: `live/<session_id>/`."""
    return f"{LIVE_PREFIX}/{session_id}/"


def chunk_key(session_id: int, generation: int, seq: int) -> str:
    return f"{session_prefix(session_id)}{generation:03d}/{seq:08d}.pcm"


def _chunk_keys(objects: ObjectStore, session_id: int) -> list[tuple[int, int, str]]:
    """(generation, seq, key) of the session's mirror objects, in apply order; other keys are ignored."""
    prefix = session_prefix(session_id)
    found: list[tuple[int, int, str]] = []
    for info in objects.list_prefix(prefix):
        match = _KEY.fullmatch(info.key[len(prefix) :])
        if match:
            found.append((int(match[1]), int(match[2]), info.key))
    return sorted(found)


class LiveMirror:
    """Uploads what the recorder in `directory` has flushed since the last upload, as generation
    `generation` of session `session_id`'s mirror. One caller at a time (a lock orders callers)."""

    def __init__(
        self,
        objects: ObjectStore,
        session_id: int,
        generation: int,
        directory: Path,
        sample_rate: int = 16000,
        *,
        mirrored: tuple[int, int] = (0, 0),
    ) -> None:
        """`mirrored`: samples of (candidate, interviewer) at the start of the recorder's tracks that are
        already in the store and are not uploaded again (an adopting node passes the rebuilt lengths)."""
        if generation < 1 or sample_rate <= 0 or min(mirrored) < 0:
            raise ValueError(f"generation {generation}, sample_rate {sample_rate}, mirrored {mirrored}")
        self.objects, self.session_id, self.generation = objects, session_id, generation
        self.directory, self.sample_rate = Path(directory), sample_rate
        self.seq = 0  # the next upload's sequence number
        self._sent = [2 * mirrored[0], 2 * mirrored[1]]  # bytes of each track already in the store
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """No upload after this one returns (it waits for one in flight): the session's mirror is about to
        be deleted, and a late upload would leave an object behind. Blocking."""
        with self._lock:
            self._closed = True

    @property
    def sent_samples(self) -> tuple[int, int]:
        """Samples of (candidate, interviewer) uploaded so far."""
        return self._sent[0] // 2, self._sent[1] // 2

    def sync(self) -> int:
        """Upload every flushed sample not yet uploaded; the bytes uploaded (0: nothing new, or the store
        failed: then a warning is logged and the same samples go at the next call). Never raises
        StorageError. Blocking."""
        with self._lock:
            total = 0
            while not self._closed:
                pieces = [self._unsent(name, sent) for name, sent in zip(TRACKS, self._sent, strict=True)]
                if not any(pieces):
                    return total
                uploaded = self._upload(pieces)
                if not uploaded:
                    return total
                total += uploaded
            return total

    def _unsent(self, name: str, sent: int) -> bytes:
        """Up to MAX_TRACK_BYTES of the track's whole samples after the first `sent` bytes (a missing
        file is empty)."""
        try:
            fd = os.open(self.directory / name, os.O_RDONLY)
        except FileNotFoundError:
            return b""
        try:
            data_bytes = (os.fstat(fd).st_size - WAV_HEADER_BYTES) // 2 * 2
            wanted = min(data_bytes - sent, MAX_TRACK_BYTES)
            if wanted <= 0:
                return b""
            data = os.pread(fd, wanted, WAV_HEADER_BYTES + sent)
            return data[: len(data) // 2 * 2]
        finally:
            os.close(fd)

    def _upload(self, pieces: list[bytes]) -> int:
        """Put one object with both tracks' new bytes; its size, or 0 when the store failed."""
        candidate, interviewer = pieces
        first = [sent // 2 for sent in self._sent]
        header = CHUNK_HEADER.pack(
            MAGIC, self.sample_rate, first[0], len(candidate), first[1], len(interviewer)
        )
        key = chunk_key(self.session_id, self.generation, self.seq)
        try:
            uploaded = self.objects.put_bytes(key, header + candidate + interviewer)
        except StorageError as exc:
            log.warning(
                "mirror.upload_failed",
                extra={"session_id": self.session_id, "key": key, "error": str(exc)},
            )
            return 0
        self.seq += 1
        self._sent = [self._sent[0] + len(candidate), self._sent[1] + len(interviewer)]
        return uploaded


@dataclass
class Rebuilt:
    """A session's audio as mirrored: both tracks' s16le PCM from the session's start."""

    candidate: bytes
    interviewer: bytes
    sample_rate: int

    @property
    def duration_s(self) -> float:
        """Seconds of the longer track."""
        return max(len(self.candidate), len(self.interviewer)) / 2 / self.sample_rate


def rebuild(objects: ObjectStore, session_id: int) -> Rebuilt | None:
    """The session's audio from its mirror objects, or None when it has none. Malformed objects (and
    ones deleted meanwhile) are skipped with a warning; a store that cannot be reached raises
    StorageError (try again: None would claim the session recorded nothing). Blocking."""
    keys = [key for _, _, key in _chunk_keys(objects, session_id)]
    if not keys:
        return None
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        blobs = list(pool.map(lambda key: _read(objects, key), keys))
    tracks, rate = (bytearray(), bytearray()), 0
    for key, blob in zip(keys, blobs, strict=True):
        parsed = _parse(key, blob) if blob is not None else None
        if parsed is None:
            continue
        chunk_rate, placed = parsed
        if rate and chunk_rate != rate:
            _skip(key, f"recorded at {chunk_rate} Hz, the session's earlier pieces at {rate} Hz")
            continue
        rate = chunk_rate
        for track, (first, pcm) in zip(tracks, placed, strict=True):
            _place(track, first, pcm)
    if not rate:
        return None
    return Rebuilt(bytes(tracks[0]), bytes(tracks[1]), rate)


def _read(objects: ObjectStore, key: str) -> bytes | None:
    try:
        return objects.read_all(key)
    except ObjectMissing:
        _skip(key, "deleted while being read")
        return None


def _parse(key: str, blob: bytes) -> tuple[int, tuple[tuple[int, bytes], tuple[int, bytes]]] | None:
    """(sample rate, ((first sample, pcm) of candidate, of interviewer)), or None (warned) if malformed."""
    if len(blob) < CHUNK_HEADER.size:
        _skip(key, f"{len(blob)} bytes, shorter than the {CHUNK_HEADER.size}-byte header")
        return None
    magic, rate, c_first, c_bytes, i_first, i_bytes = CHUNK_HEADER.unpack_from(blob)
    body = len(blob) - CHUNK_HEADER.size
    if magic != MAGIC or not 0 < rate <= MAX_RATE or c_bytes % 2 or i_bytes % 2:
        _skip(key, "not a live mirror piece (bad magic, rate or odd byte count)")
        return None
    if max(c_first + c_bytes // 2, i_first + i_bytes // 2) > MAX_SECONDS * rate:
        _skip(key, f"places audio beyond {MAX_SECONDS} s into the session")
        return None
    if body != c_bytes + i_bytes:
        _skip(key, f"holds {body} bytes of audio, its header says {c_bytes + i_bytes} (truncated?)")
        return None
    start = CHUNK_HEADER.size
    candidate, interviewer = blob[start : start + c_bytes], blob[start + c_bytes :]
    return rate, ((c_first, candidate), (i_first, interviewer))


def _place(track: bytearray, first: int, pcm: bytes) -> None:
    """Write `pcm` at sample `first` of `track`: a gap before it becomes silence."""
    if not pcm:
        return
    at = 2 * first
    if at > len(track):
        track.extend(bytes(at - len(track)))
    track[at : at + len(pcm)] = pcm


def _skip(key: str, reason: str) -> None:
    log.warning("mirror.chunk_skipped", extra={"key": key, "reason": reason})


def drop(objects: ObjectStore, session_id: int) -> int:
    """Delete every object under `live/<session_id>/`; how many there were. Blocking."""
    infos = objects.list_prefix(session_prefix(session_id))
    for info in infos:
        objects.delete(info.key)
    return len(infos)


def next_generation(objects: ObjectStore, session_id: int) -> int:
    """The generation an adopting node mirrors as: 1 + the highest present (1 when there is none)."""
    return 1 + max((generation for generation, _, _ in _chunk_keys(objects, session_id)), default=0)
