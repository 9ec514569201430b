"""Database plumbing: an Engine from a URL (SQLite tuned for one busy process) and Alembic migrations.

SQLite connections get WAL (readers never block the writer), `foreign_keys=ON` (SQLite ignores
foreign keys otherwise), `synchronous=NORMAL` (safe with WAL; a power cut may lose the last commit,
never corrupt the file) and a 5 s busy timeout (a second writer waits instead of failing at once).
A bare `postgresql://` URL uses psycopg 3, the driver milo-voice installs. No queries live here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, Engine
from sqlmodel import Session

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000
"""How long (ms) a SQLite writer waits for another writer's lock before raising 'database is locked'."""

MIGRATIONS = Path(__file__).with_name("migrations")
"""Alembic script location inside the installed package, so no alembic.ini is needed at run time."""


def engine_url(url: str) -> URL:
    """Parse `url`; a bare `postgresql://` gets the psycopg 3 driver instead of SQLAlchemy's psycopg2."""
    parsed = sa.make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_engine(url: str) -> Engine:
    """An Engine for `url`, with the SQLite connection settings above when the URL is SQLite."""
    parsed = engine_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True)
    # Repository calls run in worker threads, so a pooled connection may move between threads.
    engine = sa.create_engine(parsed, connect_args={"check_same_thread": False})
    sa.event.listen(engine, "connect", _tune_sqlite)
    return engine


def _tune_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def alembic_config(*, url: str = "", connection: sa.Connection | None = None) -> Config:
    """Alembic configuration built in code: migrations run on `connection`, else on a new engine for `url`.

    To add a revision, migrate a scratch database, then
    `command.revision(alembic_config(url=...), message="...", rev_id="0002", autogenerate=True)`
    and hand-check the file it writes into `milo_voice/store/migrations/versions/`.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    config.attributes["url"] = url
    config.attributes["connection"] = connection
    return config


def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema (Alembic `upgrade head`). Safe to repeat.

    It opens (and disposes) its own engine, so an in-memory `sqlite://` URL gains nothing from it.
    """
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # SQLite rebuilds tables to alter them; with foreign keys on, dropping the old
                # table would cascade-delete child rows. Turn them off, then check afterwards.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            command.upgrade(alembic_config(connection=connection), "head")
            connection.commit()
            if connection.dialect.name == "postgresql":
                apply_job_queue_schema(connection)
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left {len(broken)} rows with dangling foreign keys")
    finally:
        engine.dispose()
    log.info("db.migrated", extra={"backend": engine.dialect.name})


QUEUE_TABLE_PREFIX = "procrastinate_"
"""Procrastinate's own tables (the PostgreSQL job queue, docs/deploy.md): its schema, not our models."""


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's autogenerate filter: it leaves Procrastinate's tables alone (`apply_job_queue_schema`)."""
    return not (type_ == "table" and (name or "").startswith(QUEUE_TABLE_PREFIX))


def apply_job_queue_schema(connection: sa.Connection) -> bool:
    """Create Procrastinate's tables and functions from the SQL its package ships, once (they are
    there: nothing to do); True when created. Upgrading Procrastinate across a schema change is its
    own migrations' job (docs/deploy.md, Job queue)."""
    connection.exec_driver_sql("SELECT pg_advisory_xact_lock(2121)")  # two nodes migrating at once
    if connection.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar() is not None:
        connection.commit()
        return False
    from procrastinate.schema import SchemaManager

    connection.execution_options(no_parameters=True).exec_driver_sql(SchemaManager.get_schema())
    connection.commit()
    log.info("db.job_queue_schema_applied")
    return True


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: commits on success, rolls back on error. Rows stay readable after it.

    Every repository (store, scoring, jobs, workspace) opens its transactions through this."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


DbEngine = Engine
"""The database handle every repository takes, named here so rooms that must not import the ORM
(web) can still type it."""
