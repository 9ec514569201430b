"""Outreach settings kept in the database: the company's guardrails (the settings page) and each
interview's deadline, SMS invitations and reminders. The one writer of `outreach_settings` and
`interview_outreach`.

Precedence: a saved row wins; without one, the company's guardrails are `Rules` built from the
MILO_* settings (`MILO_OUTREACH_ENABLED`, `MILO_COMPANY_TIME_ZONE`) and the guardrails' defaults,
and an interview uses `InterviewSettings()` with the server's `MILO_SMS_INVITATIONS`. The company
zone always comes from the settings (it is the server's, not a page's).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from sqlmodel import Session, select

from milo_voice.outreach.guardrails import Rules
from milo_voice.store.repo import Invalid, Repo
from milo_voice.store.tables import InterviewOutreach, OutreachSettings

SETTINGS_ID = 1
MAX_DEADLINE_DAYS = 90


@dataclass(frozen=True, slots=True)
class InterviewSettings:
    """One interview's outreach, as the planner uses it."""

    deadline_days: int = 7
    sms_invitations: bool | None = None
    """None: the server's MILO_SMS_INVITATIONS."""
    remind_not_started: bool = True
    remind_unfinished: bool = True
    remind_deadline: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.deadline_days <= MAX_DEADLINE_DAYS:
            raise Invalid(f"deadline of {self.deadline_days} days: choose 1 to {MAX_DEADLINE_DAYS}")


def interview_settings(session: Session, slug: str) -> InterviewSettings:
    """One interview's settings inside the caller's transaction (read only)."""
    row = session.get(InterviewOutreach, slug)
    if row is None:
        return InterviewSettings()
    return InterviewSettings(row.deadline_days, row.sms_invitations, row.remind_not_started,
                             row.remind_unfinished, row.remind_deadline)


class OutreachSettingsStore(Repo):
    def rules(self, defaults: Rules) -> Rules:
        """The guardrails in force: the saved ones over `defaults` (whose company zone is kept)."""
        with self.unit() as session:
            row = session.get(OutreachSettings, SETTINGS_ID)
        if row is None:
            return defaults
        return replace(defaults, enabled=row.enabled, window_start=row.window_start,
                       window_end=row.window_end, weekends=row.weekends, daily_cap=row.daily_cap,
                       max_reminders=row.max_reminders,
                       sms_gap=timedelta(minutes=row.sms_gap_minutes),
                       nudge_gap=timedelta(hours=row.nudge_gap_hours))

    def saved_rules(self) -> bool:
        with self.unit() as session:
            return session.get(OutreachSettings, SETTINGS_ID) is not None

    def save_rules(self, rules: Rules, *, user_id: int | None = None) -> Rules:
        """Store the guardrails (`Rules` validated them when it was built); gaps in whole minutes/hours."""
        if rules.sms_gap < timedelta(0) or rules.nudge_gap < timedelta(0):
            raise Invalid("gaps cannot be negative")
        with self.unit() as session:
            row = session.get(OutreachSettings, SETTINGS_ID) or OutreachSettings(id=SETTINGS_ID)
            row.enabled, row.weekends = rules.enabled, rules.weekends
            row.window_start, row.window_end = rules.window_start, rules.window_end
            row.daily_cap, row.max_reminders = rules.daily_cap, rules.max_reminders
            row.sms_gap_minutes = int(rules.sms_gap.total_seconds() // 60)
            row.nudge_gap_hours = int(rules.nudge_gap.total_seconds() // 3600)
            row.updated_at, row.updated_by = self.now(), user_id
            session.add(row)
        return rules

    def interview(self, slug: str) -> InterviewSettings:
        with self.unit() as session:
            return interview_settings(session, slug)

    def interviews(self) -> dict[str, InterviewSettings]:
        """Every interview's saved settings, by slug (the planner reads them once a round)."""
        with self.unit() as session:
            rows = session.exec(select(InterviewOutreach)).all()
        return {r.interview_slug: InterviewSettings(r.deadline_days, r.sms_invitations, r.remind_not_started,
                                                    r.remind_unfinished, r.remind_deadline) for r in rows}

    def save_interview(self, slug: str, settings: InterviewSettings) -> InterviewSettings:
        with self.unit() as session:
            row = session.get(InterviewOutreach, slug) or InterviewOutreach(interview_slug=slug)
            row.deadline_days, row.sms_invitations = settings.deadline_days, settings.sms_invitations
            row.remind_not_started = settings.remind_not_started
            row.remind_unfinished = settings.remind_unfinished
            row.remind_deadline, row.updated_at = settings.remind_deadline, self.now()
            session.add(row)
        return settings
