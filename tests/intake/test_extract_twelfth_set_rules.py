"""General rules found on the last eighteen files of a twelfth held-out set (after their first run), on
invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.contact_layout import Layout
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


def test_a_letter_spaced_name_is_read_as_its_words() -> None:
    text = ("M a r t a  R u i z  P e ñ a\n+56 9 5555 0142\nmarta.r@example.com\nResumen Profesional\n"
            "Trabajo en equipo\n")
    assert contacts(text).name.value == "Marta Ruiz Peña"


def test_a_line_with_one_space_between_all_letters_is_left_alone() -> None:
    text = "Marta Ruiz\nE N Z O T O L E D O\nmarta.r@example.com\n"
    found = contacts(text)
    assert found.name.value == "Marta Ruiz"
    assert Layout.of(text).lines[1].text == "E N Z O T O L E D O"  # its word breaks cannot be told
    # unless the letters make one heading word (set 19: "R E F E R A N S L A R" over referees' numbers)
    assert Layout.of("Marta Ruiz\nH A B I L I D A D E S\n").lines[1].text == "HABILIDADES"


def test_a_given_name_label_over_a_plain_name_label_gives_both() -> None:
    text = "ETAT CIVIL\nPrénom : Fatou\nNom : NDIAYE\nTel : 770000000\nE-mail : fatou.sow@example.com\n"
    assert contacts(text).name.value == "Fatou Ndiaye"


def test_a_name_in_small_letters_over_the_contact_details_is_the_name() -> None:
    text = "ana lucia dos reis\n(21) 95555-0142\nanalu@example.com\nOBJETIVO\nTrabalhar na área.\n"
    assert contacts(text).name.value == "Ana Lucia dos Reis"


def test_small_letters_that_are_a_job_title_are_no_name() -> None:
    text = "software engineer\n(21) 95555-0142\nanalu@example.com\n"
    assert contacts(text).name.value == ""


def test_a_linkedin_address_wrapped_by_its_export_vouches_for_the_name_below_the_skills() -> None:
    text = ("Contact\nwww.linkedin.com/in/maria-\ngarcia-lopez-1234567 (LinkedIn)\nmg@example.com\n"
            "Top Skills\nScrum\nOracle Database\nJava\nMaria Garcia Lopez\nWeb Developer\nSummary\n"
            "I build web applications.\n")
    assert contacts(text).name.value == "Maria Garcia Lopez"


def test_a_nationality_in_the_header_reads_the_national_number_in_that_country() -> None:
    text = ("Pedro Alves\nBrasileiro, Solteiro, 22 Anos\nFone: (88) 9.9555-0142\nE-mail: pa@example.com\n"
            "OBJETIVO\n")
    assert contacts(text).phone.value == "+5588995550142"


def test_portuguese_text_reads_a_number_the_default_region_cannot() -> None:
    text = ("luiz souza\nCONTATO\nTelefone: 42 995550142\nOBJETIVO\nProfissional de vendas com experiência "
            "em lojas.\nFormação: técnico em administração; não fumante.\n")
    found = contacts(text)
    assert found.phone.value == "+5542995550142"
    assert "Portuguese" in found.phone.reason


def test_a_labelled_city_names_the_country_of_the_number() -> None:
    text = ("JUAN PEREZ GOMEZ\nTeléfono Móvil: 320 555 0142\nCiudad: Bogotá D.C\nE-mail: jpg@example.com\n")
    assert contacts(text).phone.value == "+573205550142"


def test_headings_written_out_together_do_not_make_the_next_lines_a_referees_section() -> None:
    text = ("Jerson Cruz\nACADEMIC BACKGROUND\nCORE SKILLS\nWORK REFERENCES\nBS Information Technology\n"
            "+63 995 555 0142\njcruz@example.com\nMr. Dino Reyes\nProgram Head\n+63 995 555 0199\n")
    found = contacts(text)
    assert found.email.value == "jcruz@example.com" and found.phone.value == "+639955550142"
    assert found.phones == ("+639955550142",)  # the referee, named with an honorific, stays hidden


def test_a_referees_heading_after_its_own_section_still_hides_the_referees() -> None:
    text = ("Jerson Cruz\njcruz@example.com\nEDUCATION\nBS Information Technology\nSKILLS\nTyping\n"
            "REFERENCES\nMaria Santos, Program Head\n+63 995 555 0199\nmsantos@example.com\n")
    found = contacts(text)
    assert found.email.value == "jcruz@example.com" and found.phone.value == ""


def test_a_place_written_before_its_label_is_read_when_a_heading_follows_the_label() -> None:
    text = ("Sriram Kumar\nC O N T A C T\n+91 99439 10503\nPhone:\nsk@example.com\nEmail Address:\n"
            "Trichy, Tamilnadu\nAddress:\nTECH SKILLS\nPython\n")
    assert contacts(text).location.value == "Trichy, Tamilnadu"


def test_a_family_referees_heading_hides_their_numbers() -> None:
    text = ("Juan Perez Gomez\nTeléfono: 320 555 0142\nCiudad: Bogotá D.C\njpg@example.com\n"
            "PERFIL\nConductor.\nREFERENCIAS FAMILIARES\nLuz Rojas\nTeléfono: 314 555 0177.\n")
    assert contacts(text).phones == ("+573205550142",)
