"""General rules found on a third held-out set, each asserted on invented text (no resume's own strings)."""

from __future__ import annotations

import io
import zipfile

import pytest

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.contact_name import ocr_heading, surname_first
from milo_voice.intake.contact_region import email_regions
from milo_voice.intake.document_text import read_document
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US", *, ocr: bool = False) -> Contacts:
    return extract_contacts(text, default_region=region, ocr=ocr)


# -- NFKC ----------------------------------------------------------------------------------------


def test_kangxi_radicals_and_full_width_forms_read_as_plain_characters() -> None:
    # U+2F47 KANGXI RADICAL SUN is what some PDF producers write for 日 (U+65E5)
    text = "氏名 \u2f47野 花子\nＥｍａｉｌ： hanako.hino@example.jp\n電話 ０９０-１２３４-５６７８\n職歴\n"
    got = contacts(text, "JP")
    assert got.name.value == "日野 花子"
    assert got.email.value == "hanako.hino@example.jp"
    assert got.phone.value == "+819012345678"


def test_a_ligature_inside_a_name_is_read_as_its_letters() -> None:
    got = contacts("Ra\ufb01q Osei\nrafiq.osei@example.com | +44 20 7946 0958\nProfile\n")
    assert got.name.value == "Rafiq Osei"


# -- references sections -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "heading",
    [
        "Reference",
        "REFERANSLAR",
        "Références",
        "Referencias",
        "Referências",
        "Referenzen",
        "Referencje",
        "Referees",
        "推荐人",
    ],
)
def test_contacts_under_a_references_heading_are_never_the_candidates(heading: str) -> None:
    text = (
        "Dana Velk\nSoftware tester\ndana.velk@example.org\nSkills\nTesting\n"
        f"{heading}\nOrsolya Brandt\nTeam lead\nobrandt@example.net\n+49 30 901820\nHobbies\nChess\n"
    )
    got = contacts(text)
    assert got.email.value == "dana.velk@example.org"
    assert got.emails == ("dana.velk@example.org",)
    assert got.phone.value == ""


def test_when_the_only_email_is_a_referees_none_is_returned() -> None:
    text = "Dana Velk\nSkills\nTesting\nReferanslar\nOrsolya Brandt\nGMAIL: obrandt@example.net\n"
    assert contacts(text).email.value == ""


# -- phone region from the document --------------------------------------------------------------


def test_an_eleven_digit_mobile_with_a_chinese_university_email_is_not_given_plus_one() -> None:
    got = contacts("Name: Li Wei\nPhone: 13912345678\nEmail: lw@mail.example.edu.cn\nEducation\n")
    assert got.phone.value == "+8613912345678"


def test_han_script_beats_a_valid_us_reading_of_a_bare_mobile() -> None:
    text = (
        "李明\n166-2213-0000 | liming@example.com\n"
        + "本人有多年的软件开发经验，熟悉各种编程语言和工具。" * 2
    )
    got = contacts(text)
    assert got.phone.value == "+8616622130000"
    assert got.phone.confidence < 0.8


def test_a_country_named_in_the_contact_block_reads_the_national_number() -> None:
    text = "Ana Ruiz\nMedellín, Colombia\n315-555-0123 | ana.ruiz@example.com\nExperience\n"
    assert contacts(text).phone.value == "+573155550123"


def test_a_country_in_another_language_as_an_item_of_the_contact_block() -> None:
    text = "Ana Ruiz\nPanamá, San Miguelito\n6123-4567 | ana.ruiz@example.com\nExperience\n"
    assert contacts(text).phone.value == "+50761234567"


def test_a_us_state_keeps_the_default_region_even_with_a_foreign_email_domain() -> None:
    text = "Ana Ruiz\nAustin, TX\n(512) 555-0147 | ana.ruiz@example.de\nExperience\n"
    assert contacts(text).phone.value == "+15125550147"


def test_without_a_north_american_signal_a_bare_number_is_kept_as_printed() -> None:
    text = "Ana Ruiz\nRua Central 5\n512 555 0147 | ana.ruiz@example.cn\nExperience\n"
    got = contacts(text)
    assert not got.phone.value.startswith("+1")
    assert got.phone.confidence < 0.8


@pytest.mark.parametrize(
    ("address", "region"),
    [("x@qq.com", "CN"), ("x@naver.com", "KR"), ("x@unal.edu.co", "CO"), ("x@shop.co", None)],
)
def test_email_regions_from_country_domains_and_national_providers(address: str, region: str | None) -> None:
    found = [r for r, _ in email_regions([address])]
    assert found == ([region] if region else [])


# -- names ---------------------------------------------------------------------------------------


