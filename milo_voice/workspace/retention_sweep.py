"""The retention sweep (issue 20 item 3): remove what is past its window, through each table's writer.

`workspace.retention` decides what is due on a clock; this module does the removing, then writes one
audit event (`retention.sweep`, counts per category, never ids, names or text) and logs it. Every
step only touches data that still holds something, so a second run on the same clock removes
nothing more. What each window removes (rows are kept, so decisions and timings stay):

- recordings: the session's audio and video files (the final recording, the crash-safe tracks, a
  half-written encode, camera videos; `session_media`), on disk and, for an uploaded session, in the
  object store (`store.recordings`, docs/storage.md); the session row stays, `recording_path`
  emptied and `settings["retention"]["recording"]` set to when;
- transcripts: the text, live text and word timings of the session's turns (marked the same way,
  `"transcript"`); the answers of finished stages (form answers, SMS and assessment conversations);
- scores: every score run made before the cutoff (the card with its quoted evidence); finished
  stages' score, evidence, judgement and reason (the status, the decision, stays);
- messages: subjects and bodies of outreach messages done with, and the text of inbound replies.

The sessions' writer lives in `calls`, above this room: it comes in as `SessionRecords`
(`calls.session_store.SessionStore` is one). No report PDF or ZIP is kept on disk (they are built
on request), so there is no derived file to remove.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.outbox import Outbox
from milo_voice.scoring.store import ScoringStore
from milo_voice.store.recordings import Recordings
from milo_voice.store.repo import Clock
from milo_voice.store.tables import InterviewSession, utc_now
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.pipeline import Pipeline
from milo_voice.workspace.retention import (
    RECORDING,
    TRANSCRIPT,
    Category,
    Dated,
    RetentionPolicy,
    SweepReport,
    due,
    has_mark,
)
from milo_voice.workspace.retention_store import RetentionSettings

log = logging.getLogger(__name__)

ACTION = "retention.sweep"
"""The audit action of a sweep (target_type "retention")."""
MEDIA_SUFFIXES = frozenset({".ogg", ".opus", ".wav", ".webm", ".mp4", ".mkv", ".mp3", ".m4a", ".part"})
"""What a session's folder holds: recorder tracks (.wav), the recording (.ogg, .ogg.part while it is
encoded), camera videos (.webm). Anything else in the folder is left alone."""

Counts = dict[str, int]


class SessionRecords(Protocol):
    """The writer of sessions and turns, as the sweep needs it."""

    def ended_before(self, cutoff: datetime) -> list[InterviewSession]: ...

    def mark_recording_removed(self, session_id: int, at: datetime) -> None: ...

    def forget_transcript(self, session_id: int, at: datetime) -> int: ...


def session_media(recording_dir: str, recording_path: str | None) -> list[Path]:
    """The session's audio and video files on disk: its final recording and the media in its folder."""
    found: dict[Path, Path] = {}
    if recording_path and Path(recording_path).is_file():
        found[Path(recording_path).resolve()] = Path(recording_path)
    folder = Path(recording_dir) if recording_dir else None
    if folder is not None and folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix.lower() in MEDIA_SUFFIXES:
                found.setdefault(path.resolve(), path)
    return list(found.values())


def remove_session_media(
    recording_dir: str, recording_path: str | None, recordings: Recordings | None = None
) -> tuple[int, int]:
    """Delete the session's media files, then its folder if that left it empty; (files, bytes); with
    `recordings` that upload, its objects in the store too. An `OSError` (a file that cannot be deleted,
    a store that refuses: `StorageError`) propagates: the session is tried again next round."""
    files, size = recordings.remove_stored(recording_dir, recording_path) if recordings else (0, 0)
    for path in session_media(recording_dir, recording_path):
        length = path.stat().st_size
        path.unlink(missing_ok=True)
        files, size = files + 1, size + length
    folder = Path(recording_dir) if recording_dir else None
    if folder is not None and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    return files, size


