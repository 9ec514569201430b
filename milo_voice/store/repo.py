"""The base of every repository in milo_voice: an Engine, a clock, and one short transaction per call.

Repositories live in the room that owns their tables (workspace, scoring, calls) and subclass
`Repo`, so that no code outside `milo_voice/store/` opens a database session of its own. Methods
are blocking (callers on an event loop use a thread) and return plain values or detached rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from milo_voice.store.db import unit_of_work
from milo_voice.store.tables import Table, utc_now


class NotFound(LookupError):
    """The row asked for does not exist (the web layer answers 404)."""


class Invalid(ValueError):
    """Input that cannot be stored as given; the message says what to fix (the web layer answers 400)."""


Clock = Callable[[], datetime]
"""Timezone-aware UTC "now"; injected so tests can pin it."""


class Repo:
    """Holds the Engine and the clock; subclasses add the queries and writes of their tables."""

    def __init__(self, engine: Engine, *, now: Clock = utc_now) -> None:
        self.engine = engine
        self.now = now

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """One transaction (`milo_voice.store.db.unit_of_work`): commits on success, rolls back on error."""
        with unit_of_work(self.engine) as session:
            yield session


_Row = TypeVar("_Row", bound=Table)


def insert_row(session: Session, row: Any) -> int:
    """Add `row` and flush it, so the database assigns its id (which callers usually return)."""
    session.add(row)
    session.flush()
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} got no id on flush")
    return int(row.id)


def get_row(session: Session, table: type[_Row], row_id: object) -> _Row:
    """The row of `table` with primary key `row_id`, or `NotFound` naming the table."""
    row = session.get(table, row_id)
    if row is None:
        raise NotFound(f"{table.__tablename__} {row_id} does not exist")
    return row
