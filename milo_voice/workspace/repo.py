"""The base of every workspace repository: one short transaction per call over the Store's Engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from milo_voice.store.db import unit_of_work
from milo_voice.store.tables import utc_now


class NotFound(LookupError):
    """The row asked for does not exist (the web layer answers 404)."""


class Invalid(ValueError):
    """Input that cannot be stored as given; the message says what to fix (the web layer answers 400)."""


class Repo:
    """Holds the Engine and the clock; subclasses add queries."""

    def __init__(self, engine: Engine, *, now: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self.now = now

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """One transaction (`milo_voice.store.db.unit_of_work`)."""
        with unit_of_work(self.engine) as session:
            yield session
