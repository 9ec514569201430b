"""The signed inbound webhook's secret per interview: the one writer of `intake_hook`.

A system that adds candidates on its own (Lever stage changes, Zapier-style automations) POSTs JSON
to `/intake/hooks/{slug}`, signed like our outbound webhooks: `X-Milo-Timestamp` (Unix seconds) and
`X-Milo-Signature: sha256=` + hex HMAC-SHA256 keyed with the secret over `timestamp + "." + body`
(`milo_voice.scoring.webhooks.sign`). A request older than `MAX_SKEW` seconds is refused.
"""

from __future__ import annotations

import secrets

from milo_voice.scoring.webhooks import verify_signature
from milo_voice.store.repo import Repo
from milo_voice.store.tables import IntakeHook

MAX_SKEW = 300
"""Seconds a signed request stays acceptable (replays after that are refused)."""


class IntakeHooks(Repo):
    def secret(self, slug: str) -> str:
        """This interview's secret, made on first use."""
        with self.unit() as session:
            row = session.get(IntakeHook, slug)
            if row is None:
                row = IntakeHook(interview_slug=slug, secret="whsec_" + secrets.token_urlsafe(32),
                                 created_at=self.now())
                session.add(row)
            return row.secret

    def rotate(self, slug: str) -> str:
        with self.unit() as session:
            row = session.get(IntakeHook, slug)
            if row is None:
                row = IntakeHook(interview_slug=slug, secret="", created_at=self.now())
            row.secret = "whsec_" + secrets.token_urlsafe(32)
            row.created_at = self.now()
            session.add(row)
            return row.secret

    def verify(self, slug: str, timestamp: str, signature: str, body: bytes) -> bool:
        """True when the request is signed with this interview's secret and is fresh."""
        with self.unit() as session:
            row = session.get(IntakeHook, slug)
            secret = row.secret if row is not None else ""
        if not secret:
            return False
        now = self.now().timestamp()
        return verify_signature(secret, body, signature=signature, timestamp=timestamp, tolerance=MAX_SKEW,
                                now=lambda: now)
