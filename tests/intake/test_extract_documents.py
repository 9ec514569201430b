"""Reading uploaded documents: hostile and broken files built here (encrypted, truncated, not a PDF,
DOCX variants) each give `UnreadableDocument` with a message a recruiter can act on, from
`read_document` and from `extract_resume` alike; a PDF without text is a problem, not an error; caps
on pages and XML size hold; pypdf's complaints about odd files stay out of the logs."""

from __future__ import annotations

import io
import logging
import random
import re
import zipfile
from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.errors import DependencyError

from milo_voice.intake import document_text
from milo_voice.intake.document_text import UnreadableDocument, read_document
from milo_voice.intake.extract import NO_TEXT, extract_resume

RESUMES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "resumes"
ENCRYPTED = "encrypted PDF: ask the candidate for an unprotected copy"
NOISE = random.Random(17).randbytes(4096)
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def text_pdf(pages: list[list[str]]) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


RESUME_PAGE = ["Jane Doe", "jane.doe@example.com | +44 20 7946 0958", "London, UK", "Experience",
               "Acme Ltd, 2019-2021"]


def encrypted(data: bytes, user: str, algorithm: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user, owner_password="owner-secret", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx(document_xml: str, extra: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", document_xml)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return out.getvalue()


def paragraphs(*texts: str) -> str:
    body = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{t}</w:t></w:r></w:p>" for t in texts)
    return f"<w:document {W}><w:body>{body}</w:body></w:document>"


# -- PDF -----------------------------------------------------------------------------------------


def test_a_text_pdf_gives_its_text_and_contacts() -> None:
    data = text_pdf([RESUME_PAGE])
    document = read_document(data, "Jane.PDF")
    assert (document.kind, document.pages) == ("pdf", 1)
    assert "jane.doe@example.com" in document.text
    result = extract_resume(data, "jane.pdf", default_region="GB")
    assert result.problem == "" and result.contacts is not None
    assert (result.contacts.name.value, result.contacts.email.value, result.contacts.phone.value) == (
        "Jane Doe", "jane.doe@example.com", "+442079460958")
    assert result.contacts.location.value == "London, UK"


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_a_password_protected_pdf_is_refused_with_its_remedy(algorithm: str) -> None:
    data = encrypted(text_pdf([RESUME_PAGE]), "candidate-secret", algorithm)
    with pytest.raises(UnreadableDocument, match=re.escape(ENCRYPTED)):
        read_document(data, "cv.pdf")
    with pytest.raises(UnreadableDocument, match=re.escape(ENCRYPTED)):
        extract_resume(data, "cv.pdf")


def test_a_pdf_locked_only_against_editing_is_read() -> None:
    data = encrypted(text_pdf([RESUME_PAGE]), "", "AES-128")
    assert "Jane Doe" in read_document(data, "cv.pdf").text


def test_aes_without_the_cryptography_package_is_reported_as_encrypted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_crypto(*args: object, **kwargs: object) -> None:
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(document_text, "PdfReader", no_crypto)
    with pytest.raises(UnreadableDocument, match=re.escape(ENCRYPTED)):
        read_document(text_pdf([RESUME_PAGE]), "cv.pdf")


@pytest.mark.parametrize("source", ["generated", "real"])
def test_a_truncated_pdf_is_refused(source: str) -> None:
    if source == "real":
        files = sorted(RESUMES.glob("*.pdf"))
        if not files:
            pytest.skip("no resume corpus")
        data = files[0].read_bytes()
    else:
        data = text_pdf([RESUME_PAGE] * 3)
    with pytest.raises(UnreadableDocument, match="truncated PDF"):
        read_document(data[: len(data) // 2], "cv.pdf")


@pytest.mark.parametrize("data", [NOISE, b"PK\x03\x04" + NOISE[:200], b"<html>CV</html>"],
                         ids=["random", "zip", "html"])
def test_a_file_named_pdf_that_is_not_a_pdf_is_refused(data: bytes) -> None:
    with pytest.raises(UnreadableDocument, match=re.escape("not a PDF although named .pdf")):
        read_document(data, "resume.pdf")


def test_a_pdf_header_over_garbage_is_refused_as_damaged() -> None:
    data = b"%PDF-1.7\n" + NOISE[:3000] + b"\n%%EOF\n"
    with pytest.raises(UnreadableDocument, match="damaged PDF"):
        read_document(data, "cv.pdf")


def test_an_empty_file_and_an_unknown_kind_are_refused() -> None:
    with pytest.raises(UnreadableDocument, match="empty"):
        read_document(b"", "cv.pdf")
    for name in ("cv.txt", "cv.doc", "cv"):
        with pytest.raises(UnreadableDocument, match="unsupported file type"):
            read_document(b"hello", name)
    with pytest.raises(UnreadableDocument, match=re.escape("unsupported file type (.odt)")):
        extract_resume(b"hello", "cv.odt")


def test_a_pdf_without_a_text_layer_is_not_an_error_but_a_scanned_problem() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    document = read_document(out.getvalue(), "scan.pdf")
    assert (document.text.strip(), document.pages) == ("", 1)
    result = extract_resume(out.getvalue(), "scan.pdf")
    assert (result.contacts, result.problem, result.pages) == (None, NO_TEXT, 1)


def test_pages_beyond_the_cap_are_counted_but_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(document_text, "MAX_PAGES", 3)
    data = text_pdf([[f"page marker {n}"] for n in range(1, 6)])
    document = read_document(data, "long.pdf")
    assert document.pages == 5
    assert "page marker 3" in document.text and "page marker 4" not in document.text
    assert document.text.count("\f") == 2


def test_text_beyond_the_character_cap_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(document_text, "MAX_CHARS", 50)
    document = read_document(text_pdf([RESUME_PAGE] * 4), "long.pdf")
    assert len(document.text) == 50


def test_pypdf_complaints_about_an_odd_file_stay_out_of_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    data = re.sub(rb"startxref\s+\d+", b"startxref\n123", text_pdf([RESUME_PAGE]))
    with caplog.at_level(logging.INFO):
        document = read_document(data, "odd.pdf")
    assert "Jane Doe" in document.text  # pypdf rebuilt the cross-reference table
    assert [r for r in caplog.records if r.name.startswith("pypdf") and r.levelno >= logging.INFO] == []


def test_layout_mode_is_available_for_comparison() -> None:
    plain = read_document(text_pdf([RESUME_PAGE]), "cv.pdf")
    layout = read_document(text_pdf([RESUME_PAGE]), "cv.pdf", mode="layout")
    assert "Jane Doe" in plain.text and "Jane Doe" in layout.text


# -- DOCX ----------------------------------------------------------------------------------------


def test_a_docx_gives_its_paragraphs_headers_and_contacts() -> None:
    header = f"<w:hdr {W}><w:p><w:r><w:t>Jane Doe</w:t></w:r></w:p></w:hdr>"
    body = (f"<w:document {W}><w:body><w:p><w:r><w:t>jane.doe@example.com</w:t></w:r><w:r><w:tab/></w:r>"
            "<w:r><w:t>+44 20 7946 0958</w:t></w:r></w:p>"
            "<w:p><w:r><w:t>Experience</w:t></w:r></w:p></w:body></w:document>")
    app = "<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\">" \
          "<Pages>2</Pages></Properties>"
    data = docx(body, {"word/header1.xml": header, "docProps/app.xml": app})
    document = read_document(data, "cv.docx")
    assert (document.kind, document.pages) == ("docx", 2)
    assert document.text.splitlines()[:2] == ["Jane Doe", "jane.doe@example.com\t+44 20 7946 0958"]
    contacts = extract_resume(data, "cv.docx").contacts
    assert contacts is not None
    assert (contacts.name.value, contacts.email.value, contacts.phone.value) == (
        "Jane Doe", "jane.doe@example.com", "+442079460958")


def test_a_docx_with_a_dtd_is_refused_before_any_entity_expands() -> None:
    bomb = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            + paragraphs("&b;"))
    with pytest.raises(UnreadableDocument, match="damaged Word file"):
        read_document(docx(bomb), "cv.docx")


def test_an_oversized_docx_text_part_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(document_text, "MAX_XML_BYTES", 1000)
    with pytest.raises(UnreadableDocument, match="too large"):
        read_document(docx(paragraphs(*["filler text"] * 200)), "cv.docx")


@pytest.mark.parametrize(("data", "message"), [
    (b"not a zip at all", "damaged Word file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "encrypted or old-format Word file"),
    (b"", "damaged Word file"),
])
def test_a_broken_docx_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableDocument, match=message):
        read_document(data, "cv.docx")


def test_a_zip_without_a_word_document_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(UnreadableDocument, match=re.escape("not a Word document although named .docx")):
        read_document(out.getvalue(), "cv.docx")


def test_unreadable_document_is_a_value_error() -> None:
    assert issubclass(UnreadableDocument, ValueError)
