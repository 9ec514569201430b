"""Repositories over the app's database, built per request from `app.state` (engine and clock).

Each is a thin object over the shared Engine (blocking: call its methods via `run_in_threadpool`),
so building one per request costs nothing and keeps handlers free of any shared mutable store.
"""

from __future__ import annotations

from typing import TypeVar

from starlette.requests import HTTPConnection

from milo_voice.calls.session_store import SessionStore
from milo_voice.store.repo import Repo

R = TypeVar("R", bound=Repo)


def repo(conn: HTTPConnection, kind: type[R]) -> R:
    """A `kind` repository over the app's engine, with the app's clock."""
    state = conn.app.state
    return kind(state.engine, now=state.now)


def sessions(conn: HTTPConnection) -> SessionStore:
    """The writer of sessions, turns and timing events, as the calls of this app use it."""
    return repo(conn, SessionStore)
