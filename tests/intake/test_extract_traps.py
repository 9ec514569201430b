"""Contact extraction on synthetic resume texts built for one trap each: dates, ORCID ids, DOIs, fax
and masked numbers are not phones; co-authors', referees' and URL "@"s are not the candidate's
emails; headings and job titles are not names; national numbers become E.164 with the default
region, and say so."""

from __future__ import annotations

import pytest

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.extraction_types import Contacts, FieldGuess


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


# -- phones ------------------------------------------------------------------------------------


def test_a_national_number_is_read_with_the_default_region_and_says_so() -> None:
    uk = contacts("Sarah Jones\n020 7946 0958\nsarah.jones@example.com\nExperience\n", region="GB")
    assert uk.phone.value == "+442079460958"
    assert uk.phone.confidence < 0.8 and "no country code" in uk.phone.reason and "GB" in uk.phone.reason
    us = contacts("Sarah Jones\n(212) 555-0123 | sarah.jones@example.com\nExperience\n")
    assert us.phone.value == "+12125550123"
    assert us.phones == ("+12125550123",)


def test_the_same_national_number_depends_on_the_region() -> None:
    text = "Sarah Jones\nTel: 030 1234567\nsarah@example.com\nSkills\n"
    assert contacts(text, region="DE").phone.value == "+49301234567"
    assert contacts(text, region="US").phone.value != "+49301234567"


def test_an_international_number_is_confident_whatever_the_region() -> None:
    for printed in ("+44 20 7946 0958", "0044 20 7946 0958", "(+44) 20 7946 0958"):
        got = contacts(f"Sarah Jones\nMobile: {printed}\nExperience\n", region="US").phone
        assert (got.value, got.confidence >= 0.8) == ("+442079460958", True), printed


def test_a_document_hint_reads_a_foreign_national_number() -> None:
    got = contacts("Hans Weber\nTel. 089 1234567\nhans.weber@web.de\nBerufserfahrung\n").phone
    assert got.value == "+49891234567"
    assert "DE" in got.reason and ".de" in got.reason


@pytest.mark.parametrize("trap", [
    "2019-2021", "2015 – 2019", "01/2019 – 12/2021", "12.05.1995", "Jan 2019 - Dec 2021",
    "ORCID 0000-0002-1825-0097", "orcid.org/0000-0002-1825-0097", "doi:10.1109/5.771073",
    "https://doi.org/10.1103/PhysRevLett.116.061102", "ISBN 978-3-16-148410-0", "〒100-0001",
    "Zip: 10001-1234", "Student ID: 2019012345", "github.com/jdoe/repo/commit/2125550123",
])
@pytest.mark.parametrize("region", ["US", "DE", "JP"])
def test_dates_ids_and_codes_are_never_phones(trap: str, region: str) -> None:
    text = f"Jane Doe\n{trap}\njane.doe@example.com · Phone: {trap}\nExperience\nWork 2015-2019, {trap}\n"
    got = contacts(text, region=region)
    assert got.phone.value == "" and got.phones == (), trap


def test_a_fax_is_not_the_phone() -> None:
    same_line = contacts("Jane Doe\nFax: +44 20 7946 0959 | Tel: +44 20 7946 0958\njane@doe.org\nSkills\n")
    assert same_line.phone.value == "+442079460958"
    assert same_line.phones == ("+442079460958",)
    label_above = contacts("Jane Doe\nFAX\n+44 20 7946 0959\njane@doe.org\nSkills\n")
    assert label_above.phone.value == ""
    suffix = contacts("Jane Doe\n+44 20 7946 0959 (fax)\n+44 20 7946 0958 (mobile)\njane@doe.org\nSkills\n")
    assert suffix.phones == ("+442079460958",)


@pytest.mark.parametrize("masked", ["+1 (212) ***-**34", "0120-000-XXX", "212-555-xxxx", "XXX-XXX-1234"])
def test_a_masked_number_is_not_a_phone_to_dial(masked: str) -> None:
    got = contacts(f"Jane Doe\nPhone: {masked}\njane@doe.org\nSkills\n")
    assert got.phone.value == ""
    assert "masked" in got.phone.reason


def test_a_number_valid_nowhere_is_kept_only_when_labelled_and_flagged() -> None:
    labelled = contacts("Jane Doe\nMobile: 0170 567890\njane@doe.org\nSkills\n")
    assert labelled.phone.value == "0170 567890"
    assert labelled.phone.confidence < 0.8 and "kept as printed" in labelled.phone.reason
    in_prose = contacts("Jane Doe\njane@doe.org\nSkills\nProcessed 0170 567890 records a day.\n")
    assert in_prose.phone.value == ""


def test_referees_phones_are_not_the_candidates() -> None:
    got = contacts("Tom Jones\ntom@jones.com\nExperience\nACME 2010-2020\nReferences\n"
                   "Bob Boss, +1 212 555 0188, bob@acme.com\n")
    assert got.phone.value == "" and got.phones == ()
    assert got.emails == ("tom@jones.com",)


