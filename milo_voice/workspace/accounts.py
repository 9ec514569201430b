"""Recruiter accounts: users and roles, login, invites, API keys, and the cookie-signing secret.

Emails are stored lower-cased. Invites and API keys keep only a SHA-256 of the secret, which is
returned once, at creation. A disabled user's API keys stop working at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from milo_voice.store.repo import Invalid, NotFound, Repo
from milo_voice.store.tables import ApiKey, AppSecret, AppUser, Invite, UserRole
from milo_voice.workspace import security

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SESSION_SECRET = "session"
WRONG_PASSWORD = "the current password is not right"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: a signed-in user, or a user's API key (then `via_key` is the key's prefix)."""

    user_id: int
    email: str
    role: UserRole
    via_key: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role is UserRole.ADMIN

    @property
    def actor(self) -> str:
        return f"{self.email} (API key {self.via_key})" if self.via_key else self.email


class InviteEmailMismatch(Invalid):
    """An invite made out to one email address was used to create the account of another."""


def principal(user: AppUser, via_key: str = "") -> Principal:
    assert user.id is not None
    return Principal(user.id, user.email, UserRole(user.role), via_key)


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 320:
        raise Invalid(f"{email!r} is not an email address")
    return email


def parse_role(role: str) -> UserRole:
    try:
        return UserRole(role)
    except ValueError:
        raise Invalid(f"role {role!r}: expected one of {', '.join(r.value for r in UserRole)}") from None


