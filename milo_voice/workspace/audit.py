"""The audit trail: who viewed or changed what, and when. Append-only; admins read it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from milo_voice.store.repo import Repo
from milo_voice.store.tables import AuditEvent
from milo_voice.workspace.accounts import Principal

VIEW_WINDOW = timedelta(minutes=10)
"""A view is not logged again while the same person's last event on the same object is this
recent: the page they land on after rating, noting or deciding is part of that action."""


class Audit(Repo):
    def record_view(self, who: Principal, target_type: str, target_id: object) -> bool:
        """Log that `who` viewed this object, unless their own last event on it is within
        `VIEW_WINDOW`; True when logged."""
        with self.unit() as session:
            last = session.exec(
                select(AuditEvent.at).where(AuditEvent.actor == who.actor)
                .where(AuditEvent.target_type == target_type[:30])
                .where(AuditEvent.target_id == str(target_id)[:100])
                .order_by(col(AuditEvent.id).desc()).limit(1)
            ).first()
        if last is not None and self.now() - last < VIEW_WINDOW:
            return False
        self.record(who, "view", target_type, target_id)
        return True

    def record(
        self,
        who: Principal | None,
        action: str,
        target_type: str = "",
        target_id: object = "",
        **detail: Any,
    ) -> None:
        """Append one event; `detail` must be JSON-safe (ids, names, counts; never transcript text)."""
        with self.unit() as session:
            session.add(
                AuditEvent(
                    at=self.now(),
                    user_id=who.user_id if who else None,
                    actor=who.actor if who else "anonymous",
                    action=action[:50],
                    target_type=target_type[:30],
                    target_id=str(target_id)[:100],
                    detail=dict(detail),
                )
            )

    def recent(self, *, limit: int = 200, target_type: str = "", target_id: object = "") -> list[AuditEvent]:
        """Newest first; optionally only the events about one object."""
        with self.unit() as session:
            query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
            if target_type:
                query = query.where(AuditEvent.target_type == target_type)
                if target_id != "":
                    query = query.where(AuditEvent.target_id == str(target_id))
            return list(session.exec(query))

