"""Where finished recordings live: one small interface, two backends (issue 21 item 2, docs/storage.md).

`ObjectStore` names a file by a key (a relative POSIX path, e.g. `session-ab12/recording.ogg`):

- `LocalObjects(root)`: files under `root` on this machine's disk (the default: MILO_RECORDINGS_DIR, so
  a key is the file's path relative to it);
- `S3Objects`: any S3-compatible store (AWS S3, MinIO, Ceph, R2, ...), named by `MILO_STORAGE_URL`
  (`s3://bucket/prefix`) with `MILO_S3_ENDPOINT_URL`, `MILO_S3_REGION` and the access key pair.

Every method blocks (disk or network): call them from a thread, never on the event loop. Failures raise
`StorageError` (an `OSError`, so the erasure and retention seams that retry `OSError` retry these
too) with a message that names what to check; a missing object is `ObjectMissing`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from milo_voice.errors import ConfigError, MiloError
from milo_voice.settings import Settings

CHUNK = 256 * 1024
"""Bytes per piece when streaming a read."""


class StorageError(MiloError, OSError):
    """The object store refused or could not be reached; the message says which and what to check."""


class ObjectMissing(StorageError):
    """No object under that key."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int


class ObjectStore(Protocol):
    """Files by key. `uri(key)` is how a database row names a stored file (`recording_path`)."""

    def put_file(self, key: str, path: Path) -> int:
        """Store the file at `path` under `key` (replacing one there); its size once stored."""
        ...

    def put_bytes(self, key: str, data: bytes) -> int:
        """Store `data` under `key` (replacing one there, atomically); the bytes written."""
        ...

    def read_all(self, key: str) -> bytes:
        """The whole object (`ObjectMissing` when there is none); for small objects only."""
        ...

    def read_range(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """The object's bytes from `start`, `length` of them (None: to the end), in pieces."""
        ...

    def size(self, key: str) -> int:
        """Bytes in the object (`ObjectMissing` when there is none)."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> int:
        """Remove the object; the bytes it held (0: there was none)."""
        ...

    def list_prefix(self, prefix: str) -> list[ObjectInfo]:
        """Objects whose key starts with `prefix`, sorted by key."""
        ...

    def uri(self, key: str) -> str: ...


def clean_key(key: str) -> str:
    """`key` as a safe relative POSIX path (no `..`, no leading `/`); ValueError otherwise."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key:
        raise ValueError(f"object key {key!r}: expected a relative path without '..'")
    return str(path)


class LocalObjects:
    """Files under `root` on this machine's disk."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / clean_key(key)

    def put_file(self, key: str, path: Path) -> int:
        target = self.path(key)
        if target.exists() and target.resolve() == Path(path).resolve():
            return target.stat().st_size  # already where it belongs
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        shutil.copyfile(path, part)
        os.replace(part, target)
        return target.stat().st_size

    def put_bytes(self, key: str, data: bytes) -> int:
        target = self.path(key)
        part = target.with_name(target.name + ".part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            part.write_bytes(data)
            os.replace(part, target)
        except OSError as exc:
            raise StorageError(f"cannot store {key} at {target}: {exc}; check MILO_RECORDINGS_DIR") from exc
        return len(data)

    def read_all(self, key: str) -> bytes:
        return b"".join(self.read_range(key))

    def read_range(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        path = self.path(key)
        if not path.is_file():
            raise ObjectMissing(f"no file {path}")
        return _read_file(path, start, length)

    def size(self, key: str) -> int:
        path = self.path(key)
        if not path.is_file():
            raise ObjectMissing(f"no file {path}")
        return path.stat().st_size

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> int:
        path = self.path(key)
        if not path.is_file():
            return 0
        size = path.stat().st_size
        path.unlink()
        return size

    def list_prefix(self, prefix: str) -> list[ObjectInfo]:
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and not path.is_symlink() and key.startswith(prefix):
                found.append(ObjectInfo(key, path.stat().st_size))
        return sorted(found, key=lambda info: info.key)

    def uri(self, key: str) -> str:
        return str(self.path(key).absolute())


def _read_file(path: Path, start: int, length: int | None) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(start)
        left = length
        while left is None or left > 0:
            block = handle.read(CHUNK if left is None else min(CHUNK, left))
            if not block:
                return
            if left is not None:
                left -= len(block)
            yield block


def parse_storage_url(url: str) -> tuple[str, str]:
    """`s3://bucket/prefix` -> (bucket, prefix without slashes at either end); ConfigError otherwise."""
    if not url.startswith("s3://"):
        raise ConfigError(f"MILO_STORAGE_URL={url!r}: expected s3://bucket or s3://bucket/prefix")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket or "\\" in url or ".." in prefix.split("/"):
        raise ConfigError(f"MILO_STORAGE_URL={url!r}: expected s3://bucket or s3://bucket/prefix")
    return bucket, prefix.strip("/")


def object_store(settings: Settings) -> ObjectStore:
    """The store `settings` name: S3 when MILO_STORAGE_URL is set, else MILO_RECORDINGS_DIR on disk."""
    if not settings.storage_url:
        return LocalObjects(settings.recordings_dir)
    from milo_voice.store.objects_s3 import S3Objects  # boto3 loads only when S3 is configured

    bucket, prefix = parse_storage_url(settings.storage_url)
    return S3Objects(
        bucket,
        prefix,
        endpoint_url=settings.s3_endpoint_url or None,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id or None,
        secret_access_key=str(settings.s3_secret_access_key) or None,
    )
