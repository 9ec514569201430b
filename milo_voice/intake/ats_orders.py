"""ATS orders (Greenhouse send_test, Workable assessments): the one writer of `ats_order`.

An order ties the ATS's own reference to the candidate it created and to the callback URL results
go back to. The same reference sent twice returns the first order: the ATS retrying a request never
creates a second candidate.
"""

from __future__ import annotations

import secrets

from sqlmodel import select

from milo_voice.store.repo import Repo, insert_row
from milo_voice.store.tables import AtsOrder


class AtsOrders(Repo):
    def find(self, provider: str, external_ref: str) -> AtsOrder | None:
        with self.unit() as session:
            return session.exec(select(AtsOrder).where(
                AtsOrder.provider == provider, AtsOrder.external_ref == external_ref)).first()

    def add(self, provider: str, external_ref: str, candidate_id: int, *, callback_url: str,
            api_key_id: int | None) -> AtsOrder:
        now = self.now()
        with self.unit() as session:
            row = AtsOrder(provider=provider, external_ref=external_ref[:200], candidate_id=candidate_id,
                           partner_id="mv_" + secrets.token_hex(12), callback_url=callback_url,
                           api_key_id=api_key_id, created_at=now, updated_at=now)
            insert_row(session, row)
            session.refresh(row)
            return row

    def by_partner_id(self, provider: str, partner_id: str) -> AtsOrder | None:
        with self.unit() as session:
            return session.exec(select(AtsOrder).where(
                AtsOrder.provider == provider, AtsOrder.partner_id == partner_id)).first()

    def for_candidate(self, candidate_id: int) -> list[AtsOrder]:
        with self.unit() as session:
            return list(session.exec(select(AtsOrder).where(AtsOrder.candidate_id == candidate_id)))

    def delivered(self, order_id: int, status: str) -> None:
        with self.unit() as session:
            row = session.get(AtsOrder, order_id)
            if row is not None:
                row.last_status, row.updated_at = status[:20], self.now()
                session.add(row)
