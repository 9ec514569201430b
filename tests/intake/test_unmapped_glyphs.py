"""A glyph pypdf could not map (U+0000 in its text) is read as the one common letter the page never
prints; a page where that is not clear is kept as it was."""

from __future__ import annotations

import io

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.document_text import read_document
from milo_voice.intake.extract import extract_resume
from milo_voice.intake.unmapped_glyphs import restore_unmapped

PAGE = ("A Computer Eng\x00neer\x00ng student at Beykent Un\x00vers\x00ty. I have developed myself \x00n\n"
        "areas such as operat\x00ng systems, v\x00rtual programm\x00ng, Object Or\x00ented Programm\x00ng,\n"
        "database management, web programm\x00ng. I have bas\x00c to \x00ntermed\x00ate sk\x00lls.\n"
        "+90 505 555 27 53\nem\x00rhan.albayrak@example.com\nEMİRHAN\nALBAYRAK\nCOMPUTER ENGINEERING\n")


def test_the_lost_letter_is_the_common_one_the_page_never_prints() -> None:
    got = restore_unmapped(PAGE)
    assert "\x00" not in got
    assert "emirhan.albayrak@example.com" in got.splitlines()
    assert got.startswith("A Computer Engineering student at Beykent University. I have developed myself in")
    assert extract_contacts(got, default_region="TR").email.value == "emirhan.albayrak@example.com"


def test_a_page_that_prints_every_common_letter_or_is_short_is_kept() -> None:
    both = PAGE.replace("Beykent", "Beykent Sabiha")  # an "i" printed: the lost glyph is another letter
    assert restore_unmapped(both) == both
    short = "em\x00rhan@example.com\nEng\x00neer\x00ng \x00n \x00t \x00s\n"
    assert restore_unmapped(short) == short
    assert restore_unmapped("Jane Doe\njane@example.com\n") == "Jane Doe\njane@example.com\n"


TO_UNICODE_WITHOUT_I = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <00> <FF> endcodespacerange
2 beginbfrange <20> <68> <0020> <6A> <7E> <006A> endbfrange
1 beginbfchar <69> <0000> endbfchar
endcmap CMapName currentdict /CMap defineresource pop end end
"""
"""A font's ToUnicode map that sends "i" (0x69) to U+0000, as the Turkish CV's font did."""


def name(text: str) -> NameObject:
    return NameObject(text)


def pdf_without_i(lines: list[str]) -> bytes:
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    to_unicode = DecodedStreamObject()
    to_unicode.set_data(TO_UNICODE_WITHOUT_I)
    font = DictionaryObject({name("/Type"): name("/Font"), name("/Subtype"): name("/Type1"),
                             name("/BaseFont"): name("/Helvetica"),
                             name("/Encoding"): name("/WinAnsiEncoding"),
                             name("/ToUnicode"): writer._add_object(to_unicode)})
    fonts = DictionaryObject({name("/F1"): writer._add_object(font)})
    page[name("/Resources")] = DictionaryObject({name("/Font"): fonts})
    content = DecodedStreamObject()
    shown = " ".join(f"({line}) Tj T*" for line in lines)
    content.set_data(f"BT /F1 11 Tf 14 TL 50 750 Td {shown} ET".encode("latin-1"))
    page[name("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_whose_font_leaves_i_unmapped_reads_with_its_i_and_its_address() -> None:
    data = pdf_without_i([
        "Emirhan Albayrak", "emirhan.albayrak@example.com", "+90 505 555 27 53",
        "A computer engineering student at Beykent University, interested in operating systems,",
        "virtual programming, object oriented programming and web programming.",
        "Skills: teamwork, time management, analytical thinking, willing to learn."])
    text = read_document(data, "cv.pdf").text
    assert "\x00" not in text and text.startswith("Emirhan Albayrak\nemirhan.albayrak@example.com\n")
    fields = extract_resume(data, "cv.pdf", default_region="TR").contacts
    assert fields is not None
    assert fields.email.value == "emirhan.albayrak@example.com"
    assert fields.name.value == "Emirhan Albayrak"
