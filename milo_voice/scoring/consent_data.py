"""The candidate's consents as the report package carries them (`consent.json` in the ZIP, issue 20 item 2).

Read here, in scoring's own terms, because scoring may not import the workspace that writes them
(`workspace/consent.py`): each consent (notice version, the SHA-256 of the text shown, channel, address,
browser, time) and the exact text of every notice version consented to, with a check that the text
still hashes to what was recorded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from milo_voice.store.repo import Repo
from milo_voice.store.tables import ConsentRecord, PrivacyNotice


@dataclass(frozen=True, slots=True)
class NoticeText:
    version: int
    text: str
    created_at: datetime

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ConsentData:
    """A candidate's consents (oldest first) and the notice versions they name."""

    candidate_id: int
    consents: tuple[ConsentRecord, ...] = ()
    notices: tuple[NoticeText, ...] = ()

    def to_json(self) -> dict[str, Any]:
        texts = {n.version: n for n in self.notices}
        consents = []
        for c in self.consents:
            shown = texts.get(c.notice_version)
            consents.append({
                "notice_version": c.notice_version,
                "notice_sha256": c.notice_sha256,
                "text_matches": shown is not None and shown.sha256 == c.notice_sha256,
                "channel": c.channel,
                "address": c.address,
                "user_agent": c.user_agent,
                "consented_at": c.consented_at.isoformat(),
            })
        notices = [{"version": n.version, "sha256": n.sha256, "in_force_from": n.created_at.isoformat(),
                    "text": n.text} for n in self.notices]
        return {"candidate_id": self.candidate_id, "consents": consents, "notices": notices}


class ConsentReader(Repo):
    def consent_of(self, candidate_id: int) -> ConsentData:
        with self.unit() as session:
            consents = tuple(session.exec(
                select(ConsentRecord).where(ConsentRecord.candidate_id == candidate_id)
                .order_by(col(ConsentRecord.consented_at), col(ConsentRecord.id))
            ).all())
            versions = sorted({c.notice_version for c in consents})
            rows = session.exec(
                select(PrivacyNotice).where(col(PrivacyNotice.version).in_(versions))
                .order_by(col(PrivacyNotice.version))
            ).all() if versions else []
            notices = tuple(NoticeText(r.version, r.text, r.created_at) for r in rows)
        return ConsentData(candidate_id, consents, notices)
