"""What an uploaded file is: "pdf", "docx", "zip" or "csv", decided by its first bytes, then its name.

The content wins over the name: a ZIP starts with `PK\\x03\\x04` (or `PK\\x05\\x06` when empty), a PDF
has `%PDF-` in its first 1024 bytes (readers allow some junk before it), a DOCX is a ZIP whose
`word/document.xml` is named in its first bytes (`sniff_kind`) or in its table of contents
(`is_docx`, `sniff_file`), and a candidate list is text. A ZIP signature is looked at before `%PDF-`
because a ZIP whose first member is a stored PDF has `%PDF-` within its first 1024 bytes.

The name then has to agree: a file named `.pdf` that is not a PDF is refused ("not a PDF although
named .pdf"), and a name with an extension we do not read is refused whatever it holds ("unsupported
file type .exe: ..."). A name without an extension is taken for what its content is.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path, PurePosixPath

from milo_voice.intake.zip_reader import UnreadableArchive, directory_size

KINDS = {".pdf": "pdf", ".docx": "docx", ".zip": "zip", ".csv": "csv", ".txt": "csv", ".tsv": "csv"}
LABELS = {".pdf": "PDF", ".docx": "DOCX", ".zip": "ZIP", ".csv": "CSV", ".txt": "text file", ".tsv": "TSV"}
HINTS = {
    ".doc": "old Word format: save it as DOCX or PDF",
    ".xlsx": "a spreadsheet: save it as CSV",
    ".xls": "a spreadsheet: save it as CSV",
    ".odt": "save it as DOCX or PDF",
    ".rtf": "save it as DOCX or PDF",
    ".pages": "export it as PDF",
    ".jpg": "an image: upload the resume as PDF",
    ".jpeg": "an image: upload the resume as PDF",
    ".png": "an image: upload the resume as PDF",
}
SIGNATURES = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (.doc or .xls)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
)
TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06")
WANTED = "upload PDF, DOCX, ZIP or CSV"
HEAD_BYTES = 4096
DOCX_MAX_ENTRIES = 5_000


class UnsupportedUpload(ValueError):
    """The file is not one we read; the message says why, for the recruiter."""


def sniff_kind(filename: str, head: bytes) -> str:
    """"pdf", "docx", "zip" or "csv" for a file with this name whose first bytes are `head`."""
    suffix = extension(filename)
    if suffix and suffix not in KINDS:
        hint = f" ({HINTS[suffix]})" if suffix in HINTS else ""
        raise UnsupportedUpload(f"unsupported file type {suffix}: {WANTED}{hint}")
    if not head:
        raise UnsupportedUpload("the file is empty")
    content = content_kind(head)
    if content is not None and _agrees(content, suffix):
        return "docx" if content == "zip" and suffix == ".docx" else content
    if suffix:
        raise UnsupportedUpload(f"not a {LABELS[suffix]} although named {suffix}: it is {describe(head)}")
    raise UnsupportedUpload(f"unsupported file type (no extension, and it is {describe(head)}): {WANTED}")


def sniff_file(path: Path, filename: str) -> str:
    """`sniff_kind` from the file's head, with a DOCX checked against the archive's table of contents."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    kind = sniff_kind(filename, head)
    if kind not in ("zip", "docx"):
        return kind
    docx = is_docx(path)
    if kind == "docx" and not docx:
        raise UnsupportedUpload(f"not a DOCX although named {extension(filename) or 'as one'}: it is a ZIP "
                                "archive without a Word document in it")
    return "docx" if docx else kind


def is_docx(source: Path | bytes) -> bool:
    """True when `source` (a path, or the whole file's bytes) is a ZIP holding `word/document.xml`."""
    try:
        with (source.open("rb") if isinstance(source, Path) else io.BytesIO(source)) as handle:
            entries, _ = directory_size(handle)
            if entries > DOCX_MAX_ENTRIES:
                return False
            handle.seek(0)
            with zipfile.ZipFile(handle) as archive:
                return "word/document.xml" in archive.namelist()
    except (UnreadableArchive, zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error):
        return False


def content_kind(head: bytes) -> str | None:
    """"zip", "docx", "pdf" or "csv" from the first bytes alone; None when they are none of these."""
    if head.startswith(ZIP_STARTS):
        return "docx" if b"word/document.xml" in head else "zip"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if looks_like_text(head):
        return "csv"
    return None


def looks_like_text(head: bytes) -> bool:
    """Text in UTF-8, UTF-16 with a BOM or a single-byte code page: no NUL, almost no control bytes."""
    if head.startswith(TEXT_BOMS):
        return True
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        cut = exc.reason == "unexpected end of data" and exc.start >= len(head) - 3
        text = head[: exc.start].decode("utf-8") if cut else head.decode("latin-1")
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n\f")
    return controls * 100 <= len(text)


def describe(head: bytes) -> str:
    """What the content looks like, for a message: "a ZIP archive", "a Windows program", ..."""
    kind = content_kind(head)
    if kind is not None:
        return {"zip": "a ZIP archive", "docx": "a DOCX document", "pdf": "a PDF", "csv": "plain text"}[kind]
    for magic, what in SIGNATURES:
        if head.startswith(magic):
            return what
    return "of a kind we do not recognise"


def extension(filename: str) -> str:
    """The lower-case extension of the base name ("" when there is none), either slash a separator."""
    return PurePosixPath(filename.replace("\\", "/")).suffix.lower()


def _agrees(content: str, suffix: str) -> bool:
    if not suffix:
        return True
    expected = KINDS[suffix]
    return content == expected or (content == "zip" and expected == "docx") or (
        content == "docx" and expected == "zip")
