"""Candidates' resumes: the file (under MILO_UPLOADS_DIR) and its text. The one writer of
`candidate_resume`; a candidate has at most one (a newer upload replaces it)."""

from __future__ import annotations

from sqlmodel import select

from milo_voice.store.repo import Repo
from milo_voice.store.tables import CandidateResume

CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class Resumes(Repo):
    def attach(self, candidate_id: int, *, filename: str, path: str, size: int, text: str) -> CandidateResume:
        suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        with self.unit() as session:
            row = session.get(CandidateResume, candidate_id)
            if row is None:
                row = CandidateResume(candidate_id=candidate_id, filename="", path="", content_type="")
            row.filename, row.path, row.size, row.text = filename[:300], path, size, text
            row.content_type = CONTENT_TYPES.get(suffix, "application/octet-stream")
            row.created_at = self.now()
            session.add(row)
            session.flush()
            session.refresh(row)
            return row

    def get(self, candidate_id: int) -> CandidateResume | None:
        with self.unit() as session:
            return session.get(CandidateResume, candidate_id)

    def of(self, candidate_ids: list[int]) -> dict[int, CandidateResume]:
        if not candidate_ids:
            return {}
        with self.unit() as session:
            rows = session.exec(select(CandidateResume).where(
                CandidateResume.candidate_id.in_(candidate_ids)))  # type: ignore[attr-defined]
            return {r.candidate_id: r for r in rows}
