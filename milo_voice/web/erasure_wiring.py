"""The eraser and the data export of this app, built per request over `app.state` (engine, settings,
clock), with the TTS cache's file names from the calls room. Used by the candidate's privacy page
(`privacy_candidate.py`) and the recruiter's erase form (`workspace/erasure_pages.py`)."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import HTTPConnection

from milo_voice.calls.speech_cache import speech_paths
from milo_voice.scoring.service import notify_erased
from milo_voice.store.recordings import recordings_for
from milo_voice.workspace.data_export import DataExport
from milo_voice.workspace.erasure import Eraser, Erasure, Initiator
from milo_voice.workspace.personal_files import Dirs


def eraser(conn: HTTPConnection) -> Eraser:
    state = conn.app.state

    def announce(done: Erasure, initiated_by: Initiator, at: datetime) -> None:
        notify_erased(state.settings, state.engine, candidate_id=done.candidate_id,
                      tombstone_id=done.tombstone_id, initiated_by=initiated_by.value, erased_at=at)

    return Eraser.for_settings(state.engine, state.settings, speech_paths(state.settings), now=state.now,
                               announce=announce)


def data_export(conn: HTTPConnection) -> DataExport:
    state = conn.app.state
    dirs = Dirs(state.settings.recordings_dir, state.settings.uploads_dir)
    return DataExport(state.engine, dirs=dirs, now=state.now, recordings=recordings_for(state.settings))
