"""Accounts: argon2 hashes, login, invites, API keys, the shared secret, and `milo-voice users create`."""

from __future__ import annotations

import io
from argparse import Namespace
from datetime import UTC, datetime, timedelta

import pytest

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.store.repo import Invalid, NotFound
from milo_voice.workspace import security, users_cli
from milo_voice.workspace.accounts import Accounts
from workspace.support import PASSWORD


def test_passwords_are_stored_as_argon2id_and_verified(accounts: Accounts) -> None:
    user = accounts.create_user(email=" Ada@Example.COM ", password=PASSWORD, role="admin")
    assert user.email == "ada@example.com"
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert accounts.authenticate("ADA@example.com", PASSWORD) is not None
    assert accounts.authenticate("ada@example.com", PASSWORD + "x") is None
    assert accounts.authenticate("nobody@example.com", PASSWORD) is None


def test_bad_accounts_are_refused_by_name(accounts: Accounts) -> None:
    accounts.create_user(email="a@example.com", password=PASSWORD, role="viewer")
    with pytest.raises(Invalid, match="already an account"):
        accounts.create_user(email="A@example.com", password=PASSWORD, role="viewer")
    with pytest.raises(Invalid, match="at least 10"):
        accounts.create_user(email="b@example.com", password="short", role="viewer")
    with pytest.raises(Invalid, match="role 'owner'"):
        accounts.create_user(email="b@example.com", password=PASSWORD, role="owner")
    with pytest.raises(Invalid, match="not an email"):
        accounts.create_user(email="not-an-email", password=PASSWORD, role="viewer")


def test_a_disabled_user_cannot_log_in_and_old_sessions_die(accounts: Accounts) -> None:
    user = accounts.create_user(email="a@example.com", password=PASSWORD, role="admin")
    assert user.id is not None
    assert accounts.session_user(user.id, user.session_version) is not None
    changed = accounts.set_role(user.id, "viewer")
    assert accounts.session_user(user.id, user.session_version) is None
    assert accounts.session_user(user.id, changed.session_version) is not None
    accounts.set_active(user.id, False)
    assert accounts.authenticate("a@example.com", PASSWORD) is None


def test_an_invite_is_single_use_and_gives_its_role(store: SessionStore) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    accounts = Accounts(store.engine, now=lambda: now[0])
    admin = accounts.create_user(email="a@example.com", password=PASSWORD, role="admin")
    assert admin.id is not None
    token = accounts.create_invite(created_by=admin.id, role="viewer", days=7)
    assert len(token) >= 43  # 256 bits, URL-safe
    assert all(token not in (i.token_hash, i.email) for i in accounts.invites())
    user = accounts.accept_invite(token, email="v@example.com", password=PASSWORD)
    assert user.role == "viewer"
    with pytest.raises(NotFound):
        accounts.accept_invite(token, email="w@example.com", password=PASSWORD)
    late = accounts.create_invite(created_by=admin.id, role="admin", days=1)
    now[0] += timedelta(days=1, seconds=1)
    assert accounts.open_invite(late) is None


def test_api_keys_are_hashed_shown_once_and_revocable(accounts: Accounts) -> None:
    user = accounts.create_user(email="a@example.com", password=PASSWORD, role="viewer")
    assert user.id is not None
    row, key = accounts.create_api_key(user_id=user.id, name="ATS sync")
    assert key.startswith(security.API_KEY_PREFIX) and row.key_hash == security.digest(key)
    assert key not in repr(row) and row.prefix == key[:12]
    found = accounts.principal_for_key(key)
    assert found is not None and found.email == "a@example.com" and found.via_key == row.prefix
    assert accounts.principal_for_key(key + "x") is None
    assert accounts.principal_for_key("Bearer " + key) is None
    assert row.id is not None
    accounts.revoke_api_key(row.id)
    assert accounts.principal_for_key(key) is None


def test_the_session_secret_is_made_once_and_shared(store: SessionStore) -> None:
    first = Accounts(store.engine).secret()
    assert len(first) >= 43
    assert Accounts(store.engine).secret() == first


def test_users_create_reads_the_password_from_stdin(
    settings: Settings, store: SessionStore, capsys: pytest.CaptureFixture[str]
) -> None:
    args = Namespace(email="Boss@Example.com", role="admin", name="Boss", password_stdin=True)
    assert users_cli.run(settings, args, io.StringIO(PASSWORD + "\n")) == 0
    assert "created admin boss@example.com" in capsys.readouterr().out
    assert Accounts(store.engine).authenticate("boss@example.com", PASSWORD) is not None
    assert users_cli.run(settings, args, io.StringIO(PASSWORD + "\n")) == 2
    assert "already an account" in capsys.readouterr().err
