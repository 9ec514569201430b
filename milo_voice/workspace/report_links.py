"""Public share links of reports, as the workspace manages them: look one up, and revoke it.

A link is a row of `report_link`, which the scoring area writes (`ScoringStore.report_token`, e.g.
for the webhook's `report_url`, and `ScoringStore.revoke_reports`). Revoking deletes the row, so
the token stops working at once without a new column; sharing again mints a different token, so
a revoked address never comes back.
"""

from __future__ import annotations

from sqlmodel import select

from milo_voice.scoring.store import ScoringStore
from milo_voice.store.repo import Repo
from milo_voice.store.tables import ReportLink


class ReportLinks(Repo):
    def current(self, session_id: int) -> str | None:
        """The token of the session's public report link, if it has one."""
        with self.unit() as session:
            return session.exec(select(ReportLink.token).where(ReportLink.session_id == session_id)).first()

    def revoke(self, session_id: int) -> int:
        """Delete every public link to the session's report; how many there were."""
        return ScoringStore(self.engine, now=self.now).revoke_reports(session_id)
