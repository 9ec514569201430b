"""General rules found on a thirteenth held-out set (after its first run), on invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


def test_a_slovak_heading_before_the_name_on_its_line_is_dropped() -> None:
    text = ("Životopis\nOSOBNÉ ÚDAJE Jana Nováková\nHlavná 31, 909 01 Skalica\n+421 907 555 014\n"
            "jn@example.com\n")
    assert contacts(text).name.value == "Jana Nováková"


def test_a_greek_letter_spaced_heading_is_no_name() -> None:
    text = "Π Ρ Ο Σ Ω Π Ι Κ Ο  Π Ρ Ο Φ Ι Λ\nΕίμαι μηχανικός.\nnikos.p@example.com\n"
    assert contacts(text).name.value == ""


def test_an_initial_glued_to_the_next_word_starts_a_name() -> None:
    text = ("MD.KARIM HOSSAIN\nCurriculum Vitae\nDhaka – 1216, Bangladesh\n(+88) 01812 555014\n"
            "kh@example.com\n")
    assert contacts(text).name.value == "Md. Karim Hossain"


def test_a_degree_after_a_name_is_not_split_like_an_initial() -> None:
    assert contacts("Jane Doe B.Sc.\njane.doe@example.com\n").name.value == "Jane Doe"


def test_a_tex_accent_set_apart_from_its_word_is_joined() -> None:
    text = "Crist´obal Vargas Sep ´ulveda\n✉ cvs@example.com\nEducaci´on\n"
    assert contacts(text).name.value == "Cristóbal Vargas Sepúlveda"


def test_a_number_whose_groups_are_one_per_line_after_a_plus_is_read() -> None:
    text = "Jan Novák\nKONTAKT\njan.novak@example.com\n+\n420\n608\n555\n197\nGitHub\n"
    assert contacts(text).phone.value == "+420608555197"


def test_a_column_of_bare_numbers_is_no_phone() -> None:
    text = "Jan Novák\nKONTAKT\njan.novak@example.com\nZNÁMKY\n12\n345\n678\n90\n"
    assert contacts(text).phone.value == ""


def test_a_plus_set_apart_from_the_country_code_is_read() -> None:
    text = "Jan Novák\njan.novak@example.com | + 420 608 555 197\n"
    assert contacts(text).phone.value == "+420608555197"
