"""General rules found on a tenth held-out set (after its first run), on invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.contact_name import name_tokens
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


def test_a_phone_between_box_drawing_separators_and_an_email_is_read() -> None:
    text = "JANE ROE\n12 Elm St│Springfield, MO 65801│417-555-0142│jane.roe@example.com\n\nEDUCATION\n"
    found = contacts(text)
    assert found.phones == ("+14175550142",)
    assert found.emails == ("jane.roe@example.com",)


def test_a_phone_wrapped_after_its_area_code_is_joined() -> None:
    text = "Mike\nO’Neil\nmoneil@example.com\n(617)\n555-0142\nSKILLS\n"
    found = contacts(text)
    assert found.phones == ("+16175550142",)
    assert found.name.value == "Mike O’Neil"


def test_an_area_code_alone_is_not_joined_to_a_year_range_below() -> None:
    text = "Mike O’Neil\nmoneil@example.com\n(617)\n2019 - 2021\n"
    assert contacts(text).phones == ()


def test_an_address_cut_inside_its_domain_is_joined_and_vouches_for_the_name() -> None:
    text = "\n\nAmani\nOtieno\nExperience\nTutor\n\notienoamani23@outl\nook.com\n+254 712 555 010\n"
    found = contacts(text, "KE")
    assert found.emails == ("otienoamani23@outlook.com",)
    assert found.name.value == "Amani Otieno"


def test_a_degree_after_the_name_without_a_comma_is_not_part_of_it() -> None:
    assert name_tokens("Andrew Smith MEng") == ["Andrew", "Smith"]
    assert name_tokens("Priya Raman MSc") == ["Priya", "Raman"]
    assert name_tokens("Jack Ma") == ["Jack", "Ma"]
    assert name_tokens("JACK MA") == ["JACK", "MA"]


def test_two_national_numbers_printed_with_a_slash_between_are_two_numbers() -> None:
    text = "Thandi Dlamini\nMbabane\nCell: 7838 6941 / 7908 7210\ntdlamini@example.com\n"
    found = contacts(text)
    assert found.phones == ("7838 6941", "7908 7210")
    assert found.phone.value == "7838 6941" and found.phone.confidence < 0.8


def test_a_referees_heading_glued_to_the_first_referees_name_still_opens_their_section() -> None:
    text = ("Thandi Dlamini Mbabane Eswatini   7838 6941   tdlamini@example.com\nAbout Me\nNurse\n"
            "References Sipho Nkosi\nPhone: 7626 3308\n")
    found = contacts(text)
    assert found.phones == ("+26878386941",)
    assert "(from a country or city named in the contact block)" in found.phone.reason


def test_a_big_city_with_its_postcode_tells_the_country_of_a_national_number() -> None:
    text = "ANIL PATIL\nFlat 12, Shivaji nagar, Pune - 411005\n"
    text += "phone 9822012345 ✉ anilpatil@example.com\nEducation\n"
    found = contacts(text)
    assert found.phones == ("+919822012345",)
    assert "city named in the contact block" in found.phone.reason


def test_a_us_address_keeps_the_default_region() -> None:
    text = "Ann Lee\n12 Main St, Austin, TX 78701\n(512) 555-0147 | ann@example.com\n"
    assert contacts(text).phones == ("+15125550147",)