# -- emails ------------------------------------------------------------------------------------


def test_co_authors_emails_are_not_the_candidates() -> None:
    text = ("Maria Garcia\nmaria.garcia@uni.edu | +1 650 253 0000\nResearch Interests\nQuantum optics\n"
            "Publications\nM. Garcia, J. Lee (jlee@mit.edu), K. Wu (kwu@caltech.edu). A paper. 2020.\n"
            "Selected Talks\nJoint talk with P. Smith <psmith@ox.ac.uk>\n")
    got = contacts(text)
    assert got.email.value == "maria.garcia@uni.edu"
    assert got.emails == ("maria.garcia@uni.edu",)


def test_an_author_list_on_one_line_is_not_the_candidates() -> None:
    text = ("Maria Garcia\nmaria@garcia.dev\nSkills\nWith a@x.org, b@y.org, c@z.org on the team.\n")
    assert contacts(text).emails == ("maria@garcia.dev",)


def test_an_at_sign_in_a_url_or_a_handle_is_not_an_email() -> None:
    text = ("Jane Doe\nhttps://medium.com/@janedoe | Twitter: @jane_doe | https://user@host.example.com/x\n"
            "Phone: +44 20 7946 0958\nSkills\n")
    got = contacts(text)
    assert got.email.value == "" and got.emails == ()


def test_the_first_email_of_the_contact_block_is_the_candidates_and_all_are_listed() -> None:
    text = "Jane Doe\nwork: jane@acme.com | home: Jane.Doe@Gmail.COM\nSkills\nmailto:jane@acme.com\n"
    got = contacts(text)
    assert got.email.value == "jane@acme.com"
    assert got.emails == ("jane@acme.com", "Jane.Doe@gmail.com")


def test_an_email_glued_to_the_next_label_is_cut_at_the_label() -> None:
    got = contacts("Peter Parker\nEmail:peter.parker@gmail.comPhone:+1 212 555 0123\nEducation\n")
    assert got.email.value == "peter.parker@gmail.com"


# -- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "name"), [
    ("Curriculum Vitae\nJOHN SMITH\njohn@smith.io\nEducation\n", "John Smith"),
    ("RESUME\nMary-Jane O'CONNOR\nEducation\n", "Mary-Jane O'Connor"),
    ("Senior Software Engineer\nJane Doe\njane@doe.org\nExperience\n", "Jane Doe"),
    ("John Smith – Senior Software Engineer\njohn@x.io\nSkills\n", "John Smith"),
    ("Jane Doe, PhD\nDepartment of Physics\njane@uni.edu\nResearch\n", "Jane Doe"),
    ("Dr. Sarah Lee\nsarah@lee.dev\nSkills\n", "Sarah Lee"),
    ("Иван Петров\nivan.petrov@mail.ru · +7 912 345-67-89\nОбразование\n", "Иван Петров"),
    ("履歴書\n氏名 山田 太郎\nyamada@example.jp\n", "山田 太郎"),
    ("Page 1 of 2\nLudwig van Beethoven\nludwig@bonn.de\nExperience\n", "Ludwig van Beethoven"),
])
def test_the_name_is_the_candidates_as_printed_in_normal_capitalisation(text: str, name: str) -> None:
    assert contacts(text).name.value == name


def test_a_one_word_line_is_a_name_only_when_the_email_contains_it() -> None:
    assert contacts("Alice\nalice@wonderland.com\nSkills\n").name.value == "Alice"
    assert contacts("Adventurer\nalice@wonderland.com\nSkills\n").name.value == ""


def test_a_name_printed_over_two_lines_is_joined_when_the_email_agrees() -> None:
    got = contacts("ZAW MIN\nTHANT\nDATA ENGINEER\nzawminthant@gmail.com\nSkills\n")
    assert got.name.value == "Zaw Min Thant"


def test_two_different_names_at_the_top_lower_the_confidence_and_say_why() -> None:
    got = contacts("Jane Doe\nJohn Smith\n+44 20 7946 0958\nSkills\n").name
    assert got.value == "Jane Doe"
    assert got.confidence < 0.8 and "two different names" in got.reason


def test_headings_companies_and_countries_are_not_names() -> None:
    got = contacts("Work Experience\nAcme Corporation\nUnited Kingdom\nSkills\n")
    assert got.name.value == "" and got.name.reason


