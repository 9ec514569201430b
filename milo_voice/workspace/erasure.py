"""Erasure: one candidate removed from the database, the disk and the TTS cache (issue 20 item 3).

`Eraser.erase` reads the catalogue (`personal_data.collect`) and, in one transaction, scrubs the audit
events and intake batches that stay, deletes every other row of the candidate (children first, by
primary key), closes their erasure requests and writes the tombstone: who erased, when, why (the
admin's note, or "candidate request #id"), and counts of rows by table, with the files still to
remove. After the commit the files go through the `FileStore` seam (`personal_files`); the tombstone
then gets the files and bytes removed, and keeps only the paths that could not be removed, which the
next erasure tries again (`retry_left`). An audit event (`erase`) and a log line (`erasure.done`)
record it; neither, nor the tombstone, holds a name, an address, a number or anything said: the
reason is scrubbed of the candidate's identifiers too.

A candidate in a live session is not erased (`Busy`): the call would write turns and recording parts
after the erasure. Rows are deleted with SQLAlchemy Core over `Table.metadata`, table by table as the
catalogue found them: the eraser deletes from every table (the one exception to "one writer per
table", see tests/store/test_writers.py) and writes only `erasure_tombstone` through its class.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, update
from sqlmodel import Session, col, select

from milo_voice.dialogue.speaker import clauses
from milo_voice.settings import Settings
from milo_voice.store.recordings import recordings_for
from milo_voice.store.repo import Invalid, Repo, insert_row
from milo_voice.store.tables import ErasureTombstone, SessionStatus
from milo_voice.workspace.accounts import Principal
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.erasure_requests import close_requests
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.personal_data import Holdings, collect, scrub_detail, spoken_lines, tables
from milo_voice.workspace.personal_files import (
    Dirs,
    FileStore,
    LocalFiles,
    Removal,
    SpeechPaths,
    StoredFiles,
    files_of,
    remove_all,
)

log = logging.getLogger(__name__)

MAX_REASON = 2000
RETRY_TOMBSTONES = 500
"""Newest tombstones looked at for files left by an earlier erasure."""


class Initiator(StrEnum):
    CANDIDATE = "candidate"
    """The candidate confirmed a request through the emailed link."""
    ADMIN = "admin"
    RETENTION = "retention"


class Busy(Invalid):
    """The candidate is in a live session: erase once it has ended."""


@dataclass(frozen=True, slots=True)
class Erasure:
    tombstone_id: int
    candidate_id: int
    rows: dict[str, int]
    files: int
    bytes: int
    left: list[str] = field(default_factory=list)
    """Files that could not be removed (kept in the tombstone and tried again)."""

    @property
    def row_total(self) -> int:
        return sum(self.rows.values())


Announce = Callable[[Erasure, Initiator, datetime], object]
"""Called once a candidate is erased (the web app publishes the `candidate.erased` webhook)."""


class Eraser(Repo):
    def __init__(
        self,
        engine: Any,
        *,
        dirs: Dirs,
        speech: SpeechPaths | None = None,
        files: FileStore | None = None,
        announce: Announce | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(engine, **kw)
        self.dirs, self.speech, self.files = dirs, speech, files or LocalFiles()
        self.announce = announce

    @classmethod
    def for_settings(
        cls, engine: Any, settings: Settings, speech: SpeechPaths | None = None, **kw: Any
    ) -> Eraser:
        if settings.storage_url:  # uploaded recordings are erased from the object store too
            kw.setdefault("files", StoredFiles(recordings_for(settings)))
        return cls(engine, dirs=Dirs(settings.recordings_dir, settings.uploads_dir), speech=speech, **kw)

    def erase(
        self,
        candidate_id: int,
        *,
        initiated_by: Initiator,
        reason: str,
        by: Principal | None = None,
        request_id: int | None = None,
    ) -> Erasure:
        """Erase the candidate (NotFound if there is none, Busy while they are in a live session)."""
        self.retry_left()
        speech = self._speech(candidate_id)
        tombstone_id, rows, paths, note = self._remove_rows(
            candidate_id, initiated_by, reason, by, request_id, speech
        )
        removal = remove_all(self.files, paths)
        self._settle(tombstone_id, removal)
        Audit(self.engine, now=self.now).record(
            by,
            "erase",
            "candidate",
            candidate_id,
            tombstone=tombstone_id,
            initiated_by=initiated_by.value,
            reason=note,
        )
        done = Erasure(tombstone_id, candidate_id, rows, removal.files, removal.bytes, removal.left)
        self._announce(done, initiated_by)
        log.info(
            "erasure.done",
            extra={
                "candidate_id": candidate_id,
                "tombstone_id": tombstone_id,
                "initiated_by": initiated_by.value,
                "by_user": by.user_id if by else None,
                "rows": done.row_total,
                "files": removal.files,
                "bytes": removal.bytes,
                "files_left": len(removal.left),
                "reason": note,
            },
        )
        return done

    def _remove_rows(
        self,
        candidate_id: int,
        initiated_by: Initiator,
        reason: str,
        by: Principal | None,
        request_id: int | None,
        speech: list[Path],
    ) -> tuple[int, dict[str, int], list[Path], str]:
        """The one transaction: scrub, delete, close the requests, write the tombstone. Returns the
        tombstone's id, the rows removed by table, the files to remove and the scrubbed reason."""
        now = self.now()
        with self.unit() as session:
            held = collect(session, candidate_id)
            if any(s["status"] == SessionStatus.LIVE.value for s in held.sessions):
                raise Busy("the candidate is in an interview right now; erase them once it has ended")
            paths = files_of(held, self.dirs, speech)
            note = held.identifiers.redact(" ".join(reason.split())[:MAX_REASON])
            scrubbed = _scrub(session, held)
            requests = close_requests(session, candidate_id, request_id, now)  # before the candidate goes
            _delete(session, held)
            removed = {
                "rows": held.counts(),
                **scrubbed,
                "requests_closed": requests,
                "files": 0,
                "bytes": 0,
                "files_pending": [str(p) for p in paths],
            }
            tombstone = ErasureTombstone(
                former_candidate_id=candidate_id,
                interview_id=held.interview_id,
                initiated_by=initiated_by.value,
                erased_by=by.user_id if by else None,
                reason=note,
                removed=removed,
                erased_at=now,
            )
            return insert_row(session, tombstone), held.counts(), paths, note

    def _announce(self, done: Erasure, initiated_by: Initiator) -> None:
        """Tell the webhook receivers (`candidate.erased`); the erasure stands whatever happens here."""
        if self.announce is None:
            return
        try:
            self.announce(done, initiated_by, self.now())
        except Exception:  # the rows and files are gone; a queue that is down must not undo that
            log.exception("erasure.announce_failed", extra={"tombstone_id": done.tombstone_id})

    def _speech(self, candidate_id: int) -> list[Path]:
        """The TTS cache files of the interviewer's personal lines in the candidate's sessions."""
        if self.speech is None:
            return []
        with self.unit() as session:
            held = collect(session, candidate_id)
        interviews = Interviews(self.engine, now=self.now)
        lines = spoken_lines(held, lambda iid: interviews.script(iid).fixed_lines(), clauses)
        return self.speech(lines) if lines else []

    def _settle(self, tombstone_id: int, removal: Removal) -> None:
        with self.unit() as session:
            row = session.get(ErasureTombstone, tombstone_id)
            if row is None:
                return
            removed = dict(row.removed)
            removed["files"] = int(removed.get("files", 0)) + removal.files
            removed["bytes"] = int(removed.get("bytes", 0)) + removal.bytes
            removed["files_pending"] = list(removal.left)
            row.removed = removed
            session.add(row)

    def retry_left(self) -> int:
        """Try again to remove the files earlier erasures could not; returns how many went now."""
        with self.unit() as session:
            rows = session.exec(
                select(ErasureTombstone).order_by(col(ErasureTombstone.id).desc()).limit(RETRY_TOMBSTONES)
            ).all()
            pending = [(row.id, list(row.removed.get("files_pending") or [])) for row in rows]
        went = 0
        for tombstone_id, paths in pending:
            if tombstone_id is None or not paths:
                continue
            removal = remove_all(self.files, [Path(p) for p in paths])
            self._settle(tombstone_id, removal)
            went += len(paths) - len(removal.left)
            log.info(
                "erasure.files_retried",
                extra={"tombstone_id": tombstone_id, "removed": removal.files, "left": len(removal.left)},
            )
        return went

    def tombstones(self, *, limit: int = 50) -> list[ErasureTombstone]:
        with self.unit() as session:
            return list(
                session.exec(select(ErasureTombstone).order_by(col(ErasureTombstone.id).desc()).limit(limit))
            )


