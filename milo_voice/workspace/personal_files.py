"""The files one candidate left (issue 20 item 3), and the one seam through which erasure deletes them.

`files_of` lists them from the catalogue's rows (`personal_data.Holdings`):

- each session's recording folder (`interview_session.recording_dir`: the crash-safe parts, the
  final Ogg, a WebRTC video) and its final recording (`recording_path`). A folder is removed whole
  when it lies inside `MILO_RECORDINGS_DIR` or is named like one (`session-…`); a folder elsewhere
  only loses the recording and the media files in it (it may be shared with something else);
- under `MILO_UPLOADS_DIR`: the resume (`candidate_resume.path`), the documents intake extracted
  (`intake_item.file_path`), the candidate's own folders of resume and form uploads
  (`candidate_resumes/<id>`, `stage_files/<id>`), and the original uploads (`batches/<id>/incoming`)
  of every intake batch the candidate came in with once it has been read (the originals are only
  read by the reading job; a ZIP or CSV of many people goes too, their extracted documents stay);
- the cached TTS audio of the interviewer's personal lines (`personal_data.spoken_lines`), mapped to
  cache files by the caller (`SpeechPaths`: the cache belongs to the calls room).

`FileStore` is the seam: `remove(path)` deletes one file or folder and says how many bytes went.
`LocalFiles` removes from this disk; with an object store configured (MILO_STORAGE_URL, issue 21,
docs/storage.md) the eraser uses `StoredFiles`, which also deletes the objects whose keys are the path
relative to MILO_RECORDINGS_DIR (an uploaded session's folder is listed even when its local copy is
gone). A removal that fails is retried (`ATTEMPTS`) and then reported, never dropped:
the eraser keeps the paths still to remove in the tombstone and tries again on the next erasure.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from milo_voice.intake import upload_files
from milo_voice.scoring.package import MEDIA_SUFFIXES
from milo_voice.store.recordings import Recordings, in_store
from milo_voice.store.tables.intake import BatchStatus
from milo_voice.workspace.personal_data import Holdings

log = logging.getLogger(__name__)

RESUME_FOLDER = "candidate_resumes"
"""Where the resume stage keeps a candidate's upload (`web/resume_candidate.py`'s `FOLDER`)."""
STAGE_FILES_FOLDER = "stage_files"
"""Where a form stage keeps a candidate's uploaded files (`web/stage_candidate.py`)."""
READ_BATCHES = frozenset({BatchStatus.REVIEW.value, BatchStatus.DONE.value, BatchStatus.FAILED.value})
ATTEMPTS = 3
RETRY_PAUSE_S = 0.2

SpeechPaths = Callable[[Sequence[str]], list[Path]]
"""Lines the interviewer spoke -> the TTS cache files that may hold them."""


@dataclass(frozen=True, slots=True)
class Dirs:
    recordings: Path
    uploads: Path


class FileStore(Protocol):
    def remove(self, path: Path) -> int:
        """Delete the file or folder at `path`; the bytes it held (0: it was not there). Raises
        OSError when it cannot."""
        ...


class LocalFiles:
    """Files on this machine's disk."""

    def remove(self, path: Path) -> int:
        if path.is_symlink() or path.is_file():
            size = path.lstat().st_size
            path.unlink()
            return size
        if path.is_dir():
            size = sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
            shutil.rmtree(path)
            return size
        return 0


class StoredFiles:
    """Files on this disk and, for paths under MILO_RECORDINGS_DIR, their objects in the store (a folder's
    key is a prefix). A store that refuses raises `StorageError`, an OSError: retried like a disk's."""

    def __init__(self, recordings: Recordings, local: FileStore | None = None) -> None:
        self.recordings, self.local = recordings, local or LocalFiles()

    def remove(self, path: Path) -> int:
        size = self.local.remove(path)
        key, objects = self.recordings.key(path), self.recordings.objects
        if key is None or objects is None:
            return size
        for info in objects.list_prefix(key + "/"):
            size += objects.delete(info.key)
        return size + objects.delete(key)


