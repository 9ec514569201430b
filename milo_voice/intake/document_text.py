"""The text of an uploaded resume: PDF with pypdf, DOCX with the standard library.

`read_document(data, filename)` returns `DocumentText(text, pages, kind)`; pages are separated by a
form feed (``\\f``) so later steps can tell page 1 from the rest. A PDF without a text layer (an
image-only scan) is not an error: the text is empty and the caller reports it. Everything else that
cannot be read raises `UnreadableDocument` with a message a recruiter can act on: a password-protected
PDF (one locked only against editing, with an empty open password, is read), a truncated PDF (no
``%%EOF`` near its end: pypdf would otherwise rebuild and silently read the part that arrived), a
damaged one (any exception from the parser), a file named .pdf or .docx that is not one, an old or
encrypted Word file, any other kind.

Extraction mode. pypdf offers ``extraction_mode="plain"`` (content-stream order) and ``"layout"``
(a fixed-width rendering of the page, like ``pdftotext -layout``). Measured on the 15 developers'
resumes with the same contact rules (bench/ingest.py compares both): plain gets name 14/15, phone
12/13, location 9/10; layout gets name 12/15, phone 9/13, location 6/10 (email 12/13 with both), and
plain is ~20% faster. Plain keeps each column of a two-column page together (a sidebar's contact
box stays one run of lines: phone, email and address next to each other), while layout puts the
columns side by side on each line, so a sidebar's city shares a line with an employer, and a name
printed over two lines is cut apart by the other column. Layout is better only at word spacing in
some TeX fonts (plain may glue words together); those spaces are put back from a second reading with
pdfminer.six (word_spacing.py), and tabs written between every two words are read as spaces. For
comparison only (poppler is not a run-time dependency): the same rules on ``pdftotext -layout``
text get name 12/15, phone 11/13, location 7/10.

Limits, for hostile or huge files: at most `MAX_PAGES` pages and `MAX_CHARS` characters of text are
read (the contact block is at the top; the rest is for the resume-screening stage), a DOCX part is
read only up to `MAX_XML_BYTES`, and XML with a DTD is refused (no entity expansion).

pypdf reports odd files (a broken xref table, a font without widths) through its ``pypdf.*`` loggers
at WARNING; the ``pypdf`` logger's level is raised to ERROR on import, unless the operator set one,
so a bulk upload of old or broken PDFs does not flood the server's logs. The reason a file is
refused is logged here at DEBUG. (pypdf uses Python warnings only for deprecated arguments.)
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from dataclasses import dataclass
from typing import Literal
from xml.etree import ElementTree

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, WrongPasswordError

from milo_voice.intake.unmapped_glyphs import restore_unmapped
from milo_voice.intake.word_spacing import respace

MAX_PAGES = 30
MAX_CHARS = 200_000
MAX_XML_BYTES = 8 * 1024 * 1024
PAGE_BREAK = "\f"

ExtractionMode = Literal["plain", "layout"]
log = logging.getLogger(__name__)


class UnreadableDocument(ValueError):
    """The file cannot be read as a resume; the message says why, in words for a recruiter."""


@dataclass(frozen=True)
class DocumentText:
    text: str
    pages: int
    kind: str


def _quiet_pypdf() -> None:
    """pypdf logs odd files at WARNING through its module loggers (``pypdf._reader``, ...). Raise the
    threshold of their parent to ERROR, unless the operator set a level for ``pypdf`` already."""
    pypdf_log = logging.getLogger("pypdf")
    if pypdf_log.level == logging.NOTSET:
        pypdf_log.setLevel(logging.ERROR)


_quiet_pypdf()


def read_document(data: bytes, filename: str, *, mode: ExtractionMode = "plain") -> DocumentText:
    """The text of a PDF or DOCX file (kind chosen by the file name's extension)."""
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix == "pdf":
        return pdf_text(data, mode=mode)
    if suffix == "docx":
        return docx_text(data)
    shown = f".{suffix}" if suffix else "no extension"
    raise UnreadableDocument(f"unsupported file type ({shown}): upload a PDF or a DOCX")


# -- PDF ---------------------------------------------------------------------------------------

_EOF_MARK = re.compile(rb"%%EOF")


def pdf_text(data: bytes, *, mode: ExtractionMode = "plain") -> DocumentText:
    _check_pdf_bytes(data)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        _unlock(reader)
        return _pages_text(reader, mode, data)
    except UnreadableDocument:
        raise
    except (DependencyError, FileNotDecryptedError, WrongPasswordError) as exc:
        log.debug("encrypted PDF: %s", exc)
        raise UnreadableDocument("encrypted PDF: ask the candidate for an unprotected copy") from exc
    except Exception as exc:  # PyPdfError, and anything else a hostile file provokes in the parser
        log.debug("corrupt PDF: %r", exc)
        raise UnreadableDocument("damaged PDF: it cannot be read; ask for the file again") from exc


def _check_pdf_bytes(data: bytes) -> None:
    if not data:
        raise UnreadableDocument("empty file")
    if b"%PDF-" not in data[:1024]:
        raise UnreadableDocument("not a PDF although named .pdf")
    if not _EOF_MARK.search(data[-2048:]):
        # An upload cut short: pypdf could rebuild part of it, but the recruiter should know.
        raise UnreadableDocument("truncated PDF: the file is incomplete; ask for the file again")


def _unlock(reader: PdfReader) -> None:
    """Open a PDF that is encrypted with an empty user password (permissions only); refuse others."""
    if not reader.is_encrypted:
        return
    if not reader.decrypt(""):
        raise UnreadableDocument("encrypted PDF: ask the candidate for an unprotected copy")


def _pages_text(reader: PdfReader, mode: ExtractionMode, data: bytes) -> DocumentText:
    total = len(reader.pages)
    texts: list[str] = []
    size = 0
    for page in reader.pages[:MAX_PAGES]:
        text = page.extract_text(extraction_mode=mode) or ""
        texts.append(text)
        size += len(text)
        if size >= MAX_CHARS:
            break
    texts = [restore_unmapped(t) for t in texts]  # a glyph the font left unmapped (unmapped_glyphs.py)
    if any(t.strip() for t in texts):
        texts = respace(data, texts)  # words pypdf glued together (word_spacing.py)
    return DocumentText(tabs_as_spaces(PAGE_BREAK.join(texts))[:MAX_CHARS], total, "pdf")


TABBED_LINES = 5
"""At least this many lines with tabs before the tabs can be read as a document's word spaces."""


def tabs_as_spaces(text: str) -> str:
    """Some HTML-to-PDF converters (wkhtmltopdf) write a tab between every two words ("Gastón\tA.\t
    Avila,\tPhD"); the contact rules read a tab as a column gap, so such a document would have no line
    of two words. When nearly every tab-separated piece of the document (9 in 10) is one word, the tabs
    are word spaces; a document whose tabs part columns keeps them."""
    lines = [line for line in text.splitlines() if "\t" in line]
    pieces = [piece for line in lines for piece in line.split("\t") if piece.strip()]
    if len(lines) < TABBED_LINES or sum(len(p.split()) == 1 for p in pieces) < 0.9 * len(pieces):
        return text
    return text.replace("\t", " ")


# -- DOCX --------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def docx_text(data: bytes) -> DocumentText:
    if data[:4] == _OLE_MAGIC:
        raise UnreadableDocument("encrypted or old-format Word file: ask for a PDF or an unprotected DOCX")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" not in names:
                raise UnreadableDocument("not a Word document although named .docx")
            headers = sorted(n for n in names if re.fullmatch(r"word/header\d*\.xml", n))
            footers = sorted(n for n in names if re.fullmatch(r"word/footer\d*\.xml", n))
            parts = [_paragraphs(_read_xml(archive, n)) for n in [*headers, "word/document.xml", *footers]]
            pages = _docx_pages(archive, names)
    except UnreadableDocument:
        raise
    except Exception as exc:  # BadZipFile, ParseError, and whatever a hostile archive provokes
        log.debug("corrupt DOCX: %r", exc)
        raise UnreadableDocument("damaged Word file: it cannot be read; ask for the file again") from exc
    text = "\n".join(p for p in parts if p)
    return DocumentText(text[:MAX_CHARS], pages, "docx")


def _read_xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    info = archive.getinfo(name)
    if info.file_size > MAX_XML_BYTES:
        raise UnreadableDocument("Word file too large: its text part exceeds the size limit")
    with archive.open(info) as part:
        raw = part.read(MAX_XML_BYTES + 1)  # bounded even if the declared size lies
    if len(raw) > MAX_XML_BYTES:
        raise UnreadableDocument("Word file too large: its text part exceeds the size limit")
    if _DTD.search(raw):
        raise UnreadableDocument("damaged Word file: unexpected XML declarations")
    return ElementTree.fromstring(raw)


def _paragraphs(root: ElementTree.Element) -> str:
    """One line per paragraph, in document order. A text box's paragraphs (``w:txbxContent`` inside a
    paragraph's drawing) are lines of their own after the paragraph that anchors it, each read once:
    the VML copy Word stores for old readers (``mc:AlternateContent`` -> ``mc:Fallback``) is skipped."""
    lines: list[str] = []
    body = root.find(f"{_W}body")
    _walk(root if body is None else body, lines, None)
    return "\n".join(lines).strip("\n")


def _walk(node: ElementTree.Element, lines: list[str], pieces: list[str] | None) -> None:
    """Collect text into `pieces` (the current paragraph), starting a new line at each ``w:p``."""
    for child in node:
        tag = child.tag
        if tag == _MC_FALLBACK:
            continue
        if tag == f"{_W}p":
            own: list[str] = []
            at = len(lines)
            _walk(child, lines, own)
            lines.insert(at, "".join(own))  # the anchoring paragraph, before its text boxes' lines
        elif tag == f"{_W}t":
            if child.text and pieces is not None:
                pieces.append(child.text)
        elif tag in (f"{_W}tab", f"{_W}br", f"{_W}cr"):
            if pieces is not None:
                pieces.append("\t" if tag == f"{_W}tab" else "\n")
        else:
            _walk(child, lines, pieces)


def _docx_pages(archive: zipfile.ZipFile, names: set[str]) -> int:
    """The page count Word saved in docProps/app.xml, else 1."""
    if "docProps/app.xml" not in names:
        return 1
    try:
        root = _read_xml(archive, "docProps/app.xml")
    except UnreadableDocument:
        return 1
    for node in root.iter():
        if node.tag.endswith("}Pages") and node.text and node.text.strip().isdigit():
            return max(1, int(node.text.strip()))
    return 1
