"""General rules found on a twenty-third held-out set (after its first run), on invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts


def test_a_letter_spaced_label_after_a_chinese_name_is_not_part_of_it() -> None:
    text = ("个人简历 求职意向：前端\n姓 名：王小明 性 别：男\n年 龄：22 岁 学 历：本科\n"
            "手 机：13812345678 邮 箱：wxm@example.com\n")
    assert extract_contacts(text, default_region="CN").name.value == "王小明"
    plain = "姓名：王小明 性别：男\n手机：13812345678\n"  # an unspaced label was already cut before it
    assert extract_contacts(plain, default_region="CN").name.value == "王小明"


def test_a_korean_name_a_few_lines_over_the_phone_and_email_in_the_middle_of_the_page() -> None:
    head = "입사지원서\n학력\n한국대학교\n대학교(4년)\n졸업\n경력\n신입\n자격증 / 어학\nTOEIC 820점\n"
    tail = "김민지\n \n여 1998년 (만 25세)\n010-2345-6789휴대폰 minji@example.comEmail\n서울 관악구주소\n"
    assert extract_contacts(head + tail, default_region="KR").name.value == "김민지"
    far = "김민지\n학력\n한국대학교\n졸업\n010-2345-6789휴대폰 minji@example.comEmail\n"  # four lines over it
    assert extract_contacts(head + far, default_region="KR").name.value != "김민지"


def test_a_japanese_name_over_its_contacts_keeps_the_space_between_family_and_given_name() -> None:
    text = ("履 歴 書\n学歴\n高等学校 卒業\n職歴\nなし\n鈴木 花子\n(携帯電話) 080-1234-5678\n"
            "hanako@example.com\n")
    assert extract_contacts(text, default_region="JP").name.value == "鈴木 花子"


def test_a_degree_or_a_school_status_over_the_contacts_is_no_name() -> None:
    assert extract_contacts("王小明\n男\n25岁\n本科\n软件工程\nwxm@example.cn\n").name.value == ""
    head = "입사지원서\n학력\n한국대학교\n"
    assert extract_contacts(head + "졸업\n010-2345-6789 minji@example.com\n").name.value == ""


def test_an_address_after_a_spanish_references_label_is_a_referee_s() -> None:
    text = ("Genaro Gómez\nDirección: Calle 12, Mendoza\nTeléfono: 2625 555 0142\nExperiencia\nTienda Sol\n"
            "Referencias: ana.perez@example.com\nReferências: joao@example.org\n")
    got = extract_contacts(text, default_region="AR")
    assert got.email.value == ""
    own = text.replace("Teléfono", "Correo: genaro@example.net\nTeléfono")
    mine = extract_contacts(own, default_region="AR")
    assert mine.email.value == "genaro@example.net"