@dataclass
class Removal:
    files: int = 0
    """Files and folders removed."""
    bytes: int = 0
    left: list[str] = field(default_factory=list)
    """Paths that could not be removed after every attempt."""


def remove_all(store: FileStore, paths: Iterable[Path], *, pause_s: float = RETRY_PAUSE_S) -> Removal:
    """Remove each path, retrying a failure `ATTEMPTS` times; what still fails is reported in `left`."""
    out = Removal()
    for path in paths:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                freed = store.remove(path)
            except OSError as exc:
                if attempt == ATTEMPTS:
                    log.error("erasure.file_left", extra={"path": str(path), "error": str(exc)})
                    out.left.append(str(path))
                else:
                    time.sleep(pause_s)
                continue
            out.bytes += freed
            out.files += 1
            break
    return out


def _inside(path: Path, root: Path) -> bool:
    path, root = path.resolve(), root.resolve()
    return path != root and path.is_relative_to(root)


def _unsafe(path: Path, dirs: Dirs) -> bool:
    """A root itself, one of its parents, or the filesystem root: never removed whole."""
    resolved = path.resolve()
    roots = [dirs.recordings.resolve(), dirs.uploads.resolve(), Path.cwd().resolve(), Path.home()]
    return resolved == Path(resolved.anchor) or any(
        resolved == r or r.is_relative_to(resolved) for r in roots
    )


def _recordings(held: Holdings, dirs: Dirs) -> list[Path]:
    out: list[Path] = []
    for session in held.sessions:
        stored = in_store(session["recording_path"])  # its objects go with the folder (`StoredFiles`)
        final = Path(session["recording_path"]) if session["recording_path"] and not stored else None
        folder = Path(session["recording_dir"]) if session["recording_dir"] else None
        whole = (
            folder is not None
            and not _unsafe(folder, dirs)
            and (_inside(folder, dirs.recordings) or folder.name.startswith("session-"))
        )
        if folder is not None and whole:
            out.append(folder)
        elif folder is not None and folder.is_dir() and not _unsafe(folder, dirs):
            out += sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES)
        if final is not None and not (whole and folder is not None and _inside(final, folder)):
            out.append(final)
    return out


def _uploads(held: Holdings, dirs: Dirs) -> list[Path]:
    relative = [r["path"] for r in held.rows.get("candidate_resume", [])]
    relative += [r["file_path"] for r in held.rows.get("intake_item", []) if r["file_path"]]
    out = []
    for rel in relative:
        try:
            out.append(upload_files.resolve(dirs.uploads, rel))
        except ValueError:
            log.warning("erasure.upload_path_refused", extra={"candidate_id": held.candidate_id})
    cid = str(held.candidate_id)
    out += [dirs.uploads / RESUME_FOLDER / cid, dirs.uploads / STAGE_FILES_FOLDER / cid]
    out += [
        upload_files.incoming_dir(dirs.uploads, int(b["id"]))
        for b in held.batches
        if b["status"] in READ_BATCHES
    ]
    return out


def files_of(held: Holdings, dirs: Dirs, speech: Sequence[Path] = ()) -> list[Path]:
    """Every file and folder of the candidate that exists now, each once (a folder before its files)."""
    seen: dict[Path, Path] = {}
    uploaded = {
        Path(s["recording_dir"])
        for s in held.sessions
        if s["recording_dir"] and in_store(s["recording_path"])
    }
    for path in [*_recordings(held, dirs), *_uploads(held, dirs), *speech]:
        if path.exists() or path.is_symlink() or path in uploaded:
            seen.setdefault(path.resolve(), path)
    folders = [p for p in seen if p.is_dir()]
    return [
        path for key, path in seen.items() if not any(key != f and key.is_relative_to(f) for f in folders)
    ]
