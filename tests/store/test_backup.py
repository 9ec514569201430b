"""`milo-voice backup` / `restore` on real databases and real files: a consistent copy while a writer
writes, a restore equal to the source, refusals (data in place, hostile or damaged archives) that
write nothing, the CLI end to end, and a PostgreSQL round trip through pg_dump / pg_restore."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import sqlite3
import subprocess
import tarfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from conftest import REPO
from postgres import find_bindir, postgres_url  # noqa: F401  (fixture)

from milo_voice.settings import Settings
from milo_voice.store import backup_archive
from milo_voice.store.backup import BackupError, backup, pg_tool, restore, verify
from milo_voice.store.backup_archive import MANIFEST
from milo_voice.store.db import alembic_config, create_engine, migrate, unit_of_work
from milo_voice.workspace.candidates import add_candidate
from milo_voice.workspace.demo import Demo

MILO_VOICE = REPO / ".venv" / "bin" / "milo-voice"
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
FILES = {
    "recordings/session-0a1b2c/candidate.wav": 300_000,
    "recordings/session-0a1b2c/interviewer.wav": 200_000,
    "recordings/session-9f8e7d/candidate.wav": 50_000,
    "uploads/batch-1/resume.pdf": 40_000,
    "uploads/stage_files/1/0/answer.txt": 1_000,
}
"""Customer files of a seeded site: archive name -> size (random bytes)."""
PG_BINDIR = str((find_bindir() / "initdb").resolve().parent) if find_bindir() else ""
"""pg_dump and pg_restore from the folder of the test server's own binaries (find_bindir may name a
folder of symlinks to initdb and pg_ctl only)."""


def site(root: Path, url: str = "") -> Settings:
    return Settings(
        database_url=url or f"sqlite:///{root / 'milo.db'}",
        recordings_dir=root / "recordings",
        uploads_dir=root / "uploads",
        pg_bindir=PG_BINDIR,
    )


def add_pairs(engine: sa.Engine, interview_id: int, first: int, count: int, prefix: str = "pair") -> None:
    """`count` transactions, each adding two candidates: a consistent copy never holds half a pair."""
    for n in range(first, first + count):
        with unit_of_work(engine) as session:
            for half in ("a", "b"):
                name, email = f"{prefix} {n} {half}", f"{prefix}{n}{half}@example.com"
                add_candidate(
                    session,
                    interview_id=interview_id,
                    name=name,
                    email=email,
                    phone="",
                    now=datetime.now(UTC),
                )


def seed(settings: Settings, *, revision: str = "head") -> int:
    """A migrated database with the demo and three candidate pairs, and the customer files on disk."""
    settings.recordings_dir.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url)
    try:
        if revision == "head":
            migrate(settings.database_url)
        else:
            with engine.connect() as connection:
                command.upgrade(alembic_config(connection=connection), revision)
                connection.commit()
        interview_id, _ = Demo(engine).seed()
        add_pairs(engine, interview_id, 0, 3)
    finally:
        engine.dispose()
    rng = random.Random(20)
    for name, size in FILES.items():
        prefix, _, rest = name.partition("/")
        path = Path(getattr(settings, f"{prefix}_dir")) / rest
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(size))
    return interview_id


def snapshot(url: str) -> dict[str, list[str]]:
    """Every row of every table (sorted reprs), so two databases can be compared whole."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            names = sorted(sa.inspect(connection).get_table_names())
            return {
                name: sorted(
                    repr(tuple(row)) for row in connection.exec_driver_sql(f'SELECT * FROM "{name}"')
                )
                for name in names
            }
    finally:
        engine.dispose()


def files(settings: Settings) -> dict[str, bytes]:
    found = {}
    for prefix in ("recordings", "uploads"):
        root = Path(getattr(settings, f"{prefix}_dir"))
        found |= {
            f"{prefix}/{p.relative_to(root).as_posix()}": p.read_bytes()
            for p in root.rglob("*")
            if p.is_file()
        }
    return found


def tree(root: Path) -> set[Path]:
    return set(root.rglob("*"))


@pytest.fixture
def source(tmp_path: Path) -> Settings:
    settings = site(tmp_path / "a")
    seed(settings)
    return settings


@pytest.fixture
def archive(source: Settings, tmp_path: Path) -> Path:
    return backup(source, tmp_path / "backup.tar.gz").path


# -- backup, then restore ----------------------------------------------------------------------------


