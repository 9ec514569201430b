"""A dead node's session, written off by another node, gets its recording back from the live mirror.

When a node stops answering, the nodes still up end its live sessions as interrupted (`calls/heartbeat.py`).
Its recordings are on its disk, which may never come back; but with an object store, the live mirror
(`calls/live_mirror.py`) holds each session's audio up to its last half second. The node that wrote the
session off rebuilds that audio, finishes it as any recording (`Recorder`: stereo Ogg/Opus, checked),
uploads it, points the session at it, and deletes the mirror. The dead node's own recovery later leaves
such a session alone (it has a recording). Blocking: the heartbeat's thread runs it.
"""

from __future__ import annotations

import logging
import uuid

from milo_voice.calls.live_mirror import drop, rebuild
from milo_voice.calls.recording_upload import upload_session
from milo_voice.calls.session_store import SessionStore
from milo_voice.media.recorder import Recorder
from milo_voice.media.types import AudioChunk
from milo_voice.store.objects import StorageError
from milo_voice.store.recordings import Recordings

log = logging.getLogger(__name__)


def recover_from_mirror(recordings: Recordings, store: SessionStore, session_id: int) -> str | None:
    """The written-off session's recording, rebuilt from the mirror and stored; its path or URI, or None
    when there is no store or nothing was mirrored (then the dead node's own recovery is its only hope)."""
    objects = recordings.objects
    if objects is None:
        return None
    try:
        audio = rebuild(objects, session_id)
    except StorageError as exc:
        log.warning("mirror_recovery.unreadable", extra={"session_id": session_id, "error": str(exc)})
        return None
    if audio is None:
        return None
    directory = recordings.root / f"session-recovered-{session_id}-{uuid.uuid4().hex[:8]}"
    recorder = Recorder(directory, sample_rate=audio.sample_rate)
    if audio.candidate:
        recorder.write_candidate(AudioChunk(audio.candidate, audio.sample_rate, 0.0))
    if audio.interviewer:
        recorder.write_interviewer(AudioChunk(audio.interviewer, audio.sample_rate, 0.0))
    path = recorder.finalize()
    store.set_recording(session_id, str(path), recorder.duration, recording_dir=str(directory))
    try:
        where = upload_session(recordings, store, session_id) or str(path)
    except (StorageError, OSError, ValueError) as exc:  # kept on this disk; `recover` uploads it later
        log.warning("mirror_recovery.upload_deferred", extra={"session_id": session_id, "error": str(exc)})
        where = str(path)
    drop(objects, session_id)
    log.info("mirror_recovery.recording_kept",
             extra={"session_id": session_id, "duration_s": round(audio.duration_s, 3), "where": where})
    return where
