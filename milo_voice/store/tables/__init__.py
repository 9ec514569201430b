"""Database tables as SQLModel classes, one module per concept: columns, keys and indexes only.

No queries or sessions live here. Every change needs a migration in
`milo_voice/store/migrations/versions/`; `tests/store/test_migrations.py` fails when the tables
and the migrated schema disagree. Timestamps are timezone-aware UTC. Importing this package
registers every table on `Table.metadata` (what Alembic's env compares against).
"""

from milo_voice.store.tables.accounts import (
    ApiKey,
    AppSecret,
    AppUser,
    AuditEvent,
    Invite,
    UserRole,
    UserSession,
)
from milo_voice.store.tables.base import NAMING_CONVENTION, Table, UTCDateTime, utc_now
from milo_voice.store.tables.candidates import (
    Candidate,
    CandidateNote,
    CandidateRating,
    CandidateSource,
    CandidateStage,
    CandidateStatus,
    StageStatus,
)
from milo_voice.store.tables.compliance import (
    Accommodation,
    AccommodationStatus,
    ComplianceSettings,
    ConsentChannel,
    ConsentRecord,
    ErasureRequest,
    ErasureStatus,
    ErasureTombstone,
    PrivacyNotice,
)
from milo_voice.store.tables.intake import (
    AtsOrder,
    BatchStatus,
    CandidateResume,
    IntakeBatch,
    IntakeHook,
    IntakeItem,
    ItemStatus,
)
from milo_voice.store.tables.interviews import Interview, InterviewStage, InterviewStatus, Question, StageKind
from milo_voice.store.tables.nodes import LiveCall, ServeNode
from milo_voice.store.tables.outreach import (
    CandidateContact,
    InboundMessage,
    InterviewOutreach,
    MessageStatus,
    OutreachEvent,
    OutreachMessage,
    OutreachSettings,
    OutreachTemplate,
)
from milo_voice.store.tables.phone import PhoneAccessCode, PhoneCall, PhoneNumber
from milo_voice.store.tables.scoring import (
    Job,
    JobStatus,
    ReportLink,
    ScoreRecord,
    WebhookDelivery,
    WebhookEndpoint,
)
from milo_voice.store.tables.self_identification import RaceEthnicity, SelfIdentification, Sex
from milo_voice.store.tables.sessions import (
    Channel,
    InterviewSession,
    SessionStatus,
    Speaker,
    TimingEvent,
    Turn,
    Word,
)

__all__ = [
    "NAMING_CONVENTION",
    "Accommodation",
    "AccommodationStatus",
    "ApiKey",
    "AppSecret",
    "AppUser",
    "AtsOrder",
    "AuditEvent",
    "BatchStatus",
    "Candidate",
    "CandidateContact",
    "CandidateNote",
    "CandidateRating",
    "CandidateResume",
    "CandidateSource",
    "CandidateStage",
    "CandidateStatus",
    "Channel",
    "ComplianceSettings",
    "ConsentChannel",
    "ConsentRecord",
    "ErasureRequest",
    "ErasureStatus",
    "ErasureTombstone",
    "InboundMessage",
    "IntakeBatch",
    "IntakeHook",
    "IntakeItem",
    "Interview",
    "InterviewOutreach",
    "InterviewSession",
    "InterviewStage",
    "InterviewStatus",
    "Invite",
    "ItemStatus",
    "Job",
    "JobStatus",
    "LiveCall",
    "MessageStatus",
    "OutreachEvent",
    "OutreachMessage",
    "OutreachSettings",
    "OutreachTemplate",
    "PhoneAccessCode",
    "PhoneCall",
    "PhoneNumber",
    "PrivacyNotice",
    "Question",
    "RaceEthnicity",
    "ReportLink",
    "ScoreRecord",
    "SelfIdentification",
    "ServeNode",
    "SessionStatus",
    "Sex",
    "Speaker",
    "StageKind",
    "StageStatus",
    "Table",
    "TimingEvent",
    "Turn",
    "UTCDateTime",
    "UserRole",
    "UserSession",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Word",
    "utc_now",
]
