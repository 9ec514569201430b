"""General rules found on an eighteenth held-out set (after its first run), on invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.contact_layout import heading_kind
from milo_voice.intake.contact_name_spelt import initials_spelt
from milo_voice.intake.extraction_types import Contacts
from milo_voice.intake.word_spacing import respace_page, suspect


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


def test_two_text_boxes_pypdf_glued_are_split_where_pdfminer_ends_a_line() -> None:
    pypdf = "MARTA RUIZ\nViedma - Río Negroliaimasoft@example.com 299-4643957\n"
    pdfminer = "MARTA RUIZ\nViedma - Río Negro\nliaimasoft@example.com\n299-4643957\n"
    assert suspect(pypdf)  # an address that starts with a capitalised word is read again
    fixed = respace_page(pypdf, pdfminer)
    assert "Río Negro liaimasoft@example.com" in fixed
    assert contacts(fixed, "AR").email.value == "liaimasoft@example.com"


def test_a_word_pdfminer_prints_whole_is_not_split() -> None:
    assert respace_page("Pedro.obando@example.com\n", "Pedro\nPedro.obando@example.com\n") == (
        "Pedro.obando@example.com\n")


def test_a_department_over_the_name_is_not_the_name() -> None:
    text = ("AREA DE SISTEMAS\n\nPedro Eduardo Obando Medina\nDesarrollador de soluciones digitales.\n"
            "+ CONTACTO\nTelephone\n+58 414 555 0142\nEmail\npobando@example.com\n")
    assert contacts(text, "VE").name.value == "Pedro Eduardo Obando Medina"


def test_a_patronymic_on_the_line_under_the_name_belongs_to_it() -> None:
    text = ("Маматкаримов Бегзат\nУлугбекович\nМужчина, 20 лет, родился 21 июня 2004\n"
            "+7 (705) 555 0142\nbegzat.dev@example.com\n")
    assert contacts(text, "KZ").name.value == "Маматкаримов Бегзат Улугбекович"


def test_a_tracked_name_far_down_is_read_when_the_address_spells_it_another_way() -> None:
    text = ("BE QA TODAY COURSES\nGREEN FOREST SCHOOL\nMobile number: +380 68 055 0142\n"
            "Email: bogdanacelombitko@example.com\nAdress: Kharkiv, Ukraine\nLANGUAGES\nUkrainian\n"
            "B O H D A N A\nC H E L O M B Y T K O\nJ U N I O R  Q A  E N G I N E E R\n")
    assert contacts(text, "UA").name.value == "Bohdana Chelombytko"
    unlike = text.replace("bogdanacelombitko", "qa.jobs.kharkiv")
    assert contacts(unlike, "UA").name.value != "Bohdana Chelombytko"


def test_about_me_in_spanish_and_portuguese_is_a_heading() -> None:
    for line in ("SOBRE MI", "Sobre mí", "Acerca de mí", "Sobre mim", "Datos de contacto"):
        assert heading_kind(line), line
    assert not heading_kind("De la Cruz María")


def test_about_me_over_the_summary_is_not_the_name() -> None:
    text = ("SOBRE MI\nSoy un graduado con pasión por la programación.\nAPTITUDES\n▪ Responsabilidad\n"
            "DANIEL PIZARRO GALLEGO\nGraduado en Ingeniería Informática\n+34 648 555 142\nMadrid, España\n")
    assert contacts(text, "ES").name.value == "Daniel Pizarro Gallego"


def test_a_two_line_name_the_address_spells_by_initials_is_joined() -> None:
    assert initials_spelt(["EDISON", "GEOVANNY", "GUAICHICO", "PIÑAN"], ["egguaichicop"])
    assert not initials_spelt(["EDISON", "GEOVANNY", "GUAICHICO", "PIÑAN"], ["egguaichicopx"])
    assert not initials_spelt(["Ana", "Ruiz"], ["ar"])  # initials alone spell too much
    text = ("EDISON GEOVANNY\nGUAICHICO PIÑAN\n\nPERFIL\nIngeniero de Software.\nTELÉFONO:\n0985550142\n"
            "CORREO ELECTRÓNICO:\negguaichicop@example.edu.ec\n")
    assert contacts(text, "EC").name.value == "Edison Geovanny Guaichico Piñan"


def test_national_ids_with_a_check_digit_are_not_phones() -> None:
    labelled = ("EDISON GUAICHICO\nDATOS PERSONALES\nCÉDULA:\n100466013-8\nTELÉFONO:\n0985550142\n"
                "egp@example.com\n")
    found = contacts(labelled, "EC")
    assert [p for p in found.phones if "100466013" in p] == []
    assert found.phone.value.endswith("985550142")
    rut = "Enzo Toledo Venegas\n21.078.065-3\nenzo@example.cl\n+56 9 6635 5887\n"
    found = contacts(rut, "CL")
    assert [p for p in found.phones if "21078065" in p.replace(".", "")] == []
    assert found.phone.value == "+56966355887"
