"""Bulk intake as the recruiter uses it: start an upload, confirm a CSV's columns, review the extracted
profiles with their warnings, edit, discard, and ingest. Nothing becomes a candidate before `ingest`.

Ingesting a row adds the candidate through `Candidates.put` (so the same external id updates instead
of duplicating, and the usual checks apply: a malformed email stays in review with its message), keeps
the resume with them, and leaves the invitation to the outreach planner, which invites every newly
added candidate when outreach is on. Every ingest and discard is in the audit trail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from milo_voice.intake import csv_reader, upload_files
from milo_voice.intake.batches import IntakeBatches
from milo_voice.intake.reading import READ_JOB
from milo_voice.intake.resumes import Resumes
from milo_voice.intake.review import Known, Row, warnings
from milo_voice.scoring.jobs import JobQueue
from milo_voice.store.repo import Invalid, Repo
from milo_voice.store.tables import CandidateSource, IntakeBatch, IntakeItem, ItemStatus
from milo_voice.workspace.accounts import Principal
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.pipeline import Pipeline

OUR_FIELDS = ("name", "first_name", "last_name", "email", "phone", "location", "external_id")
"""What a CSV column can be mapped to."""


@dataclass(frozen=True, slots=True)
class ReviewItem:
    item: IntakeItem
    warnings: list[str]


@dataclass(frozen=True, slots=True)
class ReviewView:
    batch: IntakeBatch
    items: list[ReviewItem]

    @property
    def pending(self) -> int:
        return sum(1 for r in self.items if r.item.status == ItemStatus.PENDING.value)

    @property
    def problems(self) -> int:
        return sum(1 for r in self.items if r.item.status == ItemStatus.PROBLEM.value)


@dataclass(frozen=True, slots=True)
class Ingested:
    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    """Item id -> why it stayed in review (e.g. a malformed email, an email already in the interview)."""


class Intake(Repo):
    """Needs the job queue (to read batches in the background) and MILO_UPLOADS_DIR / MILO_DEFAULT_REGION."""

    def __init__(self, engine: object, queue: JobQueue, *, root: Path, region: str, **kw: object) -> None:
        super().__init__(engine, **kw)  # type: ignore[arg-type]
        self.queue, self.root, self.region = queue, root, region
        self.batches = IntakeBatches(self.engine, now=self.now)
        self.candidates = Candidates(self.engine, now=self.now)
        self.resumes = Resumes(self.engine, now=self.now)
        self.audit = Audit(self.engine, now=self.now)

    def new_batch(self, slug: str, kind: str, filenames: Sequence[str], who: Principal) -> int:
        """A batch whose files will be saved under `incoming_path(root, id, i, name)` by the caller."""
        return self.batches.create(slug, kind, filenames, user_id=who.user_id)

    def start_reading(self, batch_id: int) -> int:
        return self.queue.enqueue(READ_JOB, {"batch_id": batch_id})

    def sniff_csv(self, batch_id: int, max_bytes: int) -> None:
        """Read a CSV batch's head (encoding, delimiter, columns, preview, suggested mapping) and wait."""
        batch = self.batches.get(batch_id)
        path = upload_files.incoming_path(self.root, batch_id, 0, batch.filenames[0])
        layout = csv_reader.sniff_csv(path, max_bytes=max_bytes)
        self.batches.set_layout(batch_id, _as_json(layout))

    def confirm_mapping(self, batch_id: int, mapping: dict[str, str]) -> int:
        batch = self.batches.get(batch_id)
        columns = set(batch.csv_layout.get("columns") or [])
        chosen = {ours: column for ours, column in mapping.items() if column}
        bad = sorted(set(chosen) - set(OUR_FIELDS)) + sorted(c for c in chosen.values() if c not in columns)
        if bad:
            raise Invalid(f"unknown field or column: {', '.join(bad)}")
        if not ("name" in chosen or "first_name" in chosen or "last_name" in chosen):
            raise Invalid("map a column to the candidate's name (or first and last name)")
        self.batches.confirm_mapping(batch_id, chosen)
        return self.start_reading(batch_id)

    def review(self, batch_id: int) -> ReviewView:
        batch = self.batches.get(batch_id)
        items = self.batches.items(batch_id)
        live = [i for i in items if i.status in (ItemStatus.PENDING.value, ItemStatus.INGESTED.value)]
        rows = [Row(i.id or 0, i.source, i.name, i.email, i.phone, i.location, i.confidence) for i in live]
        mine = {i.candidate_id for i in items}
        known = [Known(e.candidate_id, e.name, e.email, e.phone)
                 for e in self.batches.existing(batch.interview_slug) if e.candidate_id not in mine]
        found = warnings(rows, known, region=self.region)
        return ReviewView(batch, [ReviewItem(i, found.get(i.id or 0, [])) for i in items])

    def edit(self, batch_id: int, item_id: int, values: dict[str, str]) -> IntakeItem:
        return self.batches.edit(batch_id, item_id, values)

    def discard(self, batch_id: int, item_ids: Sequence[int], who: Principal) -> int:
        count = self.batches.discard(batch_id, item_ids)
        self.audit.record(who, "intake_discard", "intake_batch", batch_id, items=list(item_ids),
                          discarded=count)
        return count

    def ingest(self, batch_id: int, item_ids: Sequence[int], who: Principal) -> Ingested:
        """Add (or update by external id) one candidate per selected pending item."""
        batch = self.batches.get(batch_id)
        chosen = set(item_ids)
        result = Ingested()
        pipeline = Pipeline(self.engine, queue=self.queue, now=self.now)
        for item in self.batches.items(batch_id):
            if item.id not in chosen or item.status != ItemStatus.PENDING.value:
                continue
            try:
                candidate, new = self.candidates.put(
                    slug=batch.interview_slug, name=item.name, email=item.email, phone=item.phone,
                    location=item.location, external_id=item.external_id, source=CandidateSource.BULK,
                    region=self.region)
            except Invalid as exc:
                result.refused[item.id or 0] = str(exc)
                continue
            cid = candidate.id or 0
            if item.file_path:
                size = upload_files.resolve(self.root, item.file_path).stat().st_size
                name = item.source.rsplit(" / ", 1)[-1]
                self.resumes.attach(cid, filename=name, path=item.file_path, size=size, text=item.text)
                pipeline.resume_arrived(cid)  # queues a resume screen when they are at one
            self.batches.mark_ingested(batch_id, item.id or 0, cid)
            (result.added if new else result.updated).append(cid)
        self.audit.record(who, "intake_ingest", "intake_batch", batch_id, added=result.added,
                          updated=result.updated, refused=len(result.refused))
        return result


def _as_json(layout: object) -> dict[str, object]:
    return dataclasses.asdict(layout)  # type: ignore[call-overload, no-any-return]
