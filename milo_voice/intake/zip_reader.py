"""Reads an uploaded ZIP of resumes, member by member, without trusting anything the archive says.

`read_zip` yields one result per file in the archive: a `ZipMember` with its bytes, or a
`ZipProblem` saying why that file is not read, so the good files of an upload still go through.
`UnreadableArchive` is raised (before anything is yielded) only when the archive as a whole cannot
be read: not a ZIP, truncated, a table of contents too large, too many files, or nothing in it.

Nothing is ever written to disk here, so a hostile path cannot land anywhere; it is still refused,
because an archive that carries one was made to attack someone.

- Sizes are counted, not believed: each member is decompressed in 64 kB chunks and the bytes that
  come out are counted against the member limit, the compression-ratio limit and the archive's
  total; reading stops at the first limit crossed. Every decompressed byte counts towards the total,
  also those of a member refused part way. Once the total is reached, every later file is reported.
- Only Stored and Deflate members are read: the standard library decompresses bzip2 and LZMA members
  without an output bound per call, so a few kB of them can expand to gigabytes before our counter
  sees a byte. Those members are reported ("zip it again with standard compression").
- Before the table of contents is parsed, its entry count and size are read from the end record,
  so an archive listing millions of entries is refused before `zipfile` builds an object for each
  (`zipfile` parses by size, so the size limit also bounds an archive whose count lies).
- Members whose data overlaps another member's (the overlapping-file zip bomb) are refused.
- Folders, `__MACOSX/` (macOS resource forks), hidden files and folders (a name part starting with
  ".": `.DS_Store`, `._cv.pdf`), `Thumbs.db` and `desktop.ini` are skipped silently: none of them
  is ever a resume, and a Mac-made ZIP would otherwise report one "skipped" line per real file.
  Every other refused file (wrong type, nested ZIP, encrypted, unsafe path, duplicate) is reported.
- Names: UTF-8 when the archive says so (flag bit 11), else the Info-ZIP Unicode Path extra field
  when present and matching, else UTF-8 if the raw bytes are valid UTF-8 (what Linux and many
  Windows tools write without setting the flag), else CP437 (the ZIP default). Names are NFC
  normalised (macOS writes NFD). Backslashes count as folder separators (old Windows tools).
"""

from __future__ import annotations

import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MB = 1024 * 1024
CHUNK = 64 * 1024
READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA", 9: "Deflate64", 93: "Zstandard",
                95: "XZ", 98: "PPMd", 99: "AES encryption"}
SILENT_NAMES = ("thumbs.db", "desktop.ini")
ARCHIVE_SUFFIXES = (".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz")
DRIVE = re.compile(r"[A-Za-z]:")
SEPARATORS = re.compile(r"[\\/]")
FLAG_ENCRYPTED = 0x1
FLAG_UTF8 = 0x800
UNICODE_PATH_EXTRA = 0x7075
LOCAL_HEADER_SIZE = 30
END_RECORD = struct.Struct("<4s4H2LH")
ZIP64_LOCATOR = struct.Struct("<4sLQL")
ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")
TRUNCATED = ("the ZIP is truncated or damaged (its table of contents, at the end of the file, is missing): "
             "upload it again")


@dataclass(frozen=True, slots=True)
class ZipLimits:
    max_entries: int = 10_000
    """Entries listed in the table of contents (folders and Mac resource forks included)."""
    max_files: int = 2_000
    """Files that would each become a review item."""
    max_member_bytes: int = 20 * MB
    max_total_bytes: int = 500 * MB
    max_ratio: int = 100
    """Uncompressed bytes per compressed byte, per member."""
    ratio_floor_bytes: int = 1 * MB
    """The ratio is judged only once a member has expanded past this (tiny blank files compress well)."""
    max_directory_bytes: int = 4 * MB
    """The table of contents: about 400 bytes an entry at most in real archives."""
    extensions: tuple[str, ...] = (".pdf", ".docx", ".csv")


@dataclass(frozen=True, slots=True)
class ZipMember:
    name: str
    """The path inside the archive, "/"-separated, NFC; only ever shown, never used as a path."""
    data: bytes

    @property
    def base_name(self) -> str:
        return self.name.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class ZipProblem:
    name: str
    """The name as it appears in the archive (printable), so the recruiter can find the file."""
    message: str

    @property
    def base_name(self) -> str:
        return SEPARATORS.split(self.name)[-1]


class UnreadableArchive(ValueError):
    """The archive as a whole cannot be read; the message says why, for the recruiter."""


@dataclass(frozen=True, slots=True)
class _Entry:
    info: zipfile.ZipInfo
    name: str
    refusal: str


@dataclass(slots=True)
class _Budget:
    archive_size: int
    spent: int = 0
    exhausted: bool = False


