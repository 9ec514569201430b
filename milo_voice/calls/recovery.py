"""Finalises sessions a crashed or killed process left open: repairs and encodes their recordings.

Run at server start and by `milo-voice recover`; nothing captured before the crash is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from milo_voice.calls.session_store import SessionStore
from milo_voice.media.recorder import probe_duration, recover

log = logging.getLogger(__name__)


def recover_sessions(store: SessionStore) -> Iterator[str]:
    """Close every session still marked live; yields one line per session for the operator."""
    for session_id in store.session_ids_with_status("live"):
        row = store.get_session(session_id)
        if row is None:
            continue
        directory = Path(row.recording_dir) if row.recording_dir else None
        recording = recover(directory) if directory is not None and directory.is_dir() else None
        duration = probe_duration(recording) if recording is not None else None
        store.end_session(
            session_id=session_id,
            status="interrupted",
            duration_s=duration,
            recording_path=str(recording) if recording else None,
            error="process ended during the session; recording recovered" if recording else
            "process ended during the session; nothing was recorded",
        )
        log.info("recovery.session_closed", extra={"session_id": session_id, "duration_s": duration})
        yield f"session {session_id}: interrupted, recording {recording} ({duration or 0:.1f} s)"
