"""General rules found on a fifteenth held-out set (after its first run), on invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


def test_a_year_alone_over_a_number_is_no_area_code() -> None:
    text = "Awa Diop\nLicence en gestion\n2023-2025\n2022\n784850805\nawa.diop@example.com\n"
    assert contacts(text, "SN").phone.value == "+221784850805"
    assert contacts(text).phone.value == "784850805"  # no country named: kept as printed, without the year


def test_an_area_code_alone_over_its_number_is_still_joined() -> None:
    text = "Jane Roe\n(617)\n291-4330\njane.roe@example.com\n"
    assert contacts(text).phone.value == "+16172914330"


def test_a_five_word_name_over_two_lines_is_read_whole_when_the_address_spells_it() -> None:
    text = ("AMADOU EL HADJ\nBOUBA NGANDAKOUA\nTel: (+237) 698 34 06 64\n"
            "E-mail: amadouelhadjboubangandakou@example.com\n")
    assert contacts(text, "CM").name.value == "Amadou El Hadj Bouba Ngandakoua"


def test_a_title_under_a_three_word_name_is_not_joined() -> None:
    text = "MOHAMED EL BACHIR\nSOFTWARE TESTER\nmohamedelbachir@example.com\n"
    assert contacts(text, "CM").name.value == "Mohamed El Bachir"


def test_a_label_printed_under_its_number_labels_it() -> None:
    text = ("Contact\n077-1559327\nPhone\numeth@example.com\nEmail\nUMETH SILVA\nLanguage\n"
            "074 1681007\nSayuru Bandara\nPhone:\n076-7606711\n")
    assert contacts(text, "LK").phone.value == "+94771559327"


def test_a_label_over_a_number_of_its_own_labels_only_that_one() -> None:
    text = "Jane Roe\njane.roe@example.com\n(740) 555-0142\nMobile\n(740) 555-0199\n"
    assert contacts(text).phone.value == "+17405550199"


_VISUAL = ("محمد زكريا أحمد\n"
           "فني مساعد و سائق +966 593800619\n"
           ".الزحام وتجنب الطرق\n"
           ".المحددة المواعيد في الطلبات تسليم\n"
           ":الطلبات تسليم\n"
           "kz@example.com\n")


def test_arabic_lines_that_begin_with_their_stop_have_their_words_put_back_in_order() -> None:
    assert contacts(_VISUAL, "SA").name.value == "أحمد زكريا محمد"


def test_arabic_lines_in_reading_order_keep_their_words() -> None:
    text = ("أحمد زكريا محمد\n+966 593800619\nالطرق وتجنب الزحام.\nتسليم الطلبات في المواعيد المحددة.\n"
            "تسليم الطلبات:\nkz@example.com\n")
    assert contacts(text, "SA").name.value == "أحمد زكريا محمد"


def test_an_arabic_name_over_a_title_and_a_heading_is_read_without_contacts_near() -> None:
    text = ("رحاب عبدالله خالد\nإدارة أعمال\nالمقدمة\nتسخير ما امتلكه من إحساس قوي من المسؤولية.\n"
            "الخبرات\n- مسؤولة تسويق - شركة لمدة سنة.\nالتعليم\n- بكالوريوس إدارة أعمال\n"
            "التواصل\nrr.work@example.com\n0552208269\n")
    assert contacts(text, "SA").name.value == "رحاب عبدالله خالد"


def test_a_number_beside_a_schools_shared_mailbox_is_the_schools() -> None:
    text = ("Personal Information\nNome: João Oliveira\nLocalidade: Santarém\nEmail: joao1990@example.com\n"
            "School\nEscola Superior de Gestão\nApartado 295, 2001-904 Santarém\nTelefone: 243 303 200\n"
            "E-mail (geral): correio@school.example.pt\n")
    found = contacts(text, "PT")
    assert found.phone.value == "" and found.emails == ("joao1990@example.com",)


def test_a_candidates_own_contact_address_and_number_are_kept() -> None:
    text = "Jane Roe\ncontact@janeroe.example.com\n(740) 555-0142\nhr@employer.example.com\n"
    found = contacts(text)
    assert found.email.value == "contact@janeroe.example.com" and found.phone.value == "+17405550142"