def read_zip(path: Path, limits: ZipLimits | None = None) -> Iterator[ZipMember | ZipProblem]:
    """One `ZipMember` or `ZipProblem` per file of the archive, in archive order."""
    limits = limits or ZipLimits()
    with path.open("rb") as handle:
        archive = _open(handle, limits)
        with archive:
            plan = _plan(archive, limits)
            budget = _Budget(archive_size=path.stat().st_size)
            for entry in plan:
                if entry.refusal:
                    yield ZipProblem(entry.name, entry.refusal)
                elif budget.exhausted:
                    yield ZipProblem(entry.name, _total_message(limits))
                else:
                    yield _read_member(archive, entry, limits, budget)


def zip_summary(path: Path, limits: ZipLimits | None = None) -> tuple[int, int]:
    """(results `read_zip` will yield, their declared uncompressed bytes), for "n of N" progress.

    The declared total is for display only; reading never trusts it."""
    limits = limits or ZipLimits()
    with path.open("rb") as handle, _open(handle, limits) as archive:
        plan = _plan(archive, limits)
    return len(plan), sum(entry.info.file_size for entry in plan if not entry.refusal)


def directory_size(handle: BinaryIO) -> tuple[int, int]:
    """(entries, bytes) of an archive's table of contents, read from its end record alone."""
    handle.seek(0, 2)
    size = handle.tell()
    start = max(0, size - END_RECORD.size - 0xFFFF)
    handle.seek(start)
    tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + END_RECORD.size > len(tail):
        handle.seek(0)
        starts_like_zip = handle.read(4) == b"PK\x03\x04"
        raise UnreadableArchive(TRUNCATED if starts_like_zip else "not a ZIP archive")
    _, _, _, _, entries, cd_size, cd_offset, _ = END_RECORD.unpack_from(tail, at)
    if entries == 0xFFFF or 0xFFFFFFFF in (cd_size, cd_offset):
        entries, cd_size = _zip64_directory(handle, start + at, entries, cd_size)
    return entries, cd_size


def _zip64_directory(handle: BinaryIO, end_at: int, entries: int, cd_size: int) -> tuple[int, int]:
    locator_at = end_at - ZIP64_LOCATOR.size
    record_at = locator_at - ZIP64_END_RECORD.size
    if record_at < 0:
        return entries, cd_size
    handle.seek(record_at)
    raw = handle.read(ZIP64_END_RECORD.size + ZIP64_LOCATOR.size)
    if raw[ZIP64_END_RECORD.size:][:4] != b"PK\x06\x07" or raw[:4] != b"PK\x06\x06":
        return entries, cd_size
    fields = ZIP64_END_RECORD.unpack_from(raw)
    return fields[7], fields[8]


def _open(handle: BinaryIO, limits: ZipLimits) -> zipfile.ZipFile:
    entries, cd_size = directory_size(handle)
    if entries > limits.max_entries:
        raise UnreadableArchive(f"the ZIP lists {entries} entries; at most {limits.max_entries} are read "
                                "from one ZIP: split it into smaller ZIPs")
    if cd_size > limits.max_directory_bytes:
        raise UnreadableArchive(f"the ZIP's table of contents is {cd_size / MB:.0f} MB, over the "
                                f"{limits.max_directory_bytes // MB} MB limit: split it into smaller ZIPs")
    handle.seek(0)
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, struct.error) as exc:
        raise UnreadableArchive(f"the ZIP is damaged and cannot be read ({_reason(exc)}): "
                                "upload it again") from exc
    if len(archive.infolist()) > limits.max_entries:  # the end record's count was a lie
        archive.close()
        raise UnreadableArchive(f"the ZIP lists more than {limits.max_entries} entries: split it into "
                                "smaller ZIPs")
    return archive


def _plan(archive: zipfile.ZipFile, limits: ZipLimits) -> list[_Entry]:
    """Every entry that yields a result, with the reason it is refused ("" when it is to be read)."""
    infos = archive.infolist()
    overlapping = _overlapping(infos)
    seen: set[str] = set()
    plan = []
    for info in infos:
        name = decoded_name(info)
        shown = printable(name)
        unsafe = unsafe_reason(name)
        if unsafe:
            plan.append(_Entry(info, shown, f"unsafe path '{shown}' ({unsafe}): not read"))
            continue
        parts = [part for part in SEPARATORS.split(name) if part not in ("", ".")]
        if _is_silent(info, name, parts):
            continue
        key = "/".join(parts)
        refusal = _refusal(info, parts[-1], limits, key in seen, id(info) in overlapping)
        seen.add(key)
        plan.append(_Entry(info, printable(key), refusal))
    if len(plan) > limits.max_files:
        raise UnreadableArchive(f"the ZIP holds {len(plan)} files; at most {limits.max_files} are read "
                                "from one ZIP: split it into smaller ZIPs")
    if not plan:
        raise UnreadableArchive("the ZIP holds no files to read (only folders or system files)")
    return plan


