"""Voluntary self-identification for the bias audit (issue 20 item 4, migration 0012).

Kept apart from `candidate` on purpose: nothing that scores, reviews, exports or serves candidates reads
this table. Only `milo_voice.workspace.self_identification` (its one writer) and
`milo_voice.workspace.bias_audit` (the aggregate audit) import it; tests/test_layering.py holds that.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field

from milo_voice.store.tables.base import Table, UTCDateTime, utc_now


class Sex(StrEnum):
    """EEO-1 sex categories, as the NYC Local Law 144 audit rules use them."""

    MALE = "male"
    FEMALE = "female"
    DECLINED = "declined"
    """"Prefer not to say": counted as unknown in the audit."""


class RaceEthnicity(StrEnum):
    """EEO-1 race/ethnicity categories, as the NYC Local Law 144 audit rules use them."""

    HISPANIC_OR_LATINO = "hispanic_or_latino"
    WHITE = "white"
    BLACK_OR_AFRICAN_AMERICAN = "black_or_african_american"
    NATIVE_HAWAIIAN_OR_PACIFIC_ISLANDER = "native_hawaiian_or_pacific_islander"
    ASIAN = "asian"
    AMERICAN_INDIAN_OR_ALASKA_NATIVE = "american_indian_or_alaska_native"
    TWO_OR_MORE_RACES = "two_or_more_races"
    DECLINED = "declined"
    """"Prefer not to say": counted as unknown in the audit."""


class SelfIdentification(Table, table=True):
    """What one candidate chose to tell about themselves, for the audit only; one row per candidate."""

    __tablename__ = "self_identification"

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", unique=True, ondelete="CASCADE")
    sex: str = Field(default=Sex.DECLINED.value, sa_type=String(40))
    """A `Sex` value."""
    race_ethnicity: str = Field(default=RaceEthnicity.DECLINED.value, sa_type=String(60))
    """A `RaceEthnicity` value."""
    submitted_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
