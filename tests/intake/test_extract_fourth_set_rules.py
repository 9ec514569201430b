"""General rules found on a fourth held-out set, each asserted on invented text (no resume's own strings)."""

from __future__ import annotations

import pytest

from milo_voice.intake.contact_email import placeholder
from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.contact_layout import undoubled
from milo_voice.intake.contact_name import name_tokens
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


# -- name labels ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("label", "value", "want"), [
    ("Name, Vorname:", "Hollerbach, Greta", "Hollerbach, Greta"),
    ("Nachname, Vorname:", "Hollerbach, Greta", "Hollerbach, Greta"),
    ("Nome e cognome:", "Ottavia Brambilla", "Ottavia Brambilla"),
    ("Imię i nazwisko:", "Zofia Wiśniewska", "Zofia Wiśniewska"),
    ("Apellidos y nombre:", "Quiroga Peña, Lucía", "Quiroga Peña, Lucía"),
])
def test_a_label_that_names_both_parts_of_the_name_labels_it(label: str, value: str, want: str) -> None:
    text = f"Persönliche Daten\n{label} {value}\nGeburtsdatum: 01.02.1990\nBerufserfahrung\n2019 Dev\n"
    assert contacts(text, "DE").name.value == want


def test_a_surname_label_alone_still_only_completes_a_name() -> None:
    got = contacts("Apellido: Quiroga\nNombre: Lucía\nlucia.q@example.es\nExperiencia\n", "ES")
    assert got.name.value == "Lucía Quiroga"


def test_a_labelled_name_after_a_cover_page_is_read() -> None:
    text = ("\nCURRICULUM VITAE\nWanjiru kamau\n\f"
            "PERSONAL DATA\nName: Achieng Wanjiru Kamau\nNationality: Kenyan\nEmail: wkamau@example.org\n"
            "EDUCATION\n2015 - 2019 BSc\n")
    assert contacts(text, "KE").name.value == "Achieng Wanjiru Kamau"


# -- the name's line -----------------------------------------------------------------------------


@pytest.mark.parametrize("heading", ["INFORMAZIONI PERSONALI", "INFORMACIÓN PERSONAL", "ANGABEN ZUR PERSON",
                                     "DANE OSOBOWE", "INFORMATIONS PERSONNELLES"])
def test_a_europass_heading_glued_to_the_name_is_not_part_of_it(heading: str) -> None:
    assert name_tokens(f"{heading} Brambilla Ottavia") == ["Brambilla", "Ottavia"]


def test_a_first_name_that_is_also_a_heading_word_in_another_language_stays() -> None:
    assert name_tokens("Dane Whitcombe") == ["Dane", "Whitcombe"]


@pytest.mark.parametrize("line", ["Klasse B", "Category C", "Grade A"])
def test_a_line_ending_in_a_bare_letter_is_no_name_unless_the_email_vouches(line: str) -> None:
    text = f"Führerschein\n{line}\n+49 151 23456789\nmail@example.de\nProfil\n"
    assert contacts(text, "DE").name.value == ""
    assert name_tokens("Tomas Berg B.") == ["Tomas", "Berg", "B."]


def test_words_drawn_twice_by_a_design_tool_are_read_once() -> None:
    assert undoubled("KAROLINAKAROLINA") == "KAROLINA"
    assert undoubled("HALVORSENHALVORSEN NILSNILS") == "HALVORSEN NILS"
    assert undoubled("Bonbon") == "Bonbon"  # halves differ in case
    assert undoubled("KAROLINAKAROLINA Halvorsen") == "KAROLINAKAROLINA Halvorsen"  # not every word
    assert undoubled("20242024") == "20242024"
    text = "KAROLINAKAROLINA\nHALVORSENHALVORSEN\nProgramistka\nhalvorsenkarolina@example.pl\n"
    assert contacts(text, "PL").name.value == "Karolina Halvorsen"


def test_a_name_written_after_the_body_is_found_through_the_email_surname() -> None:
    body = "\n".join(f"Did useful work number {i} for the team." for i in range(25))
    text = (f"Web Developer\nPersonal\n+49 151 23456789\nhoskuldur91.dev@example.de\nFührerschein\nKlasse B\n"
            f"{body}\nTeodor Hoskuldur\nEducation\n")
    got = contacts(text, "DE")
    assert got.name.value == "Teodor Hoskuldur"
    assert got.name.confidence < 0.8


def test_a_letter_spaced_name_is_read_with_the_email_that_spells_it() -> None:
    text = "D evelop er\nM ar ta\nE sp in o Sa la\n612 34 56 78\nmartaespinosala@ gm ail.com\nC ontact\n"
    got = contacts(text, "ES")
    assert got.name.value == "Marta Espino Sala"
    assert got.name.confidence < 0.8
    assert got.email.value == "martaespinosala@gmail.com"


# -- emails --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "fake"), [
    ("xxx@gmail.com", True), ("XXXX@outlook.com", True), ("your.email@gmail.com", True),
    ("firstname.lastname@company.de", True), ("me@yourdomain.com", True),
    ("j@company.com", False), ("aaron@gmail.com", False), ("jane.doe@example.com", False),
])
def test_template_placeholders_are_no_address(address: str, fake: bool) -> None:
    assert placeholder(address) is fake


def test_a_placeholder_address_is_not_returned() -> None:
    got = contacts("Ilse Marquardt\nEngineer\n✉ xxx@gmail.com\nphone +xx xxx xxx\nSummary\n", "DE")
    assert got.email.value == ""
    assert got.name.value == "Ilse Marquardt"


@pytest.mark.parametrize("wrapped", ["nguyen.an@student.uni.edu.\nvn", "nguyen.an@student.uni.edu\n.vn"])
def test_an_address_wrapped_before_its_last_label_is_joined(wrapped: str) -> None:
    text = f"Nguyen Van An\nEmail\n{wrapped}\nTelephone\n(+84) 912 345 678\nEducation\n"
    assert contacts(text, "VN").email.value == "nguyen.an@student.uni.edu.vn"


def test_a_next_line_that_is_more_than_a_label_is_not_joined() -> None:
    text = "Nguyen Van An\nnguyen.an@example.com.\nin Hanoi since 2020\nEducation\n"
    assert contacts(text, "VN").email.value == "nguyen.an@example.com"


def test_the_candidates_own_address_after_a_references_heading_is_theirs() -> None:
    # a design tool wrote every heading first, then the candidate's contact box, then the referees
    text = ("ODHIAMBO WEKESA\nINFO\nSKILLS\nREFERENCES\nName\nOdhiambo Wekesa\nEmail\n"
            "odhiambowekesa@example.com\nMr. Peter Otieno\nSupervisor\nEmail: p.otieno@example.co.ke\n")
    got = contacts(text, "KE")
    assert got.email.value == "odhiambowekesa@example.com"
    assert "p.otieno@example.co.ke" not in got.emails


def test_a_referees_address_is_still_no_ones_when_it_does_not_spell_the_header_name() -> None:
    text = ("ODHIAMBO WEKESA\nProfile\nI build things.\nReferences\nMr. Peter Otieno\n"
            "Email: wekesa.p.otieno@example.co.ke\n")
    assert contacts(text, "KE").email.value == ""
