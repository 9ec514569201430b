"""Voluntary self-identification (sex, race/ethnicity): the one writer of `self_identification`.

What a candidate chooses to tell, for the bias audit only (`milo_voice.workspace.bias_audit`). It
is stored apart from the candidate, never shown on reviewer pages, never exported, never sent to a
scorer or the API: tests/test_layering.py allows only this module and the audit to import it. A
candidate may withdraw it at any time (the row is deleted). "Prefer not to say" (`declined`) is kept
as given and counted as unknown by the audit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete
from sqlmodel import col, select

from milo_voice.store.repo import Invalid, Repo, get_row
from milo_voice.store.tables import Candidate, RaceEthnicity, SelfIdentification, Sex

SEX_LABELS: dict[str, str] = {
    Sex.MALE.value: "Male",
    Sex.FEMALE.value: "Female",
    Sex.DECLINED.value: "Prefer not to say",
}
RACE_LABELS: dict[str, str] = {
    RaceEthnicity.HISPANIC_OR_LATINO.value: "Hispanic or Latino",
    RaceEthnicity.WHITE.value: "White",
    RaceEthnicity.BLACK_OR_AFRICAN_AMERICAN.value: "Black or African American",
    RaceEthnicity.NATIVE_HAWAIIAN_OR_PACIFIC_ISLANDER.value: "Native Hawaiian or Other Pacific Islander",
    RaceEthnicity.ASIAN.value: "Asian",
    RaceEthnicity.AMERICAN_INDIAN_OR_ALASKA_NATIVE.value: "American Indian or Alaska Native",
    RaceEthnicity.TWO_OR_MORE_RACES.value: "Two or More Races",
    RaceEthnicity.DECLINED.value: "Prefer not to say",
}
"""Display names of the EEO-1 categories (the order is the form's and the report's)."""


@dataclass(frozen=True, slots=True)
class Identified:
    """One candidate's answers, as the audit reads them."""

    candidate_id: int
    sex: str
    race_ethnicity: str


class SelfIdentifications(Repo):
    """Record, withdraw and (for the audit only) read candidates' voluntary self-identification."""

    def record(self, candidate_id: int, *, sex: str, race_ethnicity: str) -> None:
        """Store (or replace) what the candidate chose; each answer may be "declined"."""
        if sex not in SEX_LABELS:
            raise Invalid(f"sex {sex!r}: expected one of {', '.join(SEX_LABELS)}")
        if race_ethnicity not in RACE_LABELS:
            raise Invalid(f"race/ethnicity {race_ethnicity!r}: expected one of {', '.join(RACE_LABELS)}")
        with self.unit() as session:
            get_row(session, Candidate, candidate_id)
            row = session.exec(
                select(SelfIdentification).where(SelfIdentification.candidate_id == candidate_id)
            ).first()
            if row is None:
                session.add(
                    SelfIdentification(
                        candidate_id=candidate_id,
                        sex=sex,
                        race_ethnicity=race_ethnicity,
                        submitted_at=self.now(),
                    )
                )
            else:
                row.sex, row.race_ethnicity, row.submitted_at = sex, race_ethnicity, self.now()

    def withdraw(self, candidate_id: int) -> bool:
        """Delete the candidate's answers; True if there were any."""
        with self.unit() as session:
            gone = session.execute(
                delete(SelfIdentification).where(col(SelfIdentification.candidate_id) == candidate_id)
            )
            return bool(getattr(gone, "rowcount", 0))

    def for_audit(self, candidate_ids: Sequence[int]) -> dict[int, Identified]:
        """The answers of these candidates, for the aggregate audit only (never for one candidate's page)."""
        if not candidate_ids:
            return {}
        with self.unit() as session:
            rows = session.exec(
                select(SelfIdentification).where(
                    col(SelfIdentification.candidate_id).in_(list(candidate_ids))
                )
            )
            return {r.candidate_id: Identified(r.candidate_id, r.sex, r.race_ethnicity) for r in rows}
