"""Where intake keeps files under MILO_UPLOADS_DIR, and the names it gives them.

    batches/<batch id>/incoming/<n><ext>   what the recruiter uploaded, as received
    batches/<batch id>/docs/<n><ext>       each readable document (a PDF or DOCX, also from a ZIP)

Names on disk are ours (a counter and a known extension), never the uploaded names, so no upload
can choose a path. Paths stored in the database are relative to MILO_UPLOADS_DIR, so the folder can
move. The uploaded names are kept for display only (`display_name`).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath

KNOWN_SUFFIXES = (".pdf", ".docx", ".zip", ".csv", ".txt")


def batch_dir(root: Path, batch_id: int) -> Path:
    return root / "batches" / str(batch_id)


def incoming_dir(root: Path, batch_id: int) -> Path:
    return batch_dir(root, batch_id) / "incoming"


def suffix_of(name: str) -> str:
    """The lower-case extension of an uploaded name if it is one we read, else "" (e.g. ".exe")."""
    suffix = PurePosixPath(display_name(name)).suffix.lower()
    return suffix if suffix in KNOWN_SUFFIXES else ""


def incoming_path(root: Path, batch_id: int, index: int, name: str) -> Path:
    return incoming_dir(root, batch_id) / f"{index:04d}{suffix_of(name) or '.bin'}"


def save_doc(root: Path, batch_id: int, index: int, suffix: str, data: bytes) -> str:
    """Write one document of a batch; returns its path relative to `root`."""
    folder = batch_dir(root, batch_id) / "docs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{index:05d}{suffix if suffix in KNOWN_SUFFIXES else '.bin'}"
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path.relative_to(root).as_posix()


def resolve(root: Path, relative: str) -> Path:
    """A stored relative path back under `root`; refuses anything that would leave it."""
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"{relative!r} is outside the uploads folder")
    return path


def display_name(name: str) -> str:
    """The base name of an uploaded file (no folders, either slash), printable, at most 200 characters."""
    base = PureWindowsPath(PurePosixPath(name.replace("\\", "/")).name).name
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    return base.strip()[:200] or "unnamed"


def download_name(name: str) -> str:
    """An ASCII fallback for Content-Disposition's filename= (the UTF-8 one goes in filename*)."""
    ascii_name = unicodedata.normalize("NFKD", display_name(name)).encode("ascii", "ignore").decode()
    return re.sub(r'[^A-Za-z0-9._ -]', "_", ascii_name).strip() or "resume"
