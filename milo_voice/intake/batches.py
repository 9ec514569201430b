"""Upload batches and their extracted items: the one writer of `intake_batch` and `intake_item`.

A batch is created when an upload has been received on disk; the background job reads it and adds
one item per document or CSV row (progress in `done` / `total`); a recruiter then edits, selects,
ingests or discards items. Nothing here creates candidates: the workspace does, then marks items
ingested with the candidate's id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select

from milo_voice.store.repo import Invalid, NotFound, Repo, get_row, insert_row
from milo_voice.store.tables import (
    BatchStatus,
    Candidate,
    IntakeBatch,
    IntakeItem,
    Interview,
    ItemStatus,
)

EDITABLE = ("name", "email", "phone", "location", "external_id")
"""Fields a recruiter may change on the review screen."""
LIMITS = {"name": 200, "email": 320, "phone": 40, "location": 200, "external_id": 200}


@dataclass(frozen=True, slots=True)
class NewItem:
    """What the reader found in one document or row, before it is stored."""

    source: str
    name: str = ""
    email: str = ""
    phone: str = ""
    location: str = ""
    external_id: str = ""
    confidence: dict[str, Any] = field(default_factory=dict)
    problem: str = ""
    note: str = ""
    file_path: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class Existing:
    """A candidate already in the interview, for duplicate warnings."""

    candidate_id: int
    name: str
    email: str
    phone: str


class IntakeBatches(Repo):
    def create(self, slug: str, kind: str, filenames: Sequence[str], *, user_id: int | None,
               csv_layout: dict[str, Any] | None = None) -> int:
        if kind not in ("files", "csv"):
            raise Invalid(f"batch kind {kind!r}: expected files or csv")
        with self.unit() as session:
            return insert_row(session, IntakeBatch(
                interview_slug=slug, kind=kind, filenames=list(filenames), created_by=user_id,
                csv_layout=dict(csv_layout or {}), created_at=self.now()))

    def get(self, batch_id: int) -> IntakeBatch:
        with self.unit() as session:
            return get_row(session, IntakeBatch, batch_id)

    def for_interview(self, slug: str, limit: int = 20) -> list[IntakeBatch]:
        with self.unit() as session:
            return list(session.exec(select(IntakeBatch).where(IntakeBatch.interview_slug == slug)
                                     .order_by(col(IntakeBatch.id).desc()).limit(limit)))

    def set_total(self, batch_id: int, total: int) -> None:
        self._set(batch_id, total=max(0, total))

    def set_layout(self, batch_id: int, layout: dict[str, Any]) -> None:
        """The sniffed CSV layout; the batch waits for the recruiter to confirm its mapping."""
        self._set(batch_id, csv_layout=dict(layout), status=BatchStatus.MAPPING.value)

    def confirm_mapping(self, batch_id: int, mapping: dict[str, str]) -> None:
        """The recruiter's column mapping; the batch is then read (status reading)."""
        with self.unit() as session:
            batch = get_row(session, IntakeBatch, batch_id)
            if batch.status != BatchStatus.MAPPING.value:
                raise Invalid(f"this upload is {batch.status}: its mapping can no longer change")
            batch.csv_layout = {**batch.csv_layout, "mapping": dict(mapping)}
            batch.status = BatchStatus.READING.value
            session.add(batch)

    def restart(self, batch_id: int) -> None:
        """Before a (re-)run of the reading job: drop what a killed run left, so nothing doubles."""
        with self.unit() as session:
            for item in session.exec(select(IntakeItem).where(IntakeItem.batch_id == batch_id)):
                session.delete(item)
            session.execute(update(IntakeBatch).where(col(IntakeBatch.id) == batch_id)
                            .values(done=0, status=BatchStatus.READING.value, error=""))

    def add_items(self, batch_id: int, items: Iterable[NewItem], *, progress: int) -> list[int]:
        """Store `items` and add `progress` read units to `done`, in one transaction."""
        ids = []
        with self.unit() as session:
            position = session.exec(select(func.count()).select_from(IntakeItem)
                                    .where(IntakeItem.batch_id == batch_id)).one()
            for item in items:
                status = ItemStatus.PROBLEM if item.problem else ItemStatus.PENDING
                row = IntakeItem(batch_id=batch_id, position=position, status=status.value,
                                 **{k: _clip(k, getattr(item, k)) for k in EDITABLE},
                                 source=item.source[:300], confidence=dict(item.confidence),
                                 problem=item.problem, note=item.note, file_path=item.file_path,
                                 text=item.text)
                ids.append(insert_row(session, row))
                position += 1
            session.execute(update(IntakeBatch).where(col(IntakeBatch.id) == batch_id)
                            .values(done=IntakeBatch.done + progress))
        return ids

    def finish(self, batch_id: int) -> None:
        self._set(batch_id, status=BatchStatus.REVIEW.value, finished_at=self.now())

    def fail(self, batch_id: int, error: str) -> None:
        self._set(batch_id, status=BatchStatus.FAILED.value, error=error[:2000], finished_at=self.now())

    def items(self, batch_id: int) -> list[IntakeItem]:
        with self.unit() as session:
            return list(session.exec(select(IntakeItem).where(IntakeItem.batch_id == batch_id)
                                     .order_by(col(IntakeItem.position))))

    def item(self, item_id: int) -> IntakeItem:
        with self.unit() as session:
            return get_row(session, IntakeItem, item_id)

    def edit(self, batch_id: int, item_id: int, values: dict[str, str]) -> IntakeItem:
        """A recruiter's correction of one pending item (fields outside `EDITABLE` are refused)."""
        unknown = sorted(set(values) - set(EDITABLE))
        if unknown:
            raise Invalid(f"cannot edit {', '.join(unknown)}: editable fields are {', '.join(EDITABLE)}")
        with self.unit() as session:
            item = self._pending(session, batch_id, item_id)
            for key, value in values.items():
                if len(value.strip()) > LIMITS[key]:
                    raise Invalid(f"{key} is longer than {LIMITS[key]} characters")
                setattr(item, key, value.strip())
            item.edited = True
            session.add(item)
            session.flush()
            session.refresh(item)
            return item

    def discard(self, batch_id: int, item_ids: Sequence[int]) -> int:
        with self.unit() as session:
            result = session.execute(update(IntakeItem).where(
                col(IntakeItem.batch_id) == batch_id, col(IntakeItem.id).in_(list(item_ids)),
                col(IntakeItem.status) == ItemStatus.PENDING.value).values(status=ItemStatus.DISCARDED.value))
            self._settle(session, batch_id)
            return int(result.rowcount)  # type: ignore[attr-defined]

    def mark_ingested(self, batch_id: int, item_id: int, candidate_id: int) -> None:
        with self.unit() as session:
            item = self._pending(session, batch_id, item_id)
            item.status = ItemStatus.INGESTED.value
            item.candidate_id = candidate_id
            session.add(item)
            session.flush()
            self._settle(session, batch_id)

    def existing(self, slug: str) -> list[Existing]:
        """Candidates already in any version of interview `slug` (for duplicate warnings)."""
        with self.unit() as session:
            rows = session.exec(select(Candidate).join(Interview, col(Interview.id) == Candidate.interview_id)
                                .where(Interview.slug == slug))
            return [Existing(int(c.id or 0), c.name, c.email, c.phone) for c in rows]

    def resumable(self) -> list[int]:
        """Batches still reading (a restart re-enqueues their job if the job table lost it)."""
        with self.unit() as session:
            return [int(b.id or 0) for b in session.exec(
                select(IntakeBatch).where(IntakeBatch.status == BatchStatus.READING.value))]

    def _pending(self, session: Any, batch_id: int, item_id: int) -> IntakeItem:
        item = get_row(session, IntakeItem, item_id)
        if item.batch_id != batch_id:
            raise NotFound(f"intake_item {item_id} is not in batch {batch_id}")
        if item.status != ItemStatus.PENDING.value:
            raise Invalid(f"{item.source}: already {item.status}")
        return item

    def _settle(self, session: Any, batch_id: int) -> None:
        """A reviewed batch with nothing left pending is done."""
        batch = get_row(session, IntakeBatch, batch_id)
        if batch.status != BatchStatus.REVIEW.value:
            return
        left = session.exec(select(func.count()).select_from(IntakeItem).where(
            IntakeItem.batch_id == batch_id, IntakeItem.status == ItemStatus.PENDING.value)).one()
        if left == 0:
            batch.status = BatchStatus.DONE.value
            session.add(batch)

    def _set(self, batch_id: int, **values: Any) -> None:
        with self.unit() as session:
            done = session.execute(
                update(IntakeBatch).where(col(IntakeBatch.id) == batch_id).values(**values))
            if done.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound(f"intake_batch {batch_id} does not exist")


def _clip(key: str, value: str) -> str:
    return (value or "").strip()[: LIMITS[key]]
