"""The backup archive (a .tar.gz): written with a manifest of sha256 sums, read back refusing anything unsafe.

Layout: `database/milo.sqlite3` or `database/milo.pgdump`, `recordings/...`, `uploads/...`, and, last,
`manifest.json` (format and version, UTC time, database kind and Alembic revision, every file's path,
size and sha256). Only regular files with relative names under those prefixes are accepted when
reading: links, devices, absolute or `..` names, duplicates and unknown prefixes are refused. Nothing
here knows about databases or settings; `store/backup.py` does (see docs/backup.md).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from milo_voice.errors import MiloError

FORMAT, FORMAT_VERSION, MANIFEST = "milo-voice-backup", 1, "manifest.json"
DATABASE_MEMBER = {"sqlite": "database/milo.sqlite3", "postgresql": "database/milo.pgdump"}
FOLDERS = {"recordings": "MILO_RECORDINGS_DIR", "uploads": "MILO_UPLOADS_DIR"}
"""Archive prefix of each folder of customer files, and the setting naming it (models are not data)."""
MAX_MANIFEST_BYTES = 64 << 20
CHUNK = 1 << 20

Found = dict[str, tuple[int, str]]
"""Member name -> (size, sha256 hex)."""


class BackupError(MiloError):
    """A backup cannot be written, or an archive is refused or cannot be restored; the message says why."""


def files_under(root: Path) -> Iterator[Path]:
    """Regular files below `root`, sorted; symlinks and special files are skipped."""
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path


def write_archive(
    raw: IO[bytes], kind: str, database: Path, revision: str | None, folders: list[tuple[str, Path]]
) -> list[dict[str, Any]]:
    """Database, then each (prefix, folder)'s files, then the manifest; returns the manifest's file list."""
    with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar:
        entries = [_add(tar, database, DATABASE_MEMBER[kind])]
        for prefix, root in folders:
            entries += [
                _add(tar, path, f"{prefix}/{path.relative_to(root).as_posix()}") for path in files_under(root)
            ]
        files = [entry for entry in entries if entry is not None]
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "database": {"kind": kind, "alembic_revision": revision, "member": DATABASE_MEMBER[kind]},
            "folders": FOLDERS,
            "files": files,
        }
        data = json.dumps(manifest, indent=1).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o600
        tar.addfile(info, io.BytesIO(data))
    return files


def _add(tar: tarfile.TarFile, path: Path, name: str) -> dict[str, Any] | None:
    """Add `path` as `name`, hashing the bytes as they go in; None if it vanished since it was listed."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None
    with handle:
        info = tarfile.TarInfo(name)
        status = os.fstat(handle.fileno())
        info.size, info.mtime, info.mode = status.st_size, int(status.st_mtime), 0o600
        reader = _Hashing(handle)  # a file still growing is cut at its size when opened
        try:
            tar.addfile(info, reader)
        except OSError as exc:
            raise BackupError(f"{path} shrank while being backed up ({exc}); run the backup again") from None
    return {"path": name, "size": info.size, "sha256": reader.sha256.hexdigest()}


class _Hashing:
    """A reader that hashes what passes through it."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner, self.sha256 = inner, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.sha256.update(data)
        return data


def check_archive(archive: Path) -> dict[str, Any]:
    """The archive's manifest, once every member is a safe regular file matching it. Writes nothing."""
    if not Path(archive).is_file():
        raise BackupError(f"no backup archive at {archive}")
    raw, found = scan(archive, lambda name: None)
    manifest = _parse_manifest(archive, raw)
    listed = manifest_files(manifest)
    problems = [f"missing: {name}" for name in sorted(set(listed) - set(found))]
    problems += [f"not in the manifest: {name}" for name in sorted(set(found) - set(listed))]
    problems += [
        f"size or sha256 differs: {n}" for n in sorted(set(listed) & set(found)) if listed[n] != found[n]
    ]
    if problems:
        raise BackupError(f"{archive} is damaged or was altered; refused ({'; '.join(problems[:5])})")
    return manifest


def _parse_manifest(archive: Path, raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        raise BackupError(f"{archive} has no {MANIFEST}: not a milo-voice backup, or cut short; refused")
    try:
        manifest = json.loads(raw)
        database, files = manifest["database"], manifest["files"]
        valid = (
            manifest["format"] == FORMAT
            and database["kind"] in DATABASE_MEMBER
            and database["member"] == DATABASE_MEMBER[database["kind"]]
            and [f["path"] for f in files if f["path"].startswith("database/")] == [database["member"]]
            and all(isinstance(f["size"], int) and isinstance(f["sha256"], str) for f in files)
        )
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise BackupError(f"{archive}: {MANIFEST} is not a valid milo-voice backup manifest; refused")
    if manifest["version"] != FORMAT_VERSION:
        raise BackupError(f"{archive}: backup format {manifest['version']} is not {FORMAT_VERSION}; refused")
    return dict(manifest)


def manifest_files(manifest: dict[str, Any]) -> Found:
    return {f["path"]: (f["size"], f["sha256"]) for f in manifest["files"]}


def scan(archive: Path, place: Callable[[str], Path | None]) -> tuple[bytes | None, Found]:
    """Read every member in order: the manifest's bytes, and each other member's (size, sha256),
    copying it to `place(name)` when that is a path. Unsafe members and damage are refused."""
    found: Found = {}
    manifest: bytes | None = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for info in tar:
                name = _safe_name(archive, info, seen=set(found) | ({MANIFEST} if manifest else set()))
                stream = tar.extractfile(info)
                assert stream is not None  # a regular file, checked above
                if name != MANIFEST:
                    found[name] = _copy(stream, place(name), info.size)
                elif info.size > MAX_MANIFEST_BYTES:
                    raise BackupError(f"{archive}: {MANIFEST} is too large; refused")
                else:
                    manifest = stream.read()
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise BackupError(
            f"{archive} is not a readable .tar.gz (damaged or cut short: {exc}); refused"
        ) from None
    return manifest, found


def _safe_name(archive: Path, info: tarfile.TarInfo, *, seen: set[str]) -> str:
    name = info.name
    if info.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
        what = "a link" if info.issym() or info.islnk() else "not a regular file"
        raise BackupError(f"{archive}: member {name!r} is {what}; refused")
    parts = name.split("/")
    if name.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in name or "\0" in name:
        raise BackupError(f"{archive}: member {name!r} is not a safe relative path; refused")
    known = parts[0] in FOLDERS if len(parts) > 1 else name == MANIFEST
    if not (known or name in DATABASE_MEMBER.values()):
        raise BackupError(f"{archive}: unexpected member {name!r}; refused")
    if name in seen:
        raise BackupError(f"{archive}: member {name!r} appears twice; refused")
    return name


def _copy(stream: IO[bytes], path: Path | None, size: int) -> tuple[int, str]:
    """Hash `stream` (and write it to a new file at `path`, if given); its size must be `size`."""
    digest, total = hashlib.sha256(), 0
    with ExitStack() as stack:
        out = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            out = stack.enter_context(path.open("xb"))
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            total += len(chunk)
            if out is not None:
                out.write(chunk)
    if total != size:
        raise BackupError(f"a member of {size} bytes gave {total}: the archive is damaged")
    return total, digest.hexdigest()