def _scrub(session: Session, held: Holdings) -> dict[str, int]:
    """Audit events about the candidate and the intake batches they came in with stay, without them."""
    t, who = tables(), held.identifiers
    events = batches = 0
    for event in held.audit_events:
        detail = scrub_detail(dict(event["detail"] or {}), who)
        if detail != event["detail"]:
            session.execute(
                update(t["audit_event"]).where(t["audit_event"].c.id == event["id"]).values(detail=detail)
            )
            events += 1
    for batch in held.batches:
        values = {key: who.scrub(batch[key]) for key in ("filenames", "csv_layout", "error")}
        if any(values[key] != batch[key] for key in values):
            session.execute(
                update(t["intake_batch"]).where(t["intake_batch"].c.id == batch["id"]).values(**values)
            )
            batches += 1
    return {"audit_events_scrubbed": events, "intake_batches_scrubbed": batches}


def _delete(session: Session, held: Holdings) -> None:
    """Every row the catalogue found, table by table, children before parents."""
    t = tables()
    for name, rows in held.rows.items():
        table = t[name]
        keys = list(table.primary_key.columns)
        if len(keys) == 1:
            values = [r[keys[0].name] for r in rows]
            for start in range(0, len(values), 500):
                session.execute(delete(table).where(keys[0].in_(values[start : start + 500])))
            continue
        for row in rows:
            session.execute(delete(table).where(and_(*[k == row[k.name] for k in keys])))


def counts_text(rows: dict[str, int]) -> str:
    """ "12 rows in 7 tables" for notices and pages."""
    total = sum(rows.values())
    return f"{total} row{'s' if total != 1 else ''} in {len(rows)} table{'s' if len(rows) != 1 else ''}"
