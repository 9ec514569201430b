"""General rules found on a nineteenth held-out set (after its first run), on invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.contact_layout import Layout
from milo_voice.intake.contact_name_spelt import profile_slugs
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


def test_a_given_name_that_is_a_country_opens_the_first_line() -> None:
    text = "Israel Berlanga\n7514 Fur Market Drive Houston, TX 77064| (254)555-0142 | iberlanga@example.com\n"
    assert contacts(text).name.value == "Israel Berlanga"
    place = "Israel Tel Aviv\nDana Levi\n+972 50 555 0142\ndana.levi@example.com\n"
    assert contacts(place, "IL").name.value == "Dana Levi"


def test_a_heading_left_of_the_first_label_is_not_part_of_it() -> None:
    text = ("CURRICULUM VITAE\nPERSONAL DETAILS  Name:                 Keoabetswe\n"
            "Surname:            Nthite\nPhone numbers:      076 555 0142\n"
            "Email:              keo@example.com\n")
    assert contacts(text, "ZA").name.value == "Keoabetswe Nthite"


def test_a_form_value_s_full_stop_is_not_the_name_s() -> None:
    text = ("Curriculum Vitae\nDatos Personales:\nNombre:\t\t\tGiancarlo Tomás Medina Orosco.\n"
            "DNI:\t\t75141023.\nNúmero celular:\t\t922 555 142.\n"
            "Correo electrónico:\t\tgmedina@example.com\n")
    assert contacts(text, "PE").name.value == "Giancarlo Tomás Medina Orosco"


def test_first_names_label_and_the_surname_beside_it() -> None:
    text = "Surname     Steyn\nFirst names     Bernhardt Sydney\nEmail address     bs@example.com\n"
    assert contacts(text, "ZA").name.value == "Bernhardt Sydney Steyn"


def test_the_document_title_before_the_name_on_its_line() -> None:
    text = "CV - Bernhardt Steyn\nTelephone     +27 74 555 0142\nEmail address     bsteyn@example.com\n"
    assert contacts(text, "ZA").name.value == "Bernhardt Steyn"


def test_a_linkedin_address_wrapped_before_its_slug_vouches_for_the_name() -> None:
    text = ("S O B R E  M I :\nC O N T A C T O :\nLINA CARDOZO\nADMINISTRADORA -\nDESARROLLADORA WEB JUNIOR\n"
            "Soy administradora de empresas.\nLinakrdozo13@example.com\nwww.linkedin.com/in\n"
            "/Lina-Cardozo-Rosas\n")
    assert contacts(text, "CO").name.value == "Lina Cardozo"
    assert profile_slugs(Layout.of(text).lines) == ["linacardozorosas"]
    assert "/map-marker-alt" not in Layout.of("/map-marker-alt Bogotá\n").lines[0].text  # icon names still go


def test_a_year_and_a_span_of_months_is_not_a_phone() -> None:
    text = "王小明\n設計史概論 課程助教\n2020 10-12\n2021 3-5\n0968 555 014 wang@example.com\n"
    found = contacts(text, "TW")
    assert not [p for p in found.phones if p.startswith("2020") or "2020" in p[:6]]
    assert found.phone.value == "+886968555014"


def test_an_indian_city_reads_a_national_mobile_as_indian() -> None:
    text = ("RESUME\nFIROJ AHMAD\nEmail id: fahmad@example.com\nMobile No: 8287555230.\n"
            "Address:- Behta Hazipur Loni,\nGhaziabad,U.P.\n")
    assert contacts(text).phone.value == "+918287555230"


def test_referees_under_a_tracked_heading_are_not_the_candidate_s() -> None:
    text = ("Esma Azra Şahin\n+90 553 555 13 43\nesma@example.com\nEĞİTİM\nAnkara Üniversitesi\n"
            "R E F E R A N S L A R\nAhmet Yılmaz\n+90 507 555 86 13\n")
    found = contacts(text, "TR")
    assert found.phone.value == "+905535551343"
    assert not [p for p in found.phones if "507" in p]
