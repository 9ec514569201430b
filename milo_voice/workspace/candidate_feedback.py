"""What the team keeps on a candidate: internal notes and one rating per teammate. The one writer of
`candidate_note` and `candidate_rating` (moved out of `candidates` when intake grew that module)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import col, select

from milo_voice.store.repo import Invalid, Repo, get_row
from milo_voice.store.tables import AppUser, Candidate, CandidateNote, CandidateRating


@dataclass(slots=True)
class Feedback:
    """A candidate's notes and ratings, each with who and when."""

    notes: list[tuple[CandidateNote, str]] = field(default_factory=list)
    ratings: list[tuple[CandidateRating, str]] = field(default_factory=list)


class CandidateFeedback(Repo):
    def add_note(self, candidate_id: int, user_id: int, text: str) -> CandidateNote:
        text = text.strip()
        if not text:
            raise Invalid("a note cannot be empty")
        if len(text) > 10_000:
            raise Invalid("a note is limited to 10,000 characters")
        self._exists(candidate_id)
        with self.unit() as session:
            note = CandidateNote(candidate_id=candidate_id, user_id=user_id, text=text, created_at=self.now())
            session.add(note)
            return note

    def rate(
        self, candidate_id: int, user_id: int, *, stars: int | None = None, thumb: int | None = None
    ) -> None:
        """Set this user's stars (1-5) and/or thumb (+1/-1); a value left None keeps what was there."""
        if stars is not None and not 1 <= stars <= 5:
            raise Invalid("stars go from 1 to 5")
        if thumb is not None and thumb not in (1, -1):
            raise Invalid("a thumb is up (1) or down (-1)")
        self._exists(candidate_id)
        with self.unit() as session:
            row = session.exec(
                select(CandidateRating)
                .where(CandidateRating.candidate_id == candidate_id)
                .where(CandidateRating.user_id == user_id)
            ).first()
            if row is None:
                row = CandidateRating(candidate_id=candidate_id, user_id=user_id)
                session.add(row)
            if stars is not None:
                row.stars = stars
            if thumb is not None:
                row.thumb = thumb
            row.updated_at = self.now()

    def feedback(self, candidate_id: int) -> Feedback:
        with self.unit() as session:
            notes = session.exec(
                select(CandidateNote, AppUser.email)
                .join(AppUser, col(AppUser.id) == col(CandidateNote.user_id))
                .where(CandidateNote.candidate_id == candidate_id)
                .order_by(col(CandidateNote.id))
            ).all()
            ratings = session.exec(
                select(CandidateRating, AppUser.email)
                .join(AppUser, col(AppUser.id) == col(CandidateRating.user_id))
                .where(CandidateRating.candidate_id == candidate_id)
                .order_by(col(CandidateRating.id))
            ).all()
        return Feedback([(n, e) for n, e in notes], [(r, e) for r, e in ratings])

    def _exists(self, candidate_id: int) -> None:
        with self.unit() as session:
            get_row(session, Candidate, candidate_id)