def test_restore_into_an_empty_place_gives_the_same_rows_and_the_same_recording_bytes(
    source: Settings, tmp_path: Path
) -> None:
    result = backup(source, tmp_path)  # a folder: a timestamped name inside it
    assert result.path.parent == tmp_path and result.path.name.startswith("milo-backup-")
    assert (result.database, result.revision, result.files) == ("sqlite", HEAD, len(FILES))
    assert result.path.stat().st_mode & 0o777 == 0o600  # it holds personal data
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left
    manifest = verify(result.path)
    assert manifest["database"] == {
        "kind": "sqlite",
        "alembic_revision": HEAD,
        "member": "database/milo.sqlite3",
    }
    assert FILES.items() <= {f["path"]: f["size"] for f in manifest["files"]}.items()
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])

    target = site(tmp_path / "b")
    restored = restore(target, result.path, force=False)
    assert (restored.database, restored.revision, restored.now_revision, restored.files) == (
        "sqlite",
        HEAD,
        HEAD,
        len(FILES),
    )
    assert snapshot(target.database_url) == snapshot(source.database_url)
    assert files(target) == files(source)
    assert [p.name for p in (tmp_path / "b").rglob(".milo-*")] == []  # staging folders removed
    engine = create_engine(target.database_url)  # the restored database takes new rows
    try:
        add_pairs(engine, Demo(engine).seed()[0], 100, 1)
    finally:
        engine.dispose()


def test_a_backup_taken_while_a_writer_inserts_is_consistent(source: Settings, tmp_path: Path) -> None:
    engine = create_engine(source.database_url)
    interview_id = Demo(engine).seed()[0]
    done, stop, errors = [0], threading.Event(), []

    def write() -> None:
        try:
            while not stop.is_set():
                add_pairs(engine, interview_id, done[0], 1, prefix="live")
                done[0] += 1
        except Exception as exc:  # reported below
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        wait_until(lambda: done[0] >= 20)
        before = done[0]
        archive = backup(source, tmp_path / "live.tar.gz").path
        wait_until(lambda: done[0] >= before + 20)  # the writer kept going throughout
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    assert errors == []
    target = site(tmp_path / "b")
    restore(target, archive, force=False)
    with sqlite3.connect(Path(target.database_url.removeprefix("sqlite:///"))) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        names = [name for (name,) in db.execute("SELECT name FROM candidate WHERE name LIKE 'live %'")]
    halves = {half: sum(name.endswith(half) for name in names) for half in ("a", "b")}
    assert halves["a"] == halves["b"] >= before  # whole transactions only, none lost before the backup


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_an_older_backup_comes_up_to_the_current_schema(tmp_path: Path) -> None:
    old = site(tmp_path / "a")
    seed(old, revision="0012")
    result = backup(old, tmp_path / "old.tar.gz")
    assert result.revision == "0012"
    restored = restore(site(tmp_path / "b"), result.path, force=False)
    assert (restored.revision, restored.now_revision) == ("0012", HEAD)


def test_restore_refuses_to_replace_data_without_force_and_replaces_it_with_force(
    source: Settings, archive: Path
) -> None:
    expected_rows, expected_files = snapshot(source.database_url), files(source)
    engine = create_engine(source.database_url)
    add_pairs(engine, Demo(engine).seed()[0], 500, 2)
    engine.dispose()
    (source.recordings_dir / "session-new").mkdir()
    (source.recordings_dir / "session-new" / "candidate.wav").write_bytes(b"newer")
    changed_rows, changed_files = snapshot(source.database_url), files(source)

    with pytest.raises(
        BackupError, match=r"refusing to overwrite: the database .* holds data; .*recordings holds"
    ):
        restore(source, archive, force=False)
    assert (snapshot(source.database_url), files(source)) == (changed_rows, changed_files)

    restore(source, archive, force=True)
    assert (snapshot(source.database_url), files(source)) == (expected_rows, expected_files)


def test_restore_refuses_a_sqlite_file_a_server_has_open(source: Settings, archive: Path) -> None:
    engine = create_engine(source.database_url)
    try:
        with engine.connect() as connection:  # as `milo-voice serve` holds it
            connection.exec_driver_sql("SELECT 1 FROM candidate").fetchall()
            before = files(source)
            with pytest.raises(BackupError, match="is in use"):
                restore(source, archive, force=True)
            assert files(source) == before
    finally:
        engine.dispose()


def test_a_backup_never_leaves_a_partial_archive(source: Settings, tmp_path: Path, monkeypatch: Any) -> None:
    def fail(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup_archive, "_add", fail)
    out = tmp_path / "out"
    with pytest.raises(BackupError, match=r"nothing was written there: .*No space left"):
        backup(source, out / "b.tar.gz")
    assert list(out.iterdir()) == []
    monkeypatch.undo()
    (out / "b.tar.gz").write_bytes(b"an older backup")
    with pytest.raises(BackupError, match="exists"):
        backup(source, out / "b.tar.gz")
    assert (out / "b.tar.gz").read_bytes() == b"an older backup"
    with pytest.raises(BackupError, match="inside a folder being backed up"):
        backup(source, source.recordings_dir)


