"""Finalises sessions a crashed or killed process left open: repairs and encodes their recordings.

Run at server start and by `milo-voice recover`; nothing captured before the crash is lost. With an
object store configured (MILO_STORAGE_URL) it then uploads every ended session's recording still on
disk: the ones it just recovered, and those whose upload failed before (`calls.recording_upload`).
An answer that was going on keeps the text stored so far, still marked `PARTIAL` (cut off) for
transcript views and scoring; its audio, including what came after that text, is in the recovered
recording.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from milo_voice.calls.recording_upload import upload_pending
from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.session_types import PARTIAL
from milo_voice.media.recorder import probe_duration, recover
from milo_voice.settings import Settings
from milo_voice.store.recordings import recordings_for

log = logging.getLogger(__name__)


def recover_sessions(store: SessionStore, settings: Settings | None = None) -> Iterator[str]:
    """Close every session this node left live (all of them without `settings`), finish the recordings of
    its sessions another node wrote off while it was down, then (given `settings` that name an object store)
    upload the recordings still on disk; yields one line per session for the operator."""
    nodes = None if settings is None else [settings.node, ""]  # another node's live sessions are its own
    for session_id in store.session_ids_with_status("live", nodes):
        row = store.get_session(session_id)
        if row is None:
            continue
        directory = Path(row.recording_dir) if row.recording_dir else None
        recording = recover(directory) if directory is not None and directory.is_dir() else None
        duration = probe_duration(recording) if recording is not None else None
        cut_off = store.close_partial_turns(session_id, duration)
        error = ("process ended during the session; recording recovered" if recording else
                 "process ended during the session; nothing was recorded")
        if cut_off:
            error += f"; {_answers(cut_off)} cut off (text up to the last pause kept, turn kind {PARTIAL})"
        store.end_session(
            session_id=session_id,
            status="interrupted",
            duration_s=duration,
            recording_path=str(recording) if recording else None,
            error=error,
        )
        log.info("recovery.session_closed",
                 extra={"session_id": session_id, "duration_s": duration, "cut_off": cut_off})
        yield (f"session {session_id}: interrupted, recording {recording} ({duration or 0:.1f} s)"
               + (f", {_answers(cut_off)} cut off" if cut_off else ""))
    if settings is not None:
        yield from _finish_written_off(store, settings.node)
    if settings is not None and settings.storage_url:
        yield from upload_pending(recordings_for(settings), store)


def _answers(count: int) -> str:
    return f"{count} answer" if count == 1 else f"{count} answers"


def _finish_written_off(store: SessionStore, node: str) -> Iterator[str]:
    """Sessions another node ended while this one was down: their recordings are here; finish them."""
    for row in store.written_off_here(node):
        directory = Path(row.recording_dir) if row.recording_dir else None
        if row.id is None or directory is None or not directory.is_dir():
            continue
        recording = recover(directory)
        if recording is None:
            continue
        duration = probe_duration(recording)
        store.set_recording(row.id, str(recording), duration)
        log.info("recovery.written_off_recording", extra={"session_id": row.id, "duration_s": duration})
        yield f"session {row.id}: recording recovered once this node was back, {recording} ({duration:.1f} s)"