# -- location ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "location"), [
    ("Jane Doe\nLocation: Austin, TX\njane@doe.org\nSkills\n", "Austin, TX"),
    ("Jane Doe\nSeattle, WA | (206) 555-0100 | jane@doe.org\nSkills\n", "Seattle, WA"),
    ("Hans Weber\nHauptstraße 5\n80331 München\nDeutschland\nhans@weber.de\nSkills\n",
     "Hauptstraße 5, 80331 München, Deutschland"),
    ("Claire Dubois\n12 rue de la Paix, 75002 Paris\nclaire@dubois.fr\nExpérience\n",
     "12 rue de la Paix, 75002 Paris"),
    ("Raj Kumar\nDelhi, India Email me on Indeed\nSkills\n", "Delhi, India"),
])
def test_the_location_is_the_contact_blocks(text: str, location: str) -> None:
    assert contacts(text).location.value == location


def test_job_and_school_cities_are_not_the_location() -> None:
    text = ("Jane Doe\njane@doe.org | +1 212 555 0123\nExperience\nGoogle | Mountain View, CA\n"
            "Education\nCornell University | Ithaca, NY\n")
    got = contacts(text).location
    assert got.value == "" and got.reason


# -- the guesses themselves ----------------------------------------------------------------------


def test_empty_text_gives_empty_guesses_with_reasons() -> None:
    got = contacts("  \n\f\n")
    for guess in (got.name, got.email, got.phone, got.location):
        assert guess.value == "" and guess.confidence == 0.0 and guess.reason
    assert got.emails == () and got.phones == ()


def test_a_doubtful_guess_must_carry_a_reason() -> None:
    with pytest.raises(ValueError, match="reason"):
        FieldGuess("x", 0.5, "")
    with pytest.raises(ValueError, match="confidence"):
        FieldGuess("x", 1.5, "")
    assert FieldGuess("x", 0.9, "").reason == ""


def test_an_unknown_default_region_is_refused() -> None:
    with pytest.raises(ValueError, match="region"):
        extract_contacts("Jane Doe", default_region="XX")


def test_a_references_line_gives_neither_its_email_nor_its_phone() -> None:
    """"References: Pat Lee, pat.lee@..., +1 ..." on one line (no heading of its own) is a referee's."""
    text = ("Jordan Q. Rivera\nWarehouse lead\n"
            "Reach me: jordan dot rivera at example dot com | cell 512 555 0142\n"
            "EXPERIENCE\nForklift operator, 2019-2024\n"
            "References: Pat Lee, pat.lee@example.org, +1 512 555 0199\n")
    contacts = extract_contacts(text)
    assert "pat.lee@example.org" not in contacts.emails
    assert contacts.phones == ("+15125550142",)


def test_icons_read_by_ocr_become_separators_not_digits() -> None:
    from milo_voice.intake.extract import clean_ocr

    line = "\u00a9 support@qwikresume.com \\ (123) 4567899 9 LosAngeles"  # pin icon read as "9"
    assert clean_ocr(line) == "\u00a9 support@qwikresume.com | (123) 4567899 | LosAngeles"
    assert clean_ocr("+33 6 12 34 56 78 Paris") == "+33 6 12 34 56 78 Paris"  # real one-digit groups stay
    assert clean_ocr("Suite 9, Main St") == "Suite 9, Main St"


@pytest.mark.parametrize(("top_line", "name"), [
    ("Sourabh Bajaj Email: sourabh@sourabhbajaj.com", "Sourabh Bajaj"),  # a right-aligned item glued on
    ("PERSONAL INFORMATION Betty Smith", "Betty Smith"),  # a heading printed on the name's line
    ("JAN KÜSTER RESUME", "Jan Küster"),  # the document's title after the name
])
def test_the_name_is_found_on_a_line_it_shares(top_line: str, name: str) -> None:
    text = (f"{top_line}\nMobile: +44 7700 900123\nbetty.sourabh.jan@example.com\n"
            "EXPERIENCE\nWelder, 2019-2024\n")
    assert extract_contacts(text).name.value == name


def test_glyph_names_of_icon_and_numeral_fonts_are_read_as_what_they_print() -> None:
    from milo_voice.intake.contact_layout import glyph_names

    assert glyph_names("/mobile_phone +/four.lnum/nine.lnum /one.lnum/seven.lnum") == " |  +49 17"
    assert glyph_names("/map_marker Bremen, Germany").strip(" |") == "Bremen, Germany"
    assert glyph_names("https://x.org/about and/or 1/2") == "https://x.org/about and/or 1/2"


def test_a_japanese_long_vowel_mark_between_digits_is_a_dash() -> None:
    text = "Yoichi Qi\n電話: 080ー1234ー5678\nyoichi@example.jp\n"
    assert extract_contacts(text, default_region="JP").phone.value == "+818012345678"


def test_only_abbreviations_after_a_comma_count_as_degrees() -> None:
    from milo_voice.intake.contact_name import name_tokens

    assert name_tokens("Jane Doe, PhD") == ["Jane", "Doe"]
    assert name_tokens("John Smith, Jr.") == ["John", "Smith"]
    assert name_tokens("Hung Commune ,Binh Chan") is None  # an address line, not "Hung Commune, (degree)"
