"""General rules found on a sixth held-out set (after its first run), on invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.contact_layout import fold
from milo_voice.intake.contact_name import name_tokens
from milo_voice.intake.document_text import tabs_as_spaces
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


def test_a_company_line_is_no_name_even_after_two_capitalised_words() -> None:
    assert name_tokens("Nordwind Welding Ltd.") is None
    assert name_tokens("Bright Harbor Technologies") is None
    assert name_tokens("Jane Porter Software Engineer") == ["Jane", "Porter"]  # a title still ends a name


def test_a_menu_or_a_link_label_is_no_name() -> None:
    assert name_tokens("BLOG CV") is None
    assert name_tokens("Google Scholar") is None
    assert name_tokens("Kaggle Profile") is None
    assert name_tokens("Jan Kowal Resume") == ["Jan", "Kowal"]


def test_a_company_under_the_contact_lines_is_not_taken_for_the_name() -> None:
    text = "WORK EXPERIENCE\nMobile: (+359) 888 123 456\nEmail address: p7petrov@example.bg\nIntern\n"
    text += "Nordwind Welding Ltd.\n01/07/2021 - 25/09/2021\n"
    assert contacts(text, "BG").name.value == ""


def test_tabs_between_every_two_words_are_word_spaces() -> None:
    text = "Lucía\tB.\tFerreyra,\tPhD\nFísica,\tDesarrolladora\tde\tSoftware\nInformación\tpersonal\n"
    text += "Email\nlferreyra@example.com\nExperiencia\tlaboral\nDocente\tde\tfísica\n"
    spaced = tabs_as_spaces(text)
    assert spaced.splitlines()[0] == "Lucía B. Ferreyra, PhD"
    assert contacts(text, "AR").name.value == ""  # read with the tabs as column gaps: no name
    assert contacts(spaced, "AR").name.value == "Lucía B. Ferreyra"


def test_tabs_that_part_columns_are_kept() -> None:
    text = "\n".join(f"2019 - 2021\tSenior engineer at Firm {i}\tBerlin, Germany" for i in range(8))
    assert tabs_as_spaces(text) == text


def test_an_address_in_turkish_capitals_is_read_with_a_plain_i() -> None:
    text = "EMRE AKSOY\n0532 111 22 33 | EAKSOY77@GMAİL.COM | WWW.EMREAKSOY.COM.TR\nÖZET\n"
    assert contacts(text, "TR").email.value.lower() == "eaksoy77@gmail.com"


def test_a_labelled_phone_comes_before_an_office_number_inside_an_address() -> None:
    text = "Lucía Ferreyra\nDirección de trabajo\nAv. Colón 1200, 5000, Córdoba, +54 351 411 2200\n"
    text += "Número de teléfono\n+54 9 351 555 0188\nEmail\nlferreyra@example.com\nEducación\n"
    assert contacts(text, "AR").phone.value == "+5493515550188"


def test_a_name_the_first_address_vouches_for_beats_a_supervisors_spelt_by_theirs() -> None:
    text = "Ольга\nСмирнова\nData Scientist\nsmirnova.work@example.ru\n+7 906 123 45 67\nРуководитель\n"
    text += "Пётр\nВолков\npetr.volkov2017@example.ru\nОпыт\n"
    assert contacts(text, "RU").name.value == "Ольга Смирнова"


def test_other_scripts_fold_to_the_latin_spelling_of_an_address() -> None:
    assert fold("Смирнова") == "smirnova"
    assert fold("Łukasz Żak") == "lukaszzak"
    assert fold("Straße") == "strasse"


def test_a_name_printed_without_its_space_is_split_by_the_email() -> None:
    text = "MARIAKOWALSKA\nFull-StackDeveloper\nmaria@mkowalska.pl\nDOŚWIADCZENIE\n"
    assert contacts(text, "PL").name.value == "Maria Kowalska"
    text = "tomasvidal\nPh.D in Physics\nAbout\nvidal.tomas@example.es\n+34 612 345 678\n"
    assert contacts(text, "ES").name.value == "Tomas Vidal"
    text = "WORKEXPERIENCE\nmaria@mkowalska.pl\n"  # split nowhere by the address: no name
    assert contacts(text, "PL").name.value == ""


def test_an_address_with_a_space_after_every_character_is_read() -> None:
    text = "CONTACT\nE m a i l :  n g u y e n v a n 1 9 @ e x a m p l e . e d u . v n\nSKILLS\n"
    assert contacts(text, "VN").email.value == "nguyenvan19@example.edu.vn"
    assert contacts("Nguyen Van An\na n @ b\n", "VN").email.value == ""  # too short to be an address
