"""Uploads a finished session's recording to the object store, and retries the ones that failed.

With MILO_STORAGE_URL set (docs/storage.md), `run_session` calls `upload_session` in a thread once the
call has closed (after the transport, so a WebRTC camera video is finished too). In order: every media
file of the session folder is put in the store and its size checked; the session row's
`recording_path` becomes the store's URI; only then are the local files deleted. Any failure leaves the
local files and the row's local path as they were, so the session plays from the disk meanwhile, and
`upload_pending` tries again: `milo-voice recover` and `milo-voice serve` at start both run it over every
ended session whose recording is still local (including what a killed process left, once recovery has
finished its recording). Without MILO_STORAGE_URL nothing here does anything.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from milo_voice.calls.session_store import SessionStore
from milo_voice.store.objects import StorageError
from milo_voice.store.recordings import Recordings, in_store

log = logging.getLogger(__name__)


def upload_session(recordings: Recordings, store: SessionStore, session_id: int) -> str | None:
    """Upload one ended session's recording; the URI it has now, or None when there is nothing to upload
    (no store configured, no recording, already uploaded). Raises StorageError (local files kept)."""
    row = store.get_session(session_id)
    if not recordings.uploads or row is None or not row.recording_path or in_store(row.recording_path):
        return None
    uri = recordings.upload(row.recording_dir, row.recording_path)
    store.set_recording_path(session_id, uri)
    dropped = recordings.drop_local(row.recording_dir)
    log.info(
        "storage.session_uploaded", extra={"session_id": session_id, "uri": uri, "local_dropped": dropped}
    )
    return uri


def upload_after_session(recordings: Recordings, store: SessionStore, session_id: int) -> str | None:
    """`upload_session` at a session's end: a failure is logged, never raised (the files stay local and
    `upload_pending` retries them at the next `recover` or start)."""
    try:
        return upload_session(recordings, store, session_id)
    except (StorageError, OSError, ValueError) as exc:
        log.warning(
            "storage.upload_deferred",
            extra={
                "session_id": session_id,
                "error": str(exc),
                "retry": "milo-voice recover, or the next start",
            },
        )
        return None


def upload_pending(recordings: Recordings, store: SessionStore) -> Iterator[str]:
    """Upload every ended session whose recording is still local; one line per session for the operator.
    A session whose upload fails is reported and skipped (tried again next time)."""
    if not recordings.uploads:
        return
    for session_id in store.local_recordings():
        try:
            uri = upload_session(recordings, store, session_id)
        except (StorageError, OSError, ValueError) as exc:
            log.warning("storage.upload_failed", extra={"session_id": session_id, "error": str(exc)})
            yield f"session {session_id}: upload failed, recording kept on disk ({exc})"
            continue
        if uri is not None:
            yield f"session {session_id}: recording uploaded to {uri}"
