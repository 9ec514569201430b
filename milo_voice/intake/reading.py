"""The background job that reads an upload batch: every document (also inside ZIPs) or every CSV row
becomes one review item, with the extractor's fields and doubts, or with the reason it cannot be read.

A file that cannot be read never stops the others: a hostile ZIP member, an encrypted PDF or a
broken CSV row becomes an item with a `problem` and the rest of the upload goes on. Progress is
stored as items are added (`done` of `total`), so the review page's bar moves while the job runs
and a page opened later shows where it is. A killed run is run again from the start by the job
queue; `IntakeBatches.restart` first drops what it had added, so nothing is doubled.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from milo_voice.intake import upload_files
from milo_voice.intake.batches import IntakeBatches, NewItem
from milo_voice.intake.csv_reader import CsvLayout, CsvRow, read_rows
from milo_voice.intake.document_text import UnreadableDocument
from milo_voice.intake.extract import extract_resume
from milo_voice.intake.llm_extract import LlmExtractor
from milo_voice.intake.upload_kind import UnsupportedUpload, sniff_file, sniff_kind
from milo_voice.intake.zip_reader import UnreadableArchive, ZipLimits, ZipMember, read_zip, zip_summary
from milo_voice.outreach.phones import e164
from milo_voice.store.tables import IntakeBatch

log = logging.getLogger(__name__)

READ_JOB = "intake.read"
"""Job kind: payload {"batch_id": int}."""
CSV_CHUNK = 200
"""CSV rows stored per transaction (and per progress step)."""


@dataclass(frozen=True, slots=True)
class Document:
    """One document to extract: where it came from, its name and bytes (or why it was refused)."""

    source: str
    name: str
    data: bytes = b""
    problem: str = ""


@dataclass
class BatchReader:
    batches: IntakeBatches
    root: Path
    """MILO_UPLOADS_DIR."""
    region: str = "US"
    zip_limits: ZipLimits = field(default_factory=ZipLimits)
    llm: LlmExtractor | None = None
    """MILO_INTAKE_LLM: proposals for the fields the offline extractor missed or doubted."""

    def read(self, batch_id: int) -> None:
        """Read the whole batch into items, then leave it for review (or failed, with the reason)."""
        batch = self.batches.get(batch_id)
        self.batches.restart(batch_id)
        try:
            if batch.kind == "csv":
                self._read_csv(batch)
            else:
                self._read_files(batch)
        except (UnreadableArchive, UnsupportedUpload, UnreadableDocument, ValueError, OSError) as exc:
            log.warning("intake.batch_failed", extra={"batch_id": batch_id, "error": str(exc)})
            self.batches.fail(batch_id, str(exc))
            return
        self.batches.finish(batch_id)
        log.info("intake.batch_read", extra={"batch_id": batch_id, "kind": batch.kind})

    # -- documents -----------------------------------------------------------------------------

    def _uploads(self, batch: IntakeBatch) -> list[tuple[str, Path]]:
        assert batch.id is not None
        return [(upload_files.display_name(name), upload_files.incoming_path(self.root, batch.id, i, name))
                for i, name in enumerate(batch.filenames)]

    def _read_files(self, batch: IntakeBatch) -> None:
        assert batch.id is not None
        uploads = self._uploads(batch)
        self.batches.set_total(batch.id, sum(self._count(name, path) for name, path in uploads))
        for index, document in enumerate(self._documents(uploads)):
            item = self._extract(batch.id, index, document)
            self.batches.add_items(batch.id, [item], progress=1)

    def _count(self, name: str, path: Path) -> int:
        try:
            if sniff_file(path, name) == "zip":
                return max(1, zip_summary(path, self.zip_limits)[0])
        except (UnsupportedUpload, UnreadableArchive, OSError):
            pass
        return 1

    def _documents(self, uploads: list[tuple[str, Path]]) -> Iterator[Document]:
        for name, path in uploads:
            try:
                kind = sniff_file(path, name)
            except UnsupportedUpload as exc:
                yield Document(name, name, problem=str(exc))
                continue
            if kind == "csv":
                yield Document(name, name, problem="a candidate list (CSV) goes in its own upload, "
                               "where its columns are mapped")
            elif kind == "zip":
                yield from self._zip_documents(name, path)
            else:
                yield Document(name, name, data=path.read_bytes())

    def _zip_documents(self, name: str, path: Path) -> Iterator[Document]:
        try:
            for member in read_zip(path, self.zip_limits):
                source = f"{name} / {upload_files.display_name(member.name)}"
                if isinstance(member, ZipMember):
                    yield Document(source, member.name, data=member.data)
                else:
                    yield Document(source, member.name, problem=member.message)
        except UnreadableArchive as exc:
            yield Document(name, name, problem=str(exc))

    def _extract(self, batch_id: int, index: int, document: Document) -> NewItem:
        if document.problem:
            return NewItem(source=document.source, problem=document.problem)
        try:
            kind = sniff_kind(document.name, document.data[:2048])
            if kind not in ("pdf", "docx"):
                raise UnsupportedUpload(f"{kind.upper()} inside an archive is not read: upload it on its own")
            found = extract_resume(document.data, document.name, default_region=self.region)
        except (UnsupportedUpload, UnreadableDocument) as exc:
            return NewItem(source=document.source, problem=str(exc))
        path = upload_files.save_doc(self.root, batch_id, index, "." + kind, document.data)
        if found.contacts is None:
            return NewItem(source=document.source, note=found.problem, file_path=path, text=found.text)
        c = found.contacts if self.llm is None else self.llm.improve(found.contacts, found.text, self.region)
        confidence = {name: {"confidence": round(guess.confidence, 2), "reason": guess.reason}
                      for name, guess in (("name", c.name), ("email", c.email), ("phone", c.phone),
                                          ("location", c.location))}
        return NewItem(source=document.source, name=c.name.value, email=c.email.value, phone=c.phone.value,
                       location=c.location.value, confidence=confidence, note=found.problem,
                       file_path=path, text=found.text)

    # -- CSV -----------------------------------------------------------------------------------

    def _read_csv(self, batch: IntakeBatch) -> None:
        assert batch.id is not None
        (_, path), = self._uploads(batch)
        layout = batch.csv_layout
        self.batches.set_total(batch.id, int(layout.get("row_estimate") or 0))
        chunk: list[NewItem] = []
        name = upload_files.display_name(batch.filenames[0])
        for row in read_rows(path, _layout(layout), dict(layout.get("mapping") or {})):
            chunk.append(self._csv_item(name, row))
            if len(chunk) >= CSV_CHUNK:
                self.batches.add_items(batch.id, chunk, progress=len(chunk))
                chunk = []
        if chunk:
            self.batches.add_items(batch.id, chunk, progress=len(chunk))

    def _csv_item(self, name: str, row: object) -> NewItem:
        source = f"{name}, line {getattr(row, 'line', '?')}"
        if not isinstance(row, CsvRow):
            return NewItem(source=source, problem=str(getattr(row, "message", "unreadable row")))
        v = row.values
        phone = v.get("phone", "")
        return NewItem(source=source, name=v.get("name", ""), email=v.get("email", ""),
                       phone=e164(phone, self.region) or phone, location=v.get("location", ""),
                       external_id=v.get("external_id", ""))


def _layout(stored: dict[str, object]) -> object:
    """The sniffed layout as the CSV reader wants it back (it was stored as JSON on the batch)."""
    fields = {k: v for k, v in stored.items() if k in CsvLayout.__dataclass_fields__}
    return CsvLayout(**fields)  # type: ignore[arg-type]