class RetentionSweep:
    """One sweep over the database and the recordings, on an injectable clock."""

    def __init__(
        self,
        engine: Engine,
        sessions: SessionRecords,
        *,
        now: Clock = utc_now,
        recordings: Recordings | None = None,
    ) -> None:
        self.now, self.sessions, self.recordings = now, sessions, recordings
        self.windows = RetentionSettings(engine, now=now)
        self.scores = ScoringStore(engine, now=now)
        self.pipeline = Pipeline(engine, now=now)
        self.outbox = Outbox(engine, now=now)
        self.contacts = Contacts(engine, now=now)
        self.audit = Audit(engine, now=now)

    def run(self) -> SweepReport | None:
        """Remove what is past its window; the report, or None when every window keeps everything
        (nothing can be due: logged, no audit event)."""
        now, policy = self.now(), self.windows.policy()
        if policy.keeps_everything:
            log.info(
                "retention.sweep", extra={"decision": "skipped", "reason": "no window set: keep everything"}
            )
            return None
        steps: dict[Category, Callable[[datetime, RetentionPolicy, list[str]], Counts]] = {
            Category.RECORDINGS: self._recordings,
            Category.TRANSCRIPTS: self._transcripts,
            Category.SCORES: self._scores,
            Category.MESSAGES: self._messages,
        }
        removed: dict[str, Counts] = {}
        errors: list[str] = []
        for category, step in steps.items():
            if policy.days(category) is None:
                continue
            try:
                removed[category.value] = step(now, policy, errors)
            except Exception as exc:  # one category failing must not stop the others; next round retries
                log.exception("retention.category_failed", extra={"category": category.value})
                errors.append(f"{category.value}: {type(exc).__name__}")
        report = SweepReport(now, policy.as_dict(), removed, tuple(errors))
        self.audit.record(None, ACTION, "retention", "", **report.detail())
        log.info(
            "retention.sweep",
            extra={
                "decision": "swept",
                "windows": report.windows,
                "removed": report.removed,
                "total": report.total,
                "errors": list(report.errors),
            },
        )
        return report

    def _due_sessions(
        self, now: datetime, policy: RetentionPolicy, category: Category, mark: str
    ) -> list[InterviewSession]:
        cutoff = policy.cutoff(category, now)
        assert cutoff is not None
        items = [
            Dated(row, category, row.ended_at)
            for row in self.sessions.ended_before(cutoff)
            if not has_mark(row.settings, mark)
        ]
        return [item.key for item in due(now, policy, items)]

    def _recordings(self, now: datetime, policy: RetentionPolicy, errors: list[str]) -> Counts:
        counts = {"sessions": 0, "files": 0, "bytes": 0}
        for row in self._due_sessions(now, policy, Category.RECORDINGS, RECORDING):
            try:
                files, size = remove_session_media(row.recording_dir, row.recording_path, self.recordings)
            except OSError as exc:
                log.warning(
                    "retention.recording_not_removed",
                    extra={"session_id": row.id, "error": type(exc).__name__},
                )
                errors.append(f"recordings: {type(exc).__name__}")
                continue
            self.sessions.mark_recording_removed(row.id or 0, now)
            counts["sessions"] += 1
            counts["files"] += files
            counts["bytes"] += size
        return counts

    def _transcripts(self, now: datetime, policy: RetentionPolicy, errors: list[str]) -> Counts:
        counts = {"sessions": 0, "turns": 0, "stage_answers": 0}
        for row in self._due_sessions(now, policy, Category.TRANSCRIPTS, TRANSCRIPT):
            counts["turns"] += self.sessions.forget_transcript(row.id or 0, now)
            counts["sessions"] += 1
        cutoff = policy.cutoff(Category.TRANSCRIPTS, now)
        assert cutoff is not None
        counts["stage_answers"] = self.pipeline.forget_answers(cutoff)
        return counts

    def _scores(self, now: datetime, policy: RetentionPolicy, errors: list[str]) -> Counts:
        cutoff = policy.cutoff(Category.SCORES, now)
        assert cutoff is not None
        return {
            "scores": self.scores.delete_scores_before(cutoff),
            "stage_scores": self.pipeline.forget_scores(cutoff),
        }

    def _messages(self, now: datetime, policy: RetentionPolicy, errors: list[str]) -> Counts:
        cutoff = policy.cutoff(Category.MESSAGES, now)
        assert cutoff is not None
        return {
            "outreach": self.outbox.forget_bodies(cutoff),
            "inbound": self.contacts.forget_inbound(cutoff),
            "webhooks": self.scores.forget_delivery_bodies(cutoff),
        }


def last_sweeps(audit: Audit, limit: int = 5) -> list[dict[str, Any]]:
    """The newest sweeps in the audit trail (for the settings page), newest first."""
    events = audit.recent(limit=limit * 4, target_type="retention")
    return [{"at": e.at, **e.detail} for e in events if e.action == ACTION][:limit]
