"""General rules found on a seventh held-out set (after its first run) and an eighth (after its first
run), on invented text."""

from __future__ import annotations

import pytest

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.contact_layout import heading_kind
from milo_voice.intake.contact_lexicon import LOCATION_LABELLED
from milo_voice.intake.contact_name import name_tokens
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


@pytest.mark.parametrize("heading", [
    "ESPERIENZA LAVORATIVA", "Istruzione e formazione", "Competenze linguistiche", "Experiência profissional",
    "Formação acadêmica", "Werkervaring", "Persoonlijke gegevens", "Doświadczenie zawodowe",
    "Pengalaman kerja", "Tentang saya", "About Me Detail Info", "Parcours professionnel",
])
def test_section_headings_in_more_languages_are_headings(heading: str) -> None:
    assert heading_kind(heading)
    assert name_tokens(heading) is None


def test_a_heading_in_capitals_before_the_contacts_is_not_taken_for_the_name() -> None:
    text = "PRESENTAZIONE\nSono un ingegnere.\nESPERIENZA LAVORATIVA\nISTRUZIONE E FORMAZIONE\n"
    text += "CONTATTI\nVia Roma 1, 00100 Roma\nmrossi@example.it\n+39 333 123 4567\n"
    assert contacts(text, "IT").name.value == ""


def test_a_course_title_is_no_name() -> None:
    assert name_tokens("BE QA TODAY COURSES") is None
    assert name_tokens("Data Science Bootcamp") is None


def test_a_job_title_with_a_modifier_the_lexicon_knew_not_ends_the_name() -> None:
    assert name_tokens("Ivan Petrov Kernel Engineer") == ["Ivan", "Petrov"]
    assert name_tokens("Ana Costa QA Engineer") == ["Ana", "Costa"]
    text = "Last update on 1st May 2024\nIvan Petrov Kernel Engineer\n0xdeadbeef@example.com · Dublin\n"
    assert contacts(text, "IE").name.value == "Ivan Petrov"


def test_a_name_label_on_a_line_of_its_own_takes_the_line_under_it() -> None:
    text = "履歴書\nふりがな\nやまだ　はなこ\n氏名\n山田　花子\n1990年 1月 1日生\nTEL. 090-1234-5678\n"
    assert contacts(text, "JP").name.value == "山田 花子"
    text = "Curriculum\nName:\nMaria Lopez\nEmail:\nmlopez@example.com\n"
    assert contacts(text, "ES").name.value == "Maria Lopez"


def test_a_name_printed_one_word_per_line_is_joined_when_the_email_spells_two_of_its_words() -> None:
    text = "ANA\nMARIA\nPEREZ\nGOMEZ\nIngeniera de sistemas\nEMAIL\nmariaperezgomes@example.com\n"
    assert contacts(text, "CO").name.value == "Ana Maria Perez Gomez"
    # the same stack, with an email that spells none of it: the first line only is not claimed whole
    text = "ANA\nMARIA\nPEREZ\nGOMEZ\nIngeniera de sistemas\nEMAIL\nzz9@example.com\n"
    assert contacts(text, "CO").name.value != "Ana Maria Perez Gomez"


def test_a_self_introduction_gives_the_name_when_no_line_reads_as_one() -> None:
    text = "Licences\n1) Counsellor - Reg No C/0001/2024\nWork Experience\nSerein Centre\n 2020-2022\n"
    text += " +254 700 000 000\nbk77@example.com\nI'm Grace Wanjiru Otieno, a licensed counsellor and\n"
    text += "teacher with ten years of practice.\n"
    name = contacts(text, "KE").name
    assert name.value == "Grace Wanjiru Otieno"
    assert name.confidence < 0.9 and "sentence" in name.reason


@pytest.mark.parametrize(("sentence", "expected"), [
    ("My name is Pablo Ruiz Soto and I build tools.", "Pablo Ruiz Soto"),
    ("Je m'appelle Claire Dubois, développeuse.", "Claire Dubois"),
    ("I am Passionate About Building Things that matter", ""),  # a description, not a name
    ("I'm a developer from Lyon.", ""),
])
def test_which_self_introductions_name_the_candidate(sentence: str, expected: str) -> None:
    text = f"Profile\n{sentence}\nSkills\nzz9@example.com\n"
    assert contacts(text, "FR").name.value == expected


def test_particles_in_capitals_do_not_count_against_the_name_length() -> None:
    assert name_tokens("JORGE ARMANDO DE LEÓN TEJADA") == ["JORGE", "ARMANDO", "DE", "LEÓN", "TEJADA"]
    assert name_tokens("ONE TWO THREE FOUR FIVE") is None  # five capitalised words are still too many


def test_an_address_cut_after_its_domain_is_joined_with_its_top_level_label() -> None:
    text = "Brayan Urrutia\n31 octubre de 2004\nbrayanu33@gmail.\ncom\n(320) 2743201\n"
    assert contacts(text, "CO").email.value == "brayanu33@gmail.com"


@pytest.mark.parametrize("label", ["Endereço:", "Morada:", "Adres:", "Alamat:", "Indirizzo:"])
def test_location_labels_in_more_languages(label: str) -> None:
    match = LOCATION_LABELLED.match(f"{label} Rua das Flores 10, Lisboa")
    assert match and match.group("value").startswith("Rua das Flores")


def test_a_location_label_is_a_whole_word() -> None:
    assert LOCATION_LABELLED.match("Cityscape Photography Club") is None
    assert LOCATION_LABELLED.match("Addressed audiences of 200 people") is None


def test_a_name_in_small_letters_is_read_when_the_email_spells_it() -> None:
    text = "PRESENTAZIONE\nSono un ingegnere.\nCOMPETENZE LINGUISTICHE\nmarta rossi\n"
    text += "Data di nascita: 1/1/2000\n"
    text += "CONTATTI\nxmartarossi@example.it\n+39 333 123 4567\n"
    assert contacts(text, "IT").name.value == "Marta Rossi"
    assert contacts(text.replace("xmartarossi", "zz9"), "IT").name.value == ""  # unspelt: no name


def test_a_name_printed_in_full_further_down_completes_the_top_one() -> None:
    text = "Brayan Alexis\nUrrego\n31 octubre de 2004\nbrayanu33@example.com\n(320) 2743201\n"
    text += "Brayan Alexis Urrego\nIngeniero en Sistemas\nPerfil profesional\n"
    assert contacts(text, "CO").name.value == "Brayan Alexis Urrego"
    text = "Brayan Alexis\nbrayanu33@example.com\nBogotá Software Engineer Club\n"
    assert contacts(text, "CO").name.value == "Brayan Alexis"  # a longer line that is no name
