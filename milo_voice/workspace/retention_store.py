"""The workspace's retention windows as saved on Settings > Retention: the one writer of
`compliance_settings` (one row, id 1; no row: keep everything). See `workspace.retention`."""

from __future__ import annotations

from milo_voice.store.repo import Repo
from milo_voice.store.tables import ComplianceSettings
from milo_voice.workspace.retention import RetentionPolicy

ROW_ID = 1


class RetentionSettings(Repo):
    def saved(self) -> ComplianceSettings | None:
        """The saved row (detached), or None when no admin ever saved the windows."""
        with self.unit() as session:
            return session.get(ComplianceSettings, ROW_ID)

    def policy(self) -> RetentionPolicy:
        """The windows in force: the saved ones, else keep everything."""
        return RetentionPolicy.from_row(self.saved())

    def save(self, policy: RetentionPolicy, *, user_id: int | None) -> None:
        """Store the windows (the sweep applies them from its next round)."""
        with self.unit() as session:
            row = session.get(ComplianceSettings, ROW_ID)
            if row is None:
                row = ComplianceSettings(id=ROW_ID)
                session.add(row)
            row.recordings_days = policy.recordings_days
            row.transcripts_days = policy.transcripts_days
            row.scores_days = policy.scores_days
            row.messages_days = policy.messages_days
            row.updated_at, row.updated_by = self.now(), user_id
