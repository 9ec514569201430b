"""Fixtures for the workspace: the real app over a fresh SQLite file, users, and signed-in clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.web.app import create_app
from milo_voice.workspace.accounts import Accounts
from workspace.support import ADMIN, PASSWORD, VIEWER, login


@pytest.fixture
def accounts(store: SessionStore) -> Accounts:
    return Accounts(store.engine)


@pytest.fixture
def users(accounts: Accounts) -> dict[str, int]:
    admin = accounts.create_user(email=ADMIN, password=PASSWORD, role="admin", name="Ada Admin")
    viewer = accounts.create_user(email=VIEWER, password=PASSWORD, role="viewer", name="Vic Viewer")
    assert admin.id is not None and viewer.id is not None
    return {"admin": admin.id, "viewer": viewer.id}


@pytest.fixture
def client(settings: Settings, store: SessionStore) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store.engine), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def admin(client: TestClient, users: dict[str, int]) -> TestClient:
    login(client, ADMIN)
    return client


@pytest.fixture
def viewer(settings: Settings, store: SessionStore, users: dict[str, int]) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store.engine), base_url="http://testserver") as c:
        login(c, VIEWER)
        yield c
