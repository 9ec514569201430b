"""Password hashing and secret tokens for the workspace. No storage, no HTTP.

Passwords: argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile: t=3, m=64 MiB, p=4);
a hash made with older parameters is re-hashed at the next successful login. Tokens (invites, API
keys, CSRF) are 256-bit random values; invites and API keys are stored only as their SHA-256,
which is enough for a uniformly random secret (no dictionary to attack, so no slow hash needed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_BYTES = 32
"""Random bytes in invite tokens, API keys and CSRF tokens (256 bits)."""

API_KEY_PREFIX = "milo_"
"""API keys start with this, so a leaked key is recognisable in logs and secret scanners."""

MIN_PASSWORD = 10
"""Shortest password accepted (characters)."""

_hasher = PasswordHasher()


class WeakPassword(ValueError):
    """The password is too short to be accepted."""


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD} characters")


def hash_password(password: str) -> str:
    """An argon2id PHC string for `password` (which must pass `check_password_strength`)."""
    check_password_strength(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


DUMMY_HASH = _hasher.hash("not-a-real-password-0")
"""Verified against when the email is unknown, so a login takes as long whether or not it exists."""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    """SHA-256 hex of a random token: what is stored instead of the token itself."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
