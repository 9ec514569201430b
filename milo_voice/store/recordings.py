"""A session's recording files, wherever they are: on this disk or in the object store (docs/storage.md).

A live session always writes its crash-safe files to a folder under MILO_RECORDINGS_DIR
(`interview_session.recording_dir`). With MILO_STORAGE_URL set, the folder's media go to the store once
the session has ended, each under its path relative to MILO_RECORDINGS_DIR as key, and
`interview_session.recording_path` changes from the local file's path to the store's URI of it
(`s3://bucket/prefix/session-…/recording.ogg`): a row says "in the store" by that scheme, so rows
written before, local absolute paths, keep working with no migration. Only after the row points at
the store are the local files deleted.

`Recordings` is what every reader and remover uses: `media` (the ZIP), `locate` (playback), `upload`,
`remove` (retention, erasure). Every method blocks: call it from a thread.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from milo_voice.settings import Settings
from milo_voice.store.objects import LocalObjects, ObjectStore, StorageError, object_store

log = logging.getLogger(__name__)

STORE_SCHEME = "s3://"
MEDIA_SUFFIXES = frozenset({".ogg", ".opus", ".wav", ".webm", ".mp4", ".mkv", ".mp3", ".m4a"})
"""A session folder's audio and video files (the recorder's tracks and recording, camera videos)."""


def in_store(recording_path: str | None) -> bool:
    """Whether a row's `recording_path` names an object in the store (else: a local file, or none)."""
    return bool(recording_path) and str(recording_path).startswith(STORE_SCHEME)


@dataclass(frozen=True, slots=True)
class Media:
    """One media file of a session: its name in the folder, size, and where to read it."""

    name: str
    size: int
    store: ObjectStore
    key: str

    def chunks(self, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        return self.store.read_range(self.key, start, length)


class Recordings:
    """Recording files under `root` (MILO_RECORDINGS_DIR), with `objects` the configured store (None: the
    local disk only, and nothing is uploaded)."""

    def __init__(self, root: Path, objects: ObjectStore | None = None) -> None:
        self.root, self.objects = Path(root), objects

    @property
    def uploads(self) -> bool:
        return self.objects is not None

    def key(self, path: Path) -> str | None:
        """`path` relative to the recordings folder, as a key; None when it lies outside."""
        path, root = Path(path).resolve(), self.root.resolve()
        return path.relative_to(root).as_posix() if path != root and path.is_relative_to(root) else None

    def _store(self) -> ObjectStore:
        if self.objects is None:
            raise StorageError("this recording is in object storage, but MILO_STORAGE_URL is not set")
        return self.objects

    def _key_of(self, uri: str) -> str:
        store = self._store()
        key_of = getattr(store, "key_of", None)
        if key_of is None:
            raise StorageError(f"{uri}: the configured store holds no s3:// objects")
        return str(key_of(uri))

    def locate(self, recording_path: str | None) -> Media | None:
        """The final recording of a row, for playback; None when it is not there."""
        if not recording_path:
            return None
        if in_store(recording_path):
            store, key = self._store(), self._key_of(recording_path)
            return Media(Path(key).name, store.size(key), store, key) if store.exists(key) else None
        path = Path(recording_path)
        if not path.is_file():
            return None
        return Media(path.name, path.stat().st_size, LocalObjects(path.parent), path.name)

    def media(self, recording_dir: str, recording_path: str | None) -> list[Media]:
        """The session's audio and video: the final recording, then the media of its folder, by name,
        from the store for a stored session and from the disk otherwise (each file once)."""
        found: dict[str, Media] = {}
        final = self.locate(recording_path)
        if final is not None:
            found[final.name] = final
        if in_store(recording_path):
            store, key = self._store(), self._key_of(str(recording_path))
            folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
            for info in store.list_prefix(folder) if folder else []:
                name = info.key[len(folder) :]
                if "/" not in name and Path(name).suffix.lower() in MEDIA_SUFFIXES:
                    found.setdefault(name, Media(name, info.size, store, info.key))
            return list(found.values())
        folder = Path(recording_dir) if recording_dir else None
        for path in sorted(folder.iterdir()) if folder is not None and folder.is_dir() else []:
            if path.is_file() and path.suffix.lower() in MEDIA_SUFFIXES and path.name not in found:
                found[path.name] = Media(path.name, path.stat().st_size, LocalObjects(folder), path.name)
        return list(found.values())

    def upload(self, recording_dir: str, recording_path: str) -> str:
        """Put the session folder's media into the store, each checked by size; the URI that replaces
        `recording_path`. Raises StorageError (the local files stay) or ValueError (a folder outside
        MILO_RECORDINGS_DIR, which has no key)."""
        store = self._store()
        folder = Path(recording_dir)
        prefix = self.key(folder)
        if prefix is None:
            raise ValueError(f"{folder} is not inside {self.root}: it has no key in the store")
        final = Path(recording_path)
        files = [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES]
        if final not in files and final.resolve() not in {p.resolve() for p in files}:
            raise ValueError(f"{final} is not in the session folder {folder}")
        for path in files:
            key = f"{prefix}/{path.name}"
            local = path.stat().st_size
            stored = store.put_file(key, path)
            if stored != local:
                raise StorageError(
                    f"{store.uri(key)} holds {stored} bytes after upload; the file has {local}"
                )
        log.info("storage.uploaded", extra={"folder": prefix, "files": len(files)})
        return store.uri(f"{prefix}/{final.name}")

    def drop_local(self, recording_dir: str) -> int:
        """Delete the uploaded folder's media files, then the folder if that emptied it; files removed."""
        folder = Path(recording_dir)
        if not folder.is_dir():
            return 0
        gone = 0
        for path in folder.iterdir():
            if path.is_file() and path.suffix.lower() in MEDIA_SUFFIXES:
                path.unlink()
                gone += 1
        if not any(folder.iterdir()):
            folder.rmdir()
        return gone

    def remove_stored(self, recording_dir: str, recording_path: str | None) -> tuple[int, int]:
        """Delete a session's objects from the store (retention, erasure): (objects, bytes). Nothing for a
        session that was never uploaded."""
        if self.objects is None:
            return 0, 0
        prefix = self.key(Path(recording_dir)) if recording_dir else None
        keys: set[str] = set()
        if in_store(recording_path):
            keys.add(self._key_of(str(recording_path)))
        if prefix is not None:
            keys.update(info.key for info in self.objects.list_prefix(prefix + "/"))
        files, size = 0, 0
        for key in sorted(keys):
            freed = self.objects.delete(key)
            files, size = files + (freed > 0), size + freed
        return files, size


@lru_cache(maxsize=8)
def recordings_for(settings: Settings) -> Recordings:
    """The process's `Recordings` for these settings (one S3 client per configuration, made once)."""
    return Recordings(settings.recordings_dir, object_store(settings) if settings.storage_url else None)
