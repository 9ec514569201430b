"""Word spaces pypdf loses (TeX fonts without a space glyph), put back from pdfminer.six's reading."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from milo_voice.intake.document_text import read_document
from milo_voice.intake.word_spacing import glued, pages_to_check, rejoin_lines, respace, respace_page, suspect

RESUMES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "resumes"


def test_a_glued_word_is_split_where_the_second_reading_has_spaces() -> None:
    pypdf = "LORENZOBREDA\nFull-StackDeveloper,softwaredesigner\nRoma"
    other = "LORENZO BREDA\n\nFull-Stack Developer, software designer\n\nRoma"
    assert respace_page(pypdf, other) == "LORENZO BREDA\nFull-Stack Developer, software designer\nRoma"


def test_a_word_the_second_reading_also_prints_whole_is_kept() -> None:
    assert respace_page("JavaScript PostgreSQL", "JavaScript and Post greSQL\nPostgreSQL") == (
        "JavaScript PostgreSQL"
    )
    assert respace_page("Kubernetes", "nothing alike here") == "Kubernetes"
    assert respace_page("short", "sh ort") == "short"  # under six characters: left alone


def test_a_glued_page_is_told_from_ordinary_text() -> None:
    assert glued("Seasonedsre/devopsleadercurrentlyonacareersabbatical seeking highimpactopportunities")
    assert not glued("Seasoned SRE/DevOps leader currently on a career sabbatical, seeking opportunities")
    assert pages_to_check(["page one", "ordinary words here", "Averyveryverylongwordwithoutspaces"]) == [2]


def test_page_one_is_read_again_only_when_it_looks_suspect() -> None:
    assert suspect("LORENZOBREDA\nDecodificadeimisteridellaPA\nSono uno sviluppatore web")  # 20+ letters
    assert suspect(" \nÇA\nĞ\nATAY\nTÜRKAN")  # a word cut over short lines
    assert not suspect("Jane Porter\nSoftware engineer, localisation\njane@example.com")
    assert pages_to_check(["ÇA\nĞ\nATAY", "ordinary words here"]) == [0]


def test_a_file_pdfminer_cannot_read_keeps_pypdfs_text() -> None:
    assert respace(b"%PDF-1.4 not really a pdf %%EOF", ["Some text"]) == ["Some text"]


def test_a_tex_resume_that_pypdf_glues_reads_with_its_spaces() -> None:
    path = RESUMES / "cv_dev_01.pdf"
    if not path.is_file():
        pytest.skip(f"no resume corpus at {RESUMES}")
    raw = PdfReader(path).pages[0].extract_text()
    assert glued(raw)  # pypdf alone: words run together on this page
    text = read_document(path.read_bytes(), path.name).text.split("\f")[0]
    assert not glued(text)
    assert "Seasoned SRE/DevOps leader currently on a career sabbatical" in text


def test_a_word_cut_over_lines_at_a_glyph_from_another_font_is_joined() -> None:
    pypdf = " \nŞE\nĞ\nMEN\n \nYILDIZ\nPROFILE"
    other = "ŞEĞMEN YILDIZ\n\nPROFILE"
    assert rejoin_lines(pypdf, other) == " \nŞEĞMEN\n \nYILDIZ\nPROFILE"
    assert rejoin_lines("C\nV\nJava\nScript", "CV\nJavaScript developer") == "C\nV\nJavaScript"  # 4+ only
    assert rejoin_lines("Java\nScript", "Java\nScript") == "Java\nScript"  # not one word in the other


def test_pdfminer_font_complaints_stay_out_of_the_logs() -> None:
    import logging

    assert logging.getLogger("pdfminer").getEffectiveLevel() >= logging.ERROR
