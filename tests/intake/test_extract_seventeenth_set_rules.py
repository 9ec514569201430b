"""General rules found on a seventeenth held-out set (after its first run), on invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


def test_a_label_wrapped_over_two_cells_is_not_the_name() -> None:
    text = ("HOJA DE VIDA\nDATOS PERSONALES\nNOMBRES\nY APELLIDOS\nJUAN CARLOS PÉREZ GÓMEZ\n"
            "CÉDULA 1.020.304.050\nCELULAR 310 555 0142\nCORREO jcperez@example.com\n")
    assert contacts(text, "CO").name.value == "Juan Carlos Pérez Gómez"


def test_a_label_continued_on_the_value_line_is_left_out() -> None:
    text = "NOMBRES\nY APELLIDOS: Ana María Ruiz\nCorreo: aruiz@example.com\n"
    assert contacts(text, "CO").name.value == "Ana María Ruiz"


def test_a_form_s_sex_field_is_not_a_name() -> None:
    text = ("АВТОБИОГРАФИЯ\nПол Жена\nДата на раждане 01/02/1998\nГражданство българско\n"
            "Мария Петрова\nТелефон +359 88 555 0142\nmaria.petrova@example.com\n")
    assert contacts(text, "BG").name.value == "Мария Петрова"


def test_field_labels_and_values_never_make_a_name() -> None:
    for line in ("Sex Male", "Gender Female", "Sexo Femenino", "Geschlecht Weiblich", "Nationality Kenyan",
                 "Nombres Apellidos", "Marital Status Single"):
        text = f"{line}\nAchieng Otieno\nPhone +254 712 555 014\nachieng@example.com\n"
        assert contacts(text, "KE").name.value == "Achieng Otieno", line


def test_a_field_of_study_over_the_name_is_not_the_name() -> None:
    text = ("Computer Sciences\nMuhammad Usman Tariq\nLahore, Pakistan\n+92 300 5550142\n"
            "usman.tariq@example.com\n")
    assert contacts(text, "PK").name.value == "Muhammad Usman Tariq"


def test_a_course_s_name_is_not_the_candidate_s() -> None:
    text = ("German Language Classroom\nAkoth Sharon Atieno\nNairobi, Kenya\n+254 722 555 014\n"
            "sharon.akoth@example.com\n")
    assert contacts(text, "KE").name.value == "Akoth Sharon Atieno"


def test_bulgarian_europass_labels_and_headings() -> None:
    form = ("Автобиография\nЛична информация\nСобствено и фамилно име МАРИЯ ИВАНОВА ПЕТРОВА\n"
            "Адрес гр. София, ул. Витоша 5\nТелефон 0885550142\nЕлектронна поща maria.petrova@example.com\n"
            "Дата на раждане 01.02.1998\nПол Жена\n")
    found = contacts(form, "BG")
    assert found.name.value == "Мария Иванова Петрова"
    assert found.email.value == "maria.petrova@example.com"
    assert contacts("ЛИЧНА ИНФОРМАЦИЯ Мария Петрова\n+359 88 555 0142\nmaria.p@example.com\n",
                    "BG").name.value == "Мария Петрова"
    assert contacts("Име Мария Петрова\nПол Жена\nmaria@example.com\n", "BG").name.value == "Мария Петрова"