def test_a_surname_first_name_vouched_by_the_email_keeps_its_printed_order() -> None:
    text = (
        "12-03-2024\nSummary\nI build things.\nAbout me\nOKONKWO-BELL, Tamsin Ree.\nAnalyst\n"
        "tamsin.ree@example.com, +44 20 7946 0958\nSkills\n"
    )
    assert contacts(text).name.value == "Okonkwo-Bell, Tamsin Ree"


def test_a_surname_first_line_the_email_does_not_vouch_for_is_no_name() -> None:
    assert surname_first("SPRINGFIELD, Oak Hills", ["jdoe"]) is None
    assert surname_first("VARGA, Eszter", ["eszter.v"]) == ["VARGA,", "Eszter"]


def test_a_name_printed_twice_is_given_once_and_flagged() -> None:
    got = contacts("Mira Holt Mira Holt\nmira.holt@example.com | +44 20 7946 0958\nProfile\n")
    assert got.name.value == "Mira Holt"
    assert got.name.confidence < 0.8


def test_two_identical_name_lines_are_not_joined() -> None:
    got = contacts("Mira Holt\nMira Holt\nmiraholt@example.com | +44 20 7946 0958\nProfile\n")
    assert got.name.value == "Mira Holt"


def test_a_name_whose_line_lost_a_character_is_flagged() -> None:
    got = contacts("Name: \ue000野 花子\nEmail: h.hino@example.jp\n")
    assert got.name.value and got.name.confidence < 0.8


def test_on_an_ocr_page_a_section_heading_is_never_the_name() -> None:
    text = "TECHNICAL SKILLS\nKNOWN PROGRAMS\nKiRIM SENSOY\nDesigner\n+44 20 7946 0958\nProfile\n"
    assert ocr_heading("KNoWN Programs") and ocr_heading("Technical Skills")
    assert not ocr_heading("Kirim Sensoy")
    assert contacts(text, ocr=True).name.value == "KiRIM Sensoy"  # OCR's lowered dotted capital stays


# -- DOCX text boxes -----------------------------------------------------------------------------

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
MC = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'


def _box(*lines: str) -> str:
    paragraphs = "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in lines)
    return f"<w:txbxContent>{paragraphs}</w:txbxContent>"


def test_a_docx_text_box_is_read_once_with_its_paragraph_breaks() -> None:
    box = _box("Mira Holt", "mira.holt@example.com", "+44 20 7946 0958")
    body = (
        f"<w:document {W} {MC}><w:body><w:p><w:r><mc:AlternateContent><mc:Choice>{box}</mc:Choice>"
        f"<mc:Fallback>{box}</mc:Fallback></mc:AlternateContent></w:r></w:p>"
        "<w:p><w:r><w:t>Experience</w:t></w:r></w:p></w:body></w:document>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", body)
    document = read_document(out.getvalue(), "cv.docx")
    assert document.text.splitlines() == [
        "Mira Holt",
        "mira.holt@example.com",
        "+44 20 7946 0958",
        "Experience",
    ]
    assert contacts(document.text).name.value == "Mira Holt"


# -- locations -----------------------------------------------------------------------------------


def test_a_location_label_printed_alone_labels_the_next_line() -> None:
    text = "Mira Holt\nContact\nAddress:\nHill Road 4, Kisumu\nPhone:\n+254 712 345678\nmira@example.com\n"
    assert contacts(text).location.value == "Hill Road 4, Kisumu"


def test_a_bare_location_label_above_a_phone_gives_no_location() -> None:
    text = "Mira Holt\nAddress:\n+254 712 345678\nmira@example.com\n"
    assert contacts(text).location.value == ""


def test_a_line_that_starts_with_a_country_then_its_districts_is_a_location() -> None:
    text = "Mira Holt\n+51 912 345 678\nPerú, Santa anita, Los Pinos\nmira@example.com\nProfile\n"
    assert contacts(text).location.value == "Perú, Santa anita, Los Pinos"


def test_a_country_first_line_with_a_job_title_is_no_location() -> None:
    text = "Mira Holt\n+51 912 345 678\nPerú, Senior Engineer\nmira@example.com\nProfile\n"
    assert contacts(text).location.value == ""


def test_a_heading_that_lost_its_accents_still_ends_a_references_section() -> None:
    # OCR reads "EĞİTİM" as "EGITIM"; the referees' section ends there, so the candidate's phone after
    # it (a scanned page read in the wrong column order) is not taken for a referee's
    text = (
        "REFERANSLAR\nOrsolya Brandt\n+90 532 000 00 00\nEGITIM\nAnkara Lisesi\nILETISIM\n+90 531 111 22 33\n"
    )
    got = contacts(text)
    assert got.phone.value == "+905311112233"
    assert "+905320000000" not in got.phones