def _is_silent(info: zipfile.ZipInfo, name: str, parts: list[str]) -> bool:
    if info.is_dir() or name.endswith("\\") or not parts:
        return True
    return (any(part == "__MACOSX" or part.startswith(".") for part in parts)
            or parts[-1].lower() in SILENT_NAMES)


def _refusal(info: zipfile.ZipInfo, base: str, limits: ZipLimits, duplicate: bool, overlaps: bool) -> str:
    suffix = "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""
    wanted = ", ".join(ext.lstrip(".").upper() for ext in limits.extensions)
    if duplicate:
        return "duplicate name in the ZIP: only the first file of that name is read"
    if suffix == ".zip":
        return "nested ZIP not opened: upload it on its own"
    if suffix in ARCHIVE_SUFFIXES:
        return f"archive inside the ZIP not opened ({suffix}): upload its files in a ZIP of their own"
    if suffix not in limits.extensions:
        return f"skipped: {suffix or 'a file without extension'} is not read here (only {wanted})"
    if info.flag_bits & FLAG_ENCRYPTED:
        return "encrypted in the ZIP (password protected): not read; zip it again without a password"
    if info.compress_type not in READABLE_METHODS:
        method = METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
        return f"compressed with {method}, which is not read: zip it again with standard compression"
    if overlaps:
        return "its data overlaps another file's in the ZIP (a zip bomb trick): not read"
    return ""


def _overlapping(infos: list[zipfile.ZipInfo]) -> set[int]:
    """ids of members whose data starts inside another member's (each member's end is a lower bound:
    its local header is at least 30 bytes before its data)."""
    spans = sorted((info.header_offset, info.header_offset + LOCAL_HEADER_SIZE + info.compress_size, id(info))
                   for info in infos if not info.is_dir())
    found: set[int] = set()
    furthest, owner = -1, 0
    for start, end, ident in spans:
        if start < furthest:
            found.update((ident, owner))
        if end > furthest:
            furthest, owner = end, ident
    return found


def _read_member(archive: zipfile.ZipFile, entry: _Entry, limits: ZipLimits,
                 budget: _Budget) -> ZipMember | ZipProblem:
    """Decompress one member in chunks, counting what comes out; stop at the first limit crossed."""
    data = bytearray()
    compressed = max(1, min(entry.info.compress_size, budget.archive_size))
    try:
        with archive.open(entry.info) as member:
            while chunk := member.read(CHUNK):
                budget.spent += len(chunk)
                data += chunk
                if budget.spent > limits.max_total_bytes:
                    budget.exhausted = True
                    return ZipProblem(entry.name, _total_message(limits))
                if len(data) > limits.max_member_bytes:
                    return ZipProblem(entry.name, f"larger than {limits.max_member_bytes / MB:g} MB once "
                                      "unpacked: not read")
                if len(data) > limits.ratio_floor_bytes and len(data) > limits.max_ratio * compressed:
                    return ZipProblem(entry.name, f"expands more than {limits.max_ratio} times when unpacked "
                                      "(a zip bomb?): not read")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError, struct.error) as exc:
        return ZipProblem(entry.name, f"damaged in the ZIP ({_reason(exc)}): not read")
    return ZipMember(entry.name, bytes(data))


def _total_message(limits: ZipLimits) -> str:
    return (f"not read: the ZIP unpacks to more than {limits.max_total_bytes / MB:g} MB in all "
            "(a zip bomb?); split it into smaller ZIPs")


def decoded_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it (see the module notes), NFC."""
    name = info.orig_filename
    if not info.flag_bits & FLAG_UTF8:
        raw = name.encode("cp437")
        name = _unicode_path(info.extra, raw) or _utf8_or_none(raw) or name
    return unicodedata.normalize("NFC", name)


def _unicode_path(extra: bytes, raw: bytes) -> str | None:
    """The Info-ZIP Unicode Path extra field, if it is there and was written for this very name."""
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4:at + 4 + size]
        if kind == UNICODE_PATH_EXTRA and len(body) >= 5 and body[0] == 1:
            if struct.unpack_from("<L", body, 1)[0] == zlib.crc32(raw):
                return _utf8_or_none(body[5:])
            return None
        at += 4 + size
    return None


def _utf8_or_none(raw: bytes) -> str | None:
    if raw.isascii():
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def unsafe_reason(name: str) -> str:
    """Why a member's path would be dangerous to anyone who unpacked it, or "" if it is not."""
    if not name.strip():
        return "empty name"
    if "\x00" in name:
        return "NUL byte in the name"
    if name.startswith(("/", "\\")):
        return "absolute path"
    if DRIVE.match(name):
        return "Windows drive path"
    if ".." in SEPARATORS.split(name):
        return "goes up with '..'"
    return ""


def printable(name: str, limit: int = 200) -> str:
    """A name fit for a message: control characters as "?", at most `limit` characters."""
    text = "".join("?" if unicodedata.category(ch)[0] == "C" else ch for ch in name)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return printable(text, 120)
