"""What an upload is, by its first bytes and then its name (issue 17): a `.pdf` that is not a PDF and
an `.exe` are refused with a clear message; a DOCX is told from a plain ZIP."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest

from milo_voice.intake.upload_kind import UnsupportedUpload, is_docx, sniff_file, sniff_kind

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


def zip_bytes(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


DOCX = zip_bytes([("[Content_Types].xml", b"<Types/>" * 40), ("_rels/.rels", b"<Relationships/>"),
                  ("word/document.xml", b"<w:document/>" * 200), ("word/styles.xml", b"<w:styles/>" * 500)])
ZIP = zip_bytes([("anna.pdf", PDF), ("bob.pdf", PDF)])


@pytest.mark.parametrize(("name", "head", "kind"), [
    ("cv.pdf", PDF, "pdf"),
    ("CV.PDF", PDF, "pdf"),
    ("C:\\Users\\anna\\cv.pdf", PDF, "pdf"),
    ("cv.pdf", b"\r\n" * 200 + PDF, "pdf"),  # junk before the header, as readers allow
    ("cv", PDF, "pdf"),
    ("resumes.zip", ZIP, "zip"),
    ("resumes", ZIP, "zip"),
    ("cv.docx", DOCX, "docx"),
    ("cv", DOCX, "docx"),
    ("renamed.zip", DOCX, "docx"),  # the content wins
    ("list.csv", "name;email\nJosé Müller;jose@example.com\n".encode("latin-1"), "csv"),
    ("list.CSV", b"name,email\nAnna,anna@example.com\n", "csv"),
    ("list.txt", "\ufeffName\tE-Mail\nJosé\tj@x.de\n".encode("utf-16"), "csv"),
    ("list.tsv", b"name\temail\n", "csv"),
    ("list", b"name,email\nAnna,anna@example.com\n", "csv"),
])
def test_kinds(name: str, head: bytes, kind: str) -> None:
    assert sniff_kind(name, head[:2048]) == kind


@pytest.mark.parametrize(("name", "head", "message"), [
    ("cv.pdf", b"<html><body>not a pdf</body></html>", "not a PDF although named .pdf: it is plain text"),
    ("cv.pdf", ZIP, "not a PDF although named .pdf: it is a ZIP archive"),
    ("cv.pdf", b"MZ\x90\x00\x03" + bytes(100), "not a PDF although named .pdf: it is a Windows program"),
    ("cv.pdf", b"\r\n" * 600 + PDF, "not a PDF although named .pdf: it is plain text"),  # past 1024 bytes
    ("cv.docx", PDF, "not a DOCX although named .docx: it is a PDF"),
    ("list.csv", b"\x00\x01\x02\x03" * 100,
     "not a CSV although named .csv: it is of a kind we do not recognise"),
    ("list.csv", b"\x89PNG\r\n\x1a\n" + bytes(50), "not a CSV although named .csv: it is a PNG image"),
    ("files.zip", b"Rar!\x1a\x07\x00", "not a ZIP although named .zip: it is a RAR archive"),
    ("setup.exe", b"MZ\x90\x00", "unsupported file type .exe: upload PDF, DOCX, ZIP or CSV"),
    ("setup.exe", PDF, "unsupported file type .exe: upload PDF, DOCX, ZIP or CSV"),
    ("cv.doc", b"\xd0\xcf\x11\xe0", "unsupported file type .doc: upload PDF, DOCX, ZIP or CSV "
                                   "(old Word format: save it as DOCX or PDF)"),
    ("people.xlsx", ZIP,
     "unsupported file type .xlsx: upload PDF, DOCX, ZIP or CSV (a spreadsheet: save it as CSV)"),
    ("archive.tar.gz", b"\x1f\x8b", "unsupported file type .gz: upload PDF, DOCX, ZIP or CSV"),
    ("program", b"\x7fELF\x02\x01", "unsupported file type (no extension, and it is a program): "
                                    "upload PDF, DOCX, ZIP or CSV"),
    ("cv.pdf", b"", "the file is empty"),
])
def test_refusals(name: str, head: bytes, message: str) -> None:
    with pytest.raises(UnsupportedUpload) as raised:
        sniff_kind(name, head)
    assert str(raised.value) == message
    assert isinstance(raised.value, ValueError)


def test_a_zip_whose_first_member_is_a_stored_pdf_is_a_zip() -> None:
    """`%PDF-` sits within its first 1024 bytes; the ZIP signature at byte 0 wins."""
    stored = zip_bytes([("a.pdf", PDF)], zipfile.ZIP_STORED)
    assert b"%PDF-" in stored[:1024]
    assert sniff_kind("upload.zip", stored) == "zip"


def test_is_docx_and_sniff_file_read_the_table_of_contents(tmp_path: Path) -> None:
    noise = random.Random(17).randbytes(4000)  # incompressible: pushes the second name past the head
    late = zip_bytes([("[Content_Types].xml", noise), ("word/document.xml", b"<w:document/>")])
    assert b"word/document.xml" not in late[:2048]  # the head alone cannot tell
    assert is_docx(late) and is_docx(DOCX) and not is_docx(ZIP) and not is_docx(b"not a zip")
    (tmp_path / "late.zip").write_bytes(late)
    assert sniff_kind("late.zip", late[:2048]) == "zip"
    assert sniff_file(tmp_path / "late.zip", "late.zip") == "docx"
    (tmp_path / "fake.docx").write_bytes(ZIP)
    assert sniff_kind("fake.docx", ZIP[:2048]) == "docx"  # the head alone trusts the name
    with pytest.raises(UnsupportedUpload, match=r"not a DOCX although named \.docx: it is a ZIP archive"):
        sniff_file(tmp_path / "fake.docx", "fake.docx")
    (tmp_path / "cv.pdf").write_bytes(PDF)
    assert sniff_file(tmp_path / "cv.pdf", "cv.pdf") == "pdf"
