"""`milo-voice backup` and `restore`: the database and the customer files in one verified .tar.gz.

`backup` copies the database consistently while the server runs and writes (SQLite's online backup
API, or `pg_dump --format=custom`), adds every regular file under MILO_RECORDINGS_DIR and
MILO_UPLOADS_DIR and a manifest of sha256 sums (`store/backup_archive.py`), writing under a
temporary name beside `dest` and renaming it into place when complete.

`restore` first reads the whole archive writing nothing: only safe regular files, every size and
sha256 as listed, a schema revision this code knows. It refuses to replace a database with rows or
a folder with files unless `force`. Then it extracts into staging folders beside the targets
(checking every sum again), puts the database in place (SQLite: the migrated copy renamed over the
file; PostgreSQL: `pg_restore --clean --if-exists --no-owner` in one transaction), swaps the folders'
contents and migrates. Stop the server first. See docs/backup.md.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import ExitStack, closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from milo_voice.settings import Settings
from milo_voice.store.backup_archive import (
    DATABASE_MEMBER,
    BackupError,
    check_archive,
    files_under,
    manifest_files,
    scan,
    write_archive,
)
from milo_voice.store.db import SQLITE_BUSY_TIMEOUT_MS, alembic_config, create_engine, engine_url, migrate

__all__ = [
    "BackupError",
    "BackupResult",
    "RestoreResult",
    "backup",
    "default_archive_name",
    "restore",
    "verify",
]

log = logging.getLogger(__name__)

PG_LIBDIR = Path("/usr/lib/postgresql")
PG_DUMP_OPTIONS = ("--format=custom", "--no-password")
PG_RESTORE_OPTIONS = ("--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction")


@dataclass(frozen=True)
class BackupResult:
    path: Path
    database: str
    revision: str | None
    files: int
    """Recordings and uploads (the database is not counted)."""
    data_bytes: int
    """Database and files, uncompressed."""
    archive_bytes: int

    def summary(self) -> str:
        return (
            f"backup written: {self.path} ({self.database} database at revision {self.revision or '-'} and "
            f"{_files(self.files)}, {self.data_bytes} bytes; archive {self.archive_bytes} bytes)"
        )


@dataclass(frozen=True)
class RestoreResult:
    archive: Path
    database: str
    revision: str | None
    """The backup's schema revision; `now_revision` is the database's after migrating."""
    files: int
    data_bytes: int
    now_revision: str | None

    def summary(self) -> str:
        return (
            f"restored {self.archive}: {self.database} database from revision {self.revision or '-'} "
            f"(migrated to {self.now_revision or '-'}) and {_files(self.files)}, {self.data_bytes} bytes"
        )


def _files(count: int) -> str:
    return f"{count} file{'' if count == 1 else 's'}"


def default_archive_name(now: datetime | None = None) -> str:
    return f"milo-backup-{(now or datetime.now(UTC)).strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


def folders(settings: Settings) -> list[tuple[str, Path]]:
    """(archive prefix, folder) of each folder of customer files."""
    return [("recordings", Path(settings.recordings_dir)), ("uploads", Path(settings.uploads_dir))]


# -- backup ------------------------------------------------------------------------------------------


def backup(settings: Settings, dest: Path) -> BackupResult:
    """Write one archive at `dest` (or, if `dest` is a folder, a timestamped one inside it)."""
    dest = Path(dest) / default_archive_name() if Path(dest).is_dir() else Path(dest)
    if dest.exists():
        raise BackupError(f"{dest} exists; choose another name (a backup never overwrites a file)")
    if any(dest.resolve().is_relative_to(root.resolve()) for _prefix, root in folders(settings)):
        raise BackupError(f"{dest} is inside a folder being backed up; write the archive elsewhere")
    kind = database_kind(settings.database_url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, part_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)  # mode 0600
    part = Path(part_name)
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            tempfile.TemporaryDirectory(prefix=".milo-backup-", dir=dest.parent) as tmp,
        ):
            database, revision = _dump_database(settings, kind, Path(tmp))
            files = write_archive(raw, kind, database, revision, folders(settings))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(part, dest)
        _fsync_dir(dest.parent)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"backup to {dest} failed, nothing was written there: {exc}") from None
    finally:
        part.unlink(missing_ok=True)
    size = dest.stat().st_size
    result = BackupResult(dest, kind, revision, len(files) - 1, sum(f["size"] for f in files), size)
    log.info("store.backup.written", extra={"files": result.files, "bytes": size})
    return result


def _dump_database(settings: Settings, kind: str, tmp: Path) -> tuple[Path, str | None]:
    """The database copied into `tmp`, and its Alembic revision."""
    if kind == "postgresql":
        out = tmp / "milo.pgdump"
        uri, password = _libpq(settings.database_url)
        _run_pg(settings, "pg_dump", *PG_DUMP_OPTIONS, f"--file={out}", f"--dbname={uri}", password=password)
        return out, _inspect_database(settings.database_url)[1]
    source, copy = sqlite_path(settings.database_url), tmp / "milo.sqlite3"
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source} (MILO_DATABASE_URL)")
    with (
        closing(sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)) as src,
        closing(sqlite3.connect(copy)) as dst,
    ):
        src.backup(dst)  # all pages in one step: one read transaction, so one consistent snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
        _check_integrity(dst, f"the database {source}")
        has_version = dst.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone()
        row = dst.execute("SELECT version_num FROM alembic_version").fetchone() if has_version else None
    return copy, row[0] if row else None


# -- restore -----------------------------------------------------------------------------------------


def verify(archive: Path) -> dict[str, Any]:
    """The manifest of a sound archive whose schema this code knows (so it can migrate it); writes nothing."""
    manifest = check_archive(archive)
    revision = manifest["database"]["alembic_revision"]
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if revision is not None and revision not in known:
        raise BackupError(
            f"{archive} comes from a newer milo-voice (schema revision {revision}); upgrade first"
        )
    return manifest


def restore(settings: Settings, archive: Path, *, force: bool) -> RestoreResult:
    """Verify `archive`, refuse to replace data unless `force`, then restore and migrate."""
    manifest = verify(archive)
    kind, revision = manifest["database"]["kind"], manifest["database"]["alembic_revision"]
    if kind != database_kind(settings.database_url):
        raise BackupError(
            f"{archive} holds a {kind} database but MILO_DATABASE_URL is "
            f"{database_kind(settings.database_url)}; restore into the same kind of database"
        )
    _check_targets(settings, force)
    try:
        with ExitStack() as cleanup:
            _restore_staged(settings, archive, manifest, _staging(settings, kind, cleanup))
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"restore of {archive} failed: {exc}") from None
    migrate(settings.database_url)
    files = [f for f in manifest["files"] if f["path"] != DATABASE_MEMBER[kind]]
    now_revision = _inspect_database(settings.database_url)[1]
    size = sum(f["size"] for f in manifest["files"])
    result = RestoreResult(archive, kind, revision, len(files), size, now_revision)
    log.info("store.backup.restored", extra={"files": result.files, "bytes": size})
    return result


def _check_targets(settings: Settings, force: bool) -> None:
    """Refuse (unless `force`) when the database has rows or a folder holds files."""
    if force:
        return
    busy = []
    if _inspect_database(settings.database_url)[0]:
        busy.append(f"the database {engine_url(settings.database_url).render_as_string()} holds data")
    busy += [f"{root} holds files" for _prefix, root in folders(settings) if next(files_under(root), None)]
    if busy:
        raise BackupError(
            f"refusing to overwrite: {'; '.join(busy)}. Restore into an empty database and folders, "
            "or pass --force to replace them"
        )


class _Route:
    """Where each member is staged: the database beside its target, files in a folder inside theirs."""

    def __init__(self, database: Path, staged: dict[str, Path]) -> None:
        self.database, self.staged = database, staged

    def __call__(self, name: str) -> Path:
        prefix, _, rest = name.partition("/")
        return self.database if prefix == "database" else self.staged[prefix].joinpath(*rest.split("/"))


def _staging(settings: Settings, kind: str, cleanup: ExitStack) -> _Route:
    """Fresh staging folders (removed by `cleanup`): the same file systems as the targets, so renames work."""
    if kind == "sqlite":
        target = sqlite_path(settings.database_url)
        target.parent.mkdir(parents=True, exist_ok=True)
        database_dir = Path(tempfile.mkdtemp(prefix=".milo-restore-", dir=target.parent))
    else:
        database_dir = Path(tempfile.mkdtemp(prefix="milo-restore-"))
    cleanup.callback(shutil.rmtree, database_dir, ignore_errors=True)
    staged = {}
    for prefix, root in folders(settings):
        root.mkdir(parents=True, exist_ok=True)
        staged[prefix] = Path(tempfile.mkdtemp(prefix=".milo-restore-", dir=root))
        cleanup.callback(shutil.rmtree, staged[prefix], ignore_errors=True)
    return _Route(database_dir / PurePosixPath(DATABASE_MEMBER[kind]).name, staged)


def _restore_staged(settings: Settings, archive: Path, manifest: dict[str, Any], route: _Route) -> None:
    """Extract into the staging folders (checking every sha256 again), then put each part in place."""
    if scan(archive, route)[1] != manifest_files(manifest):
        raise BackupError(f"{archive} changed while it was being restored; nothing was replaced")
    if manifest["database"]["kind"] == "sqlite":
        _sqlite_into_place(route.database, sqlite_path(settings.database_url))
    else:
        uri, password = _libpq(settings.database_url)
        options = (*PG_RESTORE_OPTIONS, "--no-password", f"--dbname={uri}")
        _run_pg(settings, "pg_restore", *options, str(route.database), password=password)
    for prefix, target in folders(settings):
        _swap_in(target, route.staged[prefix])


def _sqlite_into_place(staged: Path, target: Path) -> None:
    """Check and migrate the staged copy, then rename it over `target` (refused while a server has it)."""
    with closing(sqlite3.connect(staged)) as copy:
        _check_integrity(copy, "the database in the backup")
    migrate(f"sqlite:///{staged}")
    with closing(sqlite3.connect(staged)) as copy:
        copy.execute("PRAGMA journal_mode=DELETE")
    if target.exists():
        try:  # leaving WAL mode needs the only connection: it fails while a server holds the file
            with closing(sqlite3.connect(target, timeout=1)) as current:
                mode = current.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        except sqlite3.OperationalError as exc:
            mode = "locked" if "locked" in str(exc) else "delete"
        except sqlite3.DatabaseError:
            mode = "delete"  # not a database: it is being replaced
        if mode != "delete":
            raise BackupError(f"{target} is in use (is `milo-voice serve` running?); stop it, then restore")
    for suffix in ("-wal", "-shm", "-journal"):  # a stale journal would be replayed into the new file
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(staged, target)
    _fsync_dir(target.parent)


def _swap_in(target: Path, staged: Path) -> None:
    """Replace `target`'s contents with `staged`'s (a folder inside it): renames, so a mount point works."""
    old = Path(tempfile.mkdtemp(prefix=".milo-replaced-", dir=target))
    for entry in target.iterdir():
        if entry not in (staged, old):
            entry.rename(old / entry.name)
    for entry in staged.iterdir():
        entry.rename(target / entry.name)
    shutil.rmtree(old)


# -- databases ---------------------------------------------------------------------------------------


def database_kind(url: str) -> str:
    backend = engine_url(url).get_backend_name()
    if backend not in DATABASE_MEMBER:
        raise BackupError(f"MILO_DATABASE_URL: backup supports SQLite and PostgreSQL, not {backend}")
    return backend


def sqlite_path(url: str) -> Path:
    database = engine_url(url).database
    if not database or database == ":memory:":
        raise BackupError("MILO_DATABASE_URL is an in-memory SQLite database: nothing to back up or restore")
    return Path(database)


def _check_integrity(connection: sqlite3.Connection, what: str) -> None:
    result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"{what} fails SQLite's integrity check: {result}")


def _inspect_database(url: str) -> tuple[bool, str | None]:
    """(whether a table other than alembic_version has a row, the Alembic revision or None)."""
    if database_kind(url) == "sqlite" and not (
        sqlite_path(url).is_file() and sqlite_path(url).stat().st_size
    ):
        return False, None
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            names = [name for name in sa.inspect(connection).get_table_names() if name != "alembic_version"]
            revision = None
            if sa.inspect(connection).has_table("alembic_version"):
                revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            one_row = (sa.select(sa.literal(1)).select_from(sa.table(name)).limit(1) for name in names)
            rows = any(connection.execute(query).first() for query in one_row)
    except sa.exc.OperationalError as exc:
        raise BackupError(
            f"cannot open the database {engine_url(url).render_as_string()}: {exc.orig}"
        ) from None
    finally:
        engine.dispose()
    return rows, revision


def _libpq(url: str) -> tuple[str, str]:
    """A libpq URI for the PostgreSQL tools (without the password, passed as PGPASSWORD), and the password."""
    parsed = engine_url(url)
    password = str(parsed.password or "")
    return parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False), password


def pg_tool(name: str, bindir: str = "") -> Path:
    """`pg_dump` or `pg_restore`: in MILO_PG_BINDIR, else the newest /usr/lib/postgresql/*/bin, else PATH."""
    if bindir:
        if not os.access(Path(bindir) / name, os.X_OK):
            raise BackupError(f"MILO_PG_BINDIR={bindir}: no {name} there")
        return Path(bindir) / name
    major = {
        path: int(path.parents[1].name)
        for path in PG_LIBDIR.glob(f"*/bin/{name}")
        if path.parents[1].name.isdigit()
    }
    on_path = shutil.which(name)
    if major or on_path:
        return max(major, key=major.__getitem__) if major else Path(str(on_path))
    raise BackupError(
        f"{name} not found: install PostgreSQL's client tools (Debian: apt-get install postgresql-client) "
        "or set MILO_PG_BINDIR to the folder holding them"
    )


def _run_pg(settings: Settings, tool: str, *args: str, password: str) -> None:
    env = {**os.environ, "PGPASSWORD": password} if password else None
    command = [str(pg_tool(tool, settings.pg_bindir)), *args]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