class Accounts(Repo):
    """Users, invites, API keys and server secrets."""

    # Users

    def create_user(self, *, email: str, password: str, role: str, name: str = "") -> AppUser:
        """A new active user; a taken email or a short password raises `Invalid`."""
        email = normalise_email(email)
        try:
            password_hash = security.hash_password(password)
        except security.WeakPassword as exc:
            raise Invalid(str(exc)) from None
        user = AppUser(
            email=email,
            name=name.strip()[:200],
            password_hash=password_hash,
            role=parse_role(role).value,
            created_at=self.now(),
        )
        try:
            with self.unit() as session:
                session.add(user)
                session.flush()
        except IntegrityError:
            raise Invalid(f"there is already an account for {email}") from None
        return user

    def user(self, user_id: int) -> AppUser | None:
        with self.unit() as session:
            return session.get(AppUser, user_id)

    def users(self) -> list[AppUser]:
        with self.unit() as session:
            return list(session.exec(select(AppUser).order_by(col(AppUser.email))))

    def count_users(self) -> int:
        return len(self.users())

    def authenticate(self, email: str, password: str) -> AppUser | None:
        """The active user with this email and password, else None (same work either way)."""
        with self.unit() as session:
            user = session.exec(select(AppUser).where(AppUser.email == email.strip().lower())).first()
            if user is None or not user.active:
                security.verify_password(security.DUMMY_HASH, password)
                return None
            if not security.verify_password(user.password_hash, password):
                return None
            if security.needs_rehash(user.password_hash):
                user.password_hash = security.hash_password(password)
            return user

    def user_id_for(self, email: str) -> int | None:
        """The id of the account with this email, if there is one (for logs that must not hold emails)."""
        with self.unit() as session:
            return session.exec(select(AppUser.id).where(AppUser.email == email.strip().lower())).first()

    def change_password(self, user_id: int, *, current: str, new: str) -> AppUser:
        """Replace the user's password; `Invalid` if `current` is wrong or `new` is too weak or unchanged.
        Ending the user's other sessions is the caller's part (`UserSessions.revoke_others`)."""
        try:
            security.check_password_strength(new)
        except security.WeakPassword as exc:
            raise Invalid(str(exc)) from None
        if new == current:
            raise Invalid("the new password is the same as the current one")
        with self.unit() as session:
            user = _user(session, user_id)
            if not user.active or not security.verify_password(user.password_hash, current):
                raise Invalid(WRONG_PASSWORD)
            user.password_hash = security.hash_password(new)
            return user

    def set_role(self, user_id: int, role: str) -> AppUser:
        with self.unit() as session:
            user = _user(session, user_id)
            user.role = parse_role(role).value
            user.session_version += 1  # a changed role takes effect now, not at the next login
            return user

    def set_active(self, user_id: int, active: bool) -> AppUser:
        with self.unit() as session:
            user = _user(session, user_id)
            user.active = active
            user.session_version += 1
            return user

    def session_user(self, user_id: int, version: int) -> AppUser | None:
        """The user a session cookie names, if still active and the cookie is not from before a change."""
        user = self.user(user_id)
        if user is None or not user.active or user.session_version != version:
            return None
        return user

    # Invites

    def create_invite(self, *, created_by: int, role: str, email: str = "", days: float) -> str:
        """A new single-use invite; returns its token (shown once, stored as a hash). An invite made out
        to an email address can be accepted only with that address (`accept_invite`)."""
        email = normalise_email(email) if email.strip() else ""
        token = security.new_token()
        now = self.now()
        with self.unit() as session:
            session.add(
                Invite(
                    token_hash=security.digest(token),
                    role=parse_role(role).value,
                    email=email,
                    created_by=created_by,
                    created_at=now,
                    expires_at=now + timedelta(days=days),
                )
            )
        return token

    def open_invite(self, token: str) -> Invite | None:
        """The unused, unexpired invite for `token`, else None."""
        with self.unit() as session:
            invite = session.exec(select(Invite).where(Invite.token_hash == security.digest(token))).first()
        if invite is None or invite.used_at is not None or invite.expires_at <= self.now():
            return None
        return invite

    def accept_invite(self, token: str, *, email: str, password: str, name: str = "") -> AppUser:
        """Create the invitee's account with the invite's role and use the invite up. An invite made out
        to an address creates the account of that address only: a blank `email` means that address, any
        other raises `Invalid` (`InviteEmailMismatch`) and the invite stays open. An invite without an
        address (made before invites were bound, or by `create_invite` without one) takes any."""
        invite = self.open_invite(token)
        if invite is None:
            raise NotFound("this invite link is not valid any more")
        invited = invite.email.strip().lower()
        if invited and email.strip() and email.strip().lower() != invited:
            raise InviteEmailMismatch(
                f"this invite is for {invited}: create the account with that address, "
                "or ask an admin of your team to invite the address you want to use"
            )
        email = invited or email
        user = self.create_user(email=email, password=password, role=invite.role, name=name)
        with self.unit() as session:
            row = session.get(Invite, invite.id)
            assert row is not None
            if row.used_at is not None:  # used concurrently: undo ours
                session.delete(session.get(AppUser, user.id))
                raise NotFound("this invite link is not valid any more")
            row.used_at, row.used_by = self.now(), user.id
        return user

    def invites(self) -> list[Invite]:
        with self.unit() as session:
            return list(session.exec(select(Invite).order_by(col(Invite.id).desc())))

    # API keys

    def create_api_key(self, *, user_id: int, name: str) -> tuple[ApiKey, str]:
        """A new key for `user_id`; returns the row and the key itself (shown once)."""
        name = name.strip()
        if not name:
            raise Invalid("an API key needs a name (what will use it?)")
        key = security.new_api_key()
        row = ApiKey(
            user_id=user_id,
            name=name[:200],
            prefix=key[:12],
            key_hash=security.digest(key),
            created_at=self.now(),
        )
        with self.unit() as session:
            _user(session, user_id)
            session.add(row)
            session.flush()
        return row, key

    def api_keys(self, user_id: int | None = None) -> list[ApiKey]:
        with self.unit() as session:
            query = select(ApiKey).order_by(col(ApiKey.id).desc())
            if user_id is not None:
                query = query.where(ApiKey.user_id == user_id)
            return list(session.exec(query))

    def revoke_api_key(self, key_id: int, *, user_id: int | None = None) -> ApiKey:
        """Revoke a key; with `user_id`, only if it belongs to that user."""
        with self.unit() as session:
            row = session.get(ApiKey, key_id)
            if row is None or (user_id is not None and row.user_id != user_id):
                raise NotFound(f"API key {key_id} does not exist")
            if row.revoked_at is None:
                row.revoked_at = self.now()
            return row

    def principal_for_key(self, key: str) -> Principal | None:
        """Who an API key acts as (its active user, with the user's current role), else None."""
        if not key.startswith(security.API_KEY_PREFIX):
            return None
        with self.unit() as session:
            row = session.exec(select(ApiKey).where(ApiKey.key_hash == security.digest(key))).first()
            if row is None or row.revoked_at is not None:
                return None
            user = session.get(AppUser, row.user_id)
            if user is None or not user.active:
                return None
            row.last_used_at = self.now()
            return principal(user, via_key=row.prefix)

    # Secrets

    def secret(self, name: str = SESSION_SECRET) -> str:
        """A server secret made once and shared through the database by every process."""
        with self.unit() as session:
            row = session.get(AppSecret, name)
            if row is not None:
                return row.value
        try:
            with self.unit() as session:
                session.add(AppSecret(name=name, value=security.new_token()))
        except IntegrityError:
            pass  # another process made it first; theirs stands
        with self.unit() as session:
            row = session.get(AppSecret, name)
            assert row is not None
            return row.value


    def set_secret(self, name: str, value: str) -> None:
        """Store a secret given by an admin (e.g. the token an ATS issued to us); "" removes it."""
        if len(value) > 200:
            raise Invalid("a secret is at most 200 characters")
        with self.unit() as session:
            row = session.get(AppSecret, name)
            if not value:
                if row is not None:
                    session.delete(row)
                return
            session.merge(AppSecret(name=name, value=value))

    def rotate_secret(self, name: str) -> str:
        """Replace a generated secret with a new one (the old one stops working at once)."""
        value = security.new_token()
        self.set_secret(name, value)
        return value

    def stored_secret(self, name: str) -> str:
        """A secret if it was set, else "" (never made on read)."""
        with self.unit() as session:
            row = session.get(AppSecret, name)
            return row.value if row is not None else ""


def _user(session: Session, user_id: int) -> AppUser:
    user = session.get(AppUser, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user
