"""General rules found on a ninth held-out set (after its first run), on invented text."""

from __future__ import annotations

import pytest

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.contact_layout import heading_kind
from milo_voice.intake.contact_name import name_tokens
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US", *, ocr: bool = False) -> Contacts:
    return extract_contacts(text, default_region=region, ocr=ocr)


@pytest.mark.parametrize("title", [
    "Σύντομο Βιογραφικό Σημείωμα", "ŽIVOTOPIS", "Życiorys", "Önéletrajz", "Özgeçmiş", "Ansioluettelo",
    "Currículo", "Currículum",
])
def test_a_document_title_in_more_languages_heads_the_page_and_is_no_name(title: str) -> None:
    assert heading_kind(title) == "title"
    assert name_tokens(title) is None


def test_a_greek_title_line_before_the_name_is_passed_over() -> None:
    text = "Σύντομο Βιογραφικό Σημείωμα\nΓιώργος Παπαδόπουλος\n1 Μαΐου 2024\nΕκπαίδευση\n"
    text += "gpapadopoulos@example.com\n"
    assert contacts(text, "GR").name.value == "Γιώργος Παπαδόπουλος"


def test_a_stack_title_under_a_four_word_name_is_no_rival() -> None:
    text = "Ana Lucia Perez Gomez\n Full Stack Developer\nCONTACT\nalperez@example.com\n+502 5555-0101\n"
    guess = contacts(text, "GT").name
    assert (guess.value, guess.confidence) == ("Ana Lucia Perez Gomez", 0.95)
    assert name_tokens("Full Stack") is None


def test_programming_languages_in_a_skills_column_are_no_name() -> None:
    assert name_tokens("Java Script") is None
    assert name_tokens("Type Script") is None
    text = "ทักษะ\nHTML\nCSS\nJava Script\n081-555-0101\nsomchai.k@example.com\n"
    assert contacts(text, "TH").name.value == ""


def test_a_form_with_the_fathers_and_mothers_surnames_on_labelled_lines_gives_both() -> None:
    text = ("HOJA DE VIDA\nInformación Personal\nNombre : MARIA JOSE\nApellido Paterno : ROJAS\n"
            "Apellido Materno : SOTO\nFecha Nacimiento : 01-02-2000\nE-mail : mjrojas@example.com\n")
    assert contacts(text, "CL").name.value == "Maria Jose Rojas Soto"


def test_a_form_with_one_surname_line_still_gives_it() -> None:
    text = "Nombre: Diego\nApellido: Espinosa\nCorreo: diego@example.com\n"
    assert contacts(text, "MX").name.value == "Diego Espinosa"


def test_an_ocr_header_whose_second_name_line_goes_on_with_the_phone_is_joined() -> None:
    text = "ANNE MARIE VAN annevandijk@example.com\nDIJK +31 30 555 01 01\n\nSoftware Engineer\n"
    assert contacts(text, "NL", ocr=True).name.value == "Anne Marie Van Dijk"


def test_the_next_line_with_a_phone_is_not_joined_when_the_email_does_not_spell_it() -> None:
    text = "ANNE MARIE VAN annemarie@example.com\nUTRECHT +31 30 555 01 01\n"
    assert contacts(text, "NL", ocr=True).name.value == "Anne Marie Van"


def test_an_address_cut_inside_com_is_completed_from_the_next_line() -> None:
    text = "KONTAKTNÉ ÚDAJE\nmarek.novak2015@gmail.co\nm\n+421 900 555 010\n"
    assert contacts(text, "SK").emails == ("marek.novak2015@gmail.com",)


def test_an_address_ending_in_a_real_two_letter_domain_is_not_lengthened() -> None:
    text = "KONTAKT\nmarek@firma.co\nuk\n+421 900 555 010\n"
    assert contacts(text, "SK").emails == ("marek@firma.co",)


def test_referees_under_a_plural_spanish_heading_give_no_phone() -> None:
    text = ("Ana Gomez\nGuatemala | Tel: +502 5555-0101 | Email: agomez@example.com\nEXPERIENCIA\nVentas\n"
            "REFERENCIAS LABORALES\n• Luis Perez – Director\n(502) 5555-0202 / lperez@example.com\n")
    found = contacts(text, "GT")
    assert found.phones == ("+50255550101",)
    assert found.emails == ("agomez@example.com",)
