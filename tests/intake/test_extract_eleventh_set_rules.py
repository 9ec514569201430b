"""General rules found on an eleventh held-out set (after its first run), and on the first twelve files of a
twelfth, on invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.contact_layout import Layout
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


def test_a_german_form_gives_the_family_name_as_name_and_the_given_names_as_vorname() -> None:
    text = "CV\nName: Keller\nVorname: Jonas Peter\nTelefon: +41 79 555 01 42\nE-Mail: jk@example.com\n"
    assert contacts(text).name.value == "Jonas Peter Keller"


def test_swapped_name_labels_are_read_in_the_order_the_email_spells() -> None:
    text = ("Lebenslauf\nName: Giulia Anna\nVorname: Rinaldi\nTelefon: +41 79 555 01 42\n"
            "E-Mail: giulia.rinaldi@example.com\n")
    assert contacts(text).name.value == "Giulia Anna Rinaldi"


def test_a_given_name_line_that_repeats_the_name_line_adds_nothing() -> None:
    text = "Name: Jonas Keller\nVorname: Jonas\nE-Mail: jk@example.com\n"
    assert contacts(text).name.value == "Jonas Keller"


def test_an_international_prefix_written_after_the_plus_is_read() -> None:
    text = "Jean Dupont\nContact\n8 rue de la Paix, 75002 Paris\n+0033 612345678\njean.dupont@example.com\n"
    found = contacts(text)
    assert found.phone.value == "+33612345678" and found.phone.confidence >= 0.9


def test_a_hebrew_header_gives_the_name_and_the_number_in_reading_order() -> None:
    text = "│דנה לוי │תל אביב │ 5550142-052 │dana.levi@example.com\nתמצית\nבודקת תוכנה\n"
    found = contacts(text)
    assert found.name.value == "דנה לוי"
    assert found.phone.value == "+972525550142"


def test_a_hebrew_job_title_or_heading_is_no_name() -> None:
    text = "מהנדסת תוכנה\nפרטים אישיים\nrl@example.com\n"
    assert contacts(text).name.value == ""


def test_a_hebrew_name_written_in_visual_order_is_read_in_reading_order() -> None:
    text = "'ברקוביץ נועה\nפרטים אישיים\nnoa.b@example.com\n"
    assert contacts(text).name.value == "נועה ברקוביץ'"


def test_a_number_printed_as_a_phone_beats_a_bare_postcode_that_comes_first() -> None:
    text = ("Ana Souza Lima\nRua das Flores, 128\nCampinas - SP - 13010020\n(19) 95555-0142\n"
            "anasouza@example.com\nExperiência\nDesigner, Londres UK\n")
    digits = "".join(ch for ch in contacts(text).phone.value if ch.isdigit())
    assert digits.endswith("19955550142")  # "+5519955550142" once the city names Brazil


def test_a_name_spaced_out_with_tabs_is_one_item() -> None:
    text = "  Miami, FL      305-555-0142      work99@example.com\nMARIA\tLOPEZ\tREYES\nSummary\n"
    assert contacts(text).name.value == "Maria Lopez Reyes"
    assert Layout.of("Java\tPython\tSQL").lines[0].text == "Java | Python | SQL"  # not one item: columns


def test_a_surname_in_capitals_glued_to_the_next_words_is_cut_there() -> None:
    text = "Claire MARTINÉtudiante en master – Lyon\n06 55 50 01 42\nclaire.martin@example.com\n"
    assert contacts(text, "FR").name.value == "Claire Martin"
    glued = Layout.of("JEANDupont@example.com | https://example.com/JEANDupont").lines[0].text
    assert glued == "JEANDupont@example.com | https://example.com/JEANDupont"  # addresses are left whole


def test_a_date_followed_by_a_bracketed_count_is_no_phone() -> None:
    text = "A.Kavya\nMadurai\nA Mobile Service workshop from 04.01.2019 to 05.01.2019 (2 days).\n"
    assert contacts(text).phones == ()


def test_a_number_grouped_in_twos_with_dots_is_still_a_phone() -> None:
    text = "Claire Martin\nMobile : 06.48.79.87.79\nclaire.martin@example.com\n"
    assert contacts(text, "FR").phone.value == "+33648798779"