def test_a_sqlite_backup_does_not_go_into_postgresql(archive: Path, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="holds a sqlite database but MILO_DATABASE_URL is postgresql"):
        restore(site(tmp_path / "b", "postgresql://milo@127.0.0.1:1/milo"), archive, force=True)


# -- hostile and damaged archives --------------------------------------------------------------------

Members = list[tuple[tarfile.TarInfo, bytes]]


def member(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = ""
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size, info.type, info.linkname = (len(data) if kind == tarfile.REGTYPE else 0), kind, link
    return info, data


def listed(manifest: dict[str, Any], name: str, data: bytes) -> None:
    manifest["files"].append({"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})


def add_listed(name: str) -> Callable[[Members, dict[str, Any]], None]:
    def edit(members: Members, manifest: dict[str, Any]) -> None:
        members.append(member(name, b"owned"))
        listed(manifest, name, b"owned")  # the manifest agrees: the name alone must be refused

    return edit


def tamper(members: Members, manifest: dict[str, Any]) -> None:
    index = next(i for i, (info, _) in enumerate(members) if info.name.startswith("recordings/"))
    info, data = members[index]
    members[index] = (info, bytes([data[0] ^ 1]) + data[1:])


EDITS: dict[str, tuple[Callable[[Members, dict[str, Any]], None], str]] = {
    "traversal": (add_listed("../evil.txt"), "not a safe relative path"),
    "traversal inside": (add_listed("recordings/../../evil.txt"), "not a safe relative path"),
    "absolute": (add_listed("/tmp/milo-evil.txt"), "not a safe relative path"),
    "unknown prefix": (add_listed("models/evil.onnx"), "unexpected member"),
    "second database": (add_listed("database/milo.pgdump"), "not a valid milo-voice backup manifest"),
    "other database name": (add_listed("database/evil.sqlite3"), "unexpected member"),
    "symlink": (
        lambda m, _: m.append(member("recordings/passwd", kind=tarfile.SYMTYPE, link="/etc/passwd")),
        "is a link",
    ),
    "hardlink": (
        lambda m, _: m.append(
            member("uploads/copy", kind=tarfile.LNKTYPE, link="uploads/batch-1/resume.pdf")
        ),
        "is a link",
    ),
    "fifo": (lambda m, _: m.append(member("recordings/pipe", kind=tarfile.FIFOTYPE)), "not a regular file"),
    "tampered": (tamper, "size or sha256 differs: recordings/"),
    "missing member": (lambda m, _: m.pop(1), "missing: "),
    "unlisted member": (lambda m, _: m.append(member("recordings/extra.wav", b"x")), "not in the manifest"),
    "duplicate": (lambda m, _: m.append(m[1]), "appears twice"),
    "no manifest": (lambda m, manifest: manifest.clear(), "has no manifest.json"),
    "newer schema": (
        lambda m, manifest: manifest["database"].update(alembic_revision="9999"),
        "newer milo-voice",
    ),
    "bad manifest": (lambda m, manifest: manifest.update(format="something else"), "not a valid milo-voice"),
}


def rebuild(archive: Path, out: Path, edit: Callable[[Members, dict[str, Any]], None]) -> Path:
    with tarfile.open(archive, "r:gz") as tar:
        members = [(info, tar.extractfile(info).read()) for info in tar if info.name != MANIFEST]  # type: ignore[union-attr]
        manifest = json.loads(tar.extractfile(MANIFEST).read())  # type: ignore[union-attr]
    edit(members, manifest)
    if manifest:
        members.append(member(MANIFEST, json.dumps(manifest).encode()))
    with tarfile.open(out, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return out


def assert_refused_and_nothing_written(archive: Path, tmp_path: Path, match: str) -> None:
    target, before = site(tmp_path / "b"), tree(tmp_path)
    with pytest.raises(BackupError, match=match):
        restore(target, archive, force=True)  # even with --force
    assert tree(tmp_path) == before
    assert not Path("/tmp/milo-evil.txt").exists()


@pytest.mark.parametrize("case", list(EDITS))
def test_a_hostile_or_altered_archive_is_refused_before_anything_is_written(
    archive: Path, tmp_path: Path, case: str
) -> None:
    edit, match = EDITS[case]
    assert_refused_and_nothing_written(rebuild(archive, tmp_path / "hostile.tar.gz", edit), tmp_path, match)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "missing"])
def test_a_damaged_archive_is_refused_before_anything_is_written(
    archive: Path, tmp_path: Path, damage: str
) -> None:
    bad = tmp_path / "damaged.tar.gz"
    data = archive.read_bytes()
    contents = {
        "truncated": data[: len(data) // 2],
        "garbage": random.Random(1).randbytes(50_000),
        "empty": b"",
    }
    if damage in contents:
        bad.write_bytes(contents[damage])
    match = {"truncated": "damaged or cut short", "missing": "no backup archive"}.get(
        damage, "not a readable"
    )
    assert_refused_and_nothing_written(bad, tmp_path, match)


# -- the command -------------------------------------------------------------------------------------


def run_cli(cwd: Path, settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "MILO_DATABASE_URL": settings.database_url,
        "MILO_RECORDINGS_DIR": str(settings.recordings_dir),
        "MILO_UPLOADS_DIR": str(settings.uploads_dir),
    }
    return subprocess.run(
        [str(MILO_VOICE), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_the_commands_end_to_end(source: Settings, tmp_path: Path) -> None:
    done = run_cli(tmp_path, source, "backup")
    assert done.returncode == 0, done.stderr
    [archive] = tmp_path.glob("milo-backup-*.tar.gz")
    assert done.stdout.strip().splitlines() == [
        f"backup written: {archive.name} (sqlite database at revision {HEAD} and {len(FILES)} files, "
        f"{sum(f['size'] for f in verify(archive)['files'])} bytes; archive {archive.stat().st_size} bytes)"
    ]
    target = site(tmp_path / "b")
    done = run_cli(tmp_path, target, "restore", archive.name)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        f"restored {archive.name}: sqlite database from revision {HEAD} (migrated to"
    )
    assert snapshot(target.database_url) == snapshot(source.database_url) and files(target) == files(source)

    again = run_cli(tmp_path, target, "restore", archive.name)
    assert again.returncode == 2 and again.stdout == ""
    assert "milo-voice: refusing to overwrite" in again.stderr and "--force" in again.stderr
    assert run_cli(tmp_path, target, "restore", archive.name, "--force").returncode == 0
    hostile = rebuild(archive, tmp_path / "hostile.tar.gz", EDITS["traversal"][0])
    refused = run_cli(tmp_path, target, "restore", str(hostile), "--force")
    assert refused.returncode == 2 and "not a safe relative path" in refused.stderr
    existing = run_cli(tmp_path, source, "backup", archive.name)
    assert existing.returncode == 2 and "exists" in existing.stderr


# -- PostgreSQL --------------------------------------------------------------------------------------


def test_pg_tools_are_found_or_named_with_how_to_install(tmp_path: Path, monkeypatch: Any) -> None:
    with pytest.raises(BackupError, match=f"MILO_PG_BINDIR={tmp_path}: no pg_dump there"):
        pg_tool("pg_dump", str(tmp_path))
    monkeypatch.setattr("milo_voice.store.backup.PG_LIBDIR", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        BackupError, match=r"pg_restore not found: install .*postgresql-client.* MILO_PG_BINDIR"
    ):
        pg_tool("pg_restore")


def new_database(url: str, name: str) -> str:
    engine = create_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    finally:
        engine.dispose()
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.mark.postgres
def test_postgresql_backup_and_restore_round_trip(postgres_url: str, tmp_path: Path) -> None:  # noqa: F811
    source = site(tmp_path / "a", postgres_url)
    seed(source)
    result = backup(source, tmp_path / "pg.tar.gz")
    assert (result.database, result.revision, result.files) == ("postgresql", HEAD, len(FILES))
    assert verify(result.path)["database"]["member"] == "database/milo.pgdump"

    target = site(tmp_path / "b", new_database(postgres_url, "restored"))
    restored = restore(target, result.path, force=False)
    assert (restored.revision, restored.now_revision) == (HEAD, HEAD)
    assert snapshot(target.database_url) == snapshot(source.database_url)
    assert files(target) == files(source)

    expected = snapshot(source.database_url)
    engine = create_engine(source.database_url)
    try:
        add_pairs(engine, Demo(engine).seed()[0], 700, 2)
    finally:
        engine.dispose()
    with pytest.raises(BackupError, match="refusing to overwrite: the database postgresql"):
        restore(source, result.path, force=False)
    restore(source, result.path, force=True)
    assert snapshot(source.database_url) == expected
    engine = create_engine(source.database_url)  # sequences came back too: new rows get fresh ids
    try:
        add_pairs(engine, Demo(engine).seed()[0], 800, 1)
    finally:
        engine.dispose()
