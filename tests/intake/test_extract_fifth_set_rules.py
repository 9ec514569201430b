"""General rules found on a fifth held-out set (after its first run), on invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.contact_layout import spacing_accents
from milo_voice.intake.contact_name import name_tokens, normal_case
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


def test_a_dotted_capital_i_is_lowered_without_a_stray_dot() -> None:
    assert normal_case(["İLKNUR", "YILDIZ"]) == "İlknur Yildiz"
    assert normal_case(["AYŞEGÜL", "KİRAZ"]) == "Ayşegül Kiraz"


def test_a_name_line_that_goes_on_with_a_long_title_is_cut_before_the_length_check() -> None:
    assert name_tokens("Trần Thị Mai Fresher Backend Developer Intern") == ["Trần", "Thị", "Mai"]


def test_a_label_naming_the_given_name_first_drops_the_echoed_comma() -> None:
    text = "LEBENSLAUF\nVorname, Nachname: Selin, Aydemir Kaya\nTelefon: +49 151 23456789\nERFAHRUNG\n"
    assert contacts(text, "DE").name.value == "Selin Aydemir Kaya"
    text = "LEBENSLAUF\nName, Vorname: Aydemir Kaya, Selin\nTelefon: +49 151 23456789\nERFAHRUNG\n"
    assert contacts(text, "DE").name.value == "Aydemir Kaya, Selin"


def test_tex_spacing_accents_join_the_letter_after_them() -> None:
    assert spacing_accents("Mar´ıa Pe˜na") == "María Peña"
    assert spacing_accents("Jos´e M¨uller") == "José Müller"
    assert spacing_accents("5´ 10¨") == "5´ 10¨"  # not before a letter: left alone
    got = contacts("Joaqu´ın Pe˜nalosa\njpenalosa@example.cl\nExperiencia\n", "CL")
    assert got.name.value == "Joaquín Peñalosa"


def test_an_undotted_initial_needs_the_email_to_vouch_for_the_name() -> None:
    body = "\n".join(f"Line of body text number {i}." for i in range(25))
    text = f"CONTACT\n+91 98765 43210\nPhone:\nkvaishnavi77@example.in\nEmail:\n{body}\nVAISHNAVI K\nEnd\n"
    assert contacts(text, "IN").name.value == "Vaishnavi K"
    assert contacts("Führerschein\nKlasse B\n+49 151 23456789\nmail@example.de\n", "DE").name.value == ""


def test_a_cjk_form_name_cell_that_goes_on_with_the_age_gives_the_name() -> None:
    text = "自己紹介\n名前： 森川 遥斗 24歳 2000/1/2 男\n学歴\n"
    assert contacts(text, "JP").name.value == "森川 遥斗"


def test_a_letter_spaced_korean_label_split_by_a_wide_gap_still_labels() -> None:
    text = "이   력   서\n성       명 한서윤\n전 화 번 호 010-1234-5678\n2. 학력사항\n"
    assert contacts(text, "KR").name.value == "한서윤"


def test_a_worldwide_providers_country_domain_does_not_set_the_phones_country() -> None:
    text = "Camille Arnaud\nIngénieure\nLyon\ncamille.arnaud@protonmail.ch\n06 12 34 56 78\nCOMPÉTENCES\n"
    assert contacts(text, "FR").phone.value == "+33612345678"
