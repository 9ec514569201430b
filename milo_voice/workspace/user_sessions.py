"""Server-side recruiter sessions: the one writer of `user_session`.

At sign-in `open` makes a random session id (256 bits, `secrets.token_urlsafe`) that goes into the
signed cookie; only its SHA-256 is stored. Every authenticated request asks `live`: one lookup by
the unique hash, joined to the user, answers whether the session is not revoked, not idle for longer
than the idle timeout, and its user is active with the same `session_version` (role changes and
disabling still sign out everywhere). `last_seen_at` is written at most once a minute, so ordinary
page views stay reads. Logout revokes its session; a password change revokes the user's others.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, update
from sqlmodel import col, select

from milo_voice.store.repo import Repo
from milo_voice.store.tables import AppUser, UserSession
from milo_voice.workspace import security

SEEN_EVERY = timedelta(minutes=1)
"""How stale `last_seen_at` may get before a request refreshes it (the idle timeout's resolution)."""
KEEP_FOR = timedelta(days=30)
"""Sessions idle (or revoked) this long are deleted when someone signs in."""


class UserSessions(Repo):
    """Open, check and revoke recruiters' browser sessions."""

    def open(self, user_id: int, *, user_agent: str = "", address: str = "") -> str:
        """A new live session for `user_id`; returns its id for the cookie (stored only as a hash)."""
        token, now = security.new_token(), self.now()
        with self.unit() as session:
            session.execute(delete(UserSession).where(col(UserSession.last_seen_at) < now - KEEP_FOR))
            session.add(
                UserSession(
                    token_hash=security.digest(token),
                    user_id=user_id,
                    created_at=now,
                    last_seen_at=now,
                    user_agent=user_agent[:200],
                    address=address[:100],
                )
            )
        return token

    def live(self, token: str, *, user_id: int, version: int, idle: timedelta) -> AppUser | None:
        """The session's user if the session is live and belongs to `user_id` at `version`, else None."""
        now = self.now()
        with self.unit() as session:
            found = session.exec(
                select(UserSession.id, UserSession.last_seen_at, AppUser)
                .join(AppUser, col(AppUser.id) == col(UserSession.user_id))
                .where(UserSession.token_hash == security.digest(token))
                .where(col(UserSession.revoked_at).is_(None))
            ).first()
            if found is None:
                return None
            session_id, seen, user = found
            if user.id != user_id or not user.active or user.session_version != version or seen + idle <= now:
                return None
            if now - seen >= SEEN_EVERY:
                seen_now = update(UserSession).where(col(UserSession.id) == session_id)
                session.execute(seen_now.values(last_seen_at=now))
            return user

    def revoke(self, token: str) -> None:
        """End one session (logout); an unknown or already ended one is left alone."""
        with self.unit() as session:
            session.execute(
                update(UserSession)
                .where(col(UserSession.token_hash) == security.digest(token))
                .where(col(UserSession.revoked_at).is_(None))
                .values(revoked_at=self.now())
            )

    def revoke_others(self, user_id: int, *, keep: str = "") -> int:
        """End every live session of `user_id` but the one whose id is `keep`; how many were ended."""
        query = (
            update(UserSession)
            .where(col(UserSession.user_id) == user_id)
            .where(col(UserSession.revoked_at).is_(None))
        )
        if keep:
            query = query.where(col(UserSession.token_hash) != security.digest(keep))
        with self.unit() as session:
            result = session.execute(query.values(revoked_at=self.now()))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def count_live(self, user_id: int, *, idle: timedelta) -> int:
        """How many sessions of `user_id` are live now."""
        with self.unit() as session:
            rows = session.exec(
                select(UserSession.id)
                .where(UserSession.user_id == user_id)
                .where(col(UserSession.revoked_at).is_(None))
                .where(col(UserSession.last_seen_at) > self.now() - idle)
            )
            return len(list(rows))
