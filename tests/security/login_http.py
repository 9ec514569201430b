"""For the login and session tests: the real app under uvicorn on 127.0.0.1 (a thread of the test
process) on a clock the tests move, two recruiters, and an httpx client per browser.

Test modules take the `server` fixture with `server = login_http.server` (no conftest here: the
folder is shared with other security tests)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import pytest
from fakes.loopback import ServerThread

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.store.tables import utc_now
from milo_voice.web.app import create_app
from milo_voice.workspace.accounts import Accounts

PASSWORD = "correct horse battery"
ADMIN, VIEWER = "admin@example.com", "viewer@example.com"


@dataclass
class Clock:
    """The app's `now`: real time at the start, then moved only by the test."""

    at: datetime = field(default_factory=utc_now)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class Server:
    base_url: str
    clock: Clock
    accounts: Accounts
    users: dict[str, int]

    def browser(self, cookie: str | None = None) -> httpx.Client:
        """A client that keeps its cookies like a browser; `cookie` starts it with a copied session cookie."""
        client = httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=30.0)
        if cookie is not None:
            client.cookies.set("milo_session", cookie, domain="127.0.0.1", path="/app")
        return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def post_login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    token = csrf_of(client.get("/app/login").text)
    return client.post("/app/login", data={"email": email, "password": password, "csrf_token": token})


def sign_in(client: httpx.Client, email: str, password: str = PASSWORD) -> None:
    response = post_login(client, email, password)
    assert response.status_code == 303, response.text
    assert client.get("/app/interviews").status_code == 200


@pytest.fixture
def server(settings: Settings, store: SessionStore) -> Iterator[Server]:
    accounts = Accounts(store.engine)
    admin = accounts.create_user(email=ADMIN, password=PASSWORD, role="admin", name="Ada Admin")
    viewer = accounts.create_user(email=VIEWER, password=PASSWORD, role="viewer", name="Vic Viewer")
    assert admin.id is not None and viewer.id is not None
    clock = Clock()
    thread = ServerThread(create_app(settings, store.engine, now=clock))
    thread.start()
    try:
        yield Server(thread.base_url, clock, accounts, {"admin": admin.id, "viewer": viewer.id})
    finally:
        thread.stop()
        store.engine.dispose()
