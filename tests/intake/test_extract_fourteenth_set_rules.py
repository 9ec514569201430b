"""General rules found on a fourteenth held-out set (after its first run), on invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


def test_an_address_typed_with_a_space_before_its_tld_is_read() -> None:
    text = "Amir Khan\n03337340752\nLyari, Karachi, Pakistan.\nAmirKhanBSA@example .com\n"
    assert contacts(text).email.value == "AmirKhanBSA@example.com"


def test_nursing_credentials_after_a_name_are_no_name_words() -> None:
    text = "Curriculum Vitae\nJane Roe BSN, RN, OCN\n12 Ridge Way\nAtlanta, GA\njane.roe@example.com\n"
    assert contacts(text).name.value == "Jane Roe"


def test_a_us_state_named_in_full_keeps_the_us_reading_of_the_number() -> None:
    text = "Jane Roe\n12 Ridge Way\nAtlanta, Georgia\n(740) 555-0142(C)\njane.roe@example.com\n"
    assert contacts(text).phone.value == "+17405550142"


def test_the_country_georgia_still_reads_a_georgian_number() -> None:
    text = "Nino Beridze\nTbilisi, Georgia\n555 12 34 56\nnb@example.com\n"
    assert contacts(text).phone.value == "+995555123456"


def test_a_surname_comma_given_names_first_line_is_the_name() -> None:
    text = "OKAFOR, Chinedu Emeka\n3, Itoko Avenue, Igando, Lagos\nOBJECTIVE\nTo grow.\nPhone: 08101555014\n"
    assert contacts(text, "NG").name.value == "Okafor, Chinedu Emeka"


def test_a_city_comma_state_first_line_is_no_name() -> None:
    text = "NEW YORK, New York\nJane Roe\njane.roe@example.com\n"
    assert contacts(text).name.value == "Jane Roe"


def test_labels_written_before_their_values_with_referees_last_hide_nothing() -> None:
    text = ("Tim Quinn – Data Scientist\nContact:\nClearances:\nReferees:\n"
            "m: 0421 555 014 | e: tq@example.com\nNV1 (2029)\nWill provide upon request\n")
    found = contacts(text, "AU")
    assert found.email.value == "tq@example.com" and found.phone.value == "+61421555014"


def test_a_malay_name_goes_on_with_its_patronymic_on_the_next_line() -> None:
    text = "AMIRUL HAKIM\nBIN AHMAD FAUZI\nDEVELOPER & EDUCATOR\nahakim38@example.com\n+6019-555 0142\n"
    assert contacts(text, "MY").name.value == "Amirul Hakim Bin Ahmad Fauzi"


def test_a_long_labelled_name_with_binte_is_read_whole() -> None:
    text = "NAME\nSiti Nur Binte Raja Muda Alam Shah\nCONTACT\n98335484\nsiti.n@example.com\n"
    assert contacts(text, "SG").name.value == "Siti Nur Binte Raja Muda Alam Shah"


def test_a_one_word_name_far_below_the_contact_details_is_read_when_nothing_else_is() -> None:
    text = ("P R O F I L E\nI consider myself a\nresponsible person.\nC O N T A C T  M E\n9311625082\n"
            "akomalkomal54@example.com\nFaridabad, Haryana\nL A N G U A G E S\nE D U C A T I O N\n"
            "HTML\nCSS\nMicrosoft office.\nKOMAL\nSecondary education from\nHBSE in 2019.\n")
    found = contacts(text, "IN")
    assert found.name.value == "Komal" and found.name.confidence <= 0.5


def test_a_one_word_skill_the_email_happens_to_contain_is_no_name_when_a_name_is_found() -> None:
    text = "Jane Roe\njava.roe@example.com\n(740) 555-0142\nSKILLS\nJava\nPython\n"
    assert contacts(text).name.value == "Jane Roe"
