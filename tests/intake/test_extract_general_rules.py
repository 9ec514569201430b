"""General contact rules, each asserted on synthetic text written for the rule (no resume's own strings)."""

from __future__ import annotations

import pytest

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.contact_location import address_kind
from milo_voice.intake.contact_name import name_tokens
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


# -- names -------------------------------------------------------------------------------------


def test_a_name_the_email_spells_in_full_beats_a_city_on_the_first_line() -> None:
    text = ("Springvale Heights\n+44 20 7946 0958\nmarialuisaferrant@example.com\nA motivated analyst.\n"
            "Skills\nMARIA LUISA\nFERRANT\nEducation\n")
    got = contacts(text).name
    assert got.value == "Maria Luisa Ferrant"
    assert got.confidence < 0.8 and got.reason


def test_zero_width_spaces_do_not_split_a_name_printed_over_two_lines() -> None:
    text = "CARLOS\n\u200b\n\u200b\nVELARDE\n+44 20 7946 0958\nvelarde77@example.com\nProfile\n"
    assert contacts(text).name.value == "Carlos Velarde"


def test_a_name_far_from_the_contact_block_needs_the_email_to_spell_all_of_it() -> None:
    text = ("korvath@example.com\nSummary\nI like films.\nSkills\nPython\nSQL\nGit\nExperience\n"
            "Founder of a studio 2010-2020\nLed a team of six.\nKorvath Films\nShort films.\n")
    assert contacts(text).name.value == ""


def test_a_degree_with_dots_after_the_name_is_not_part_of_it() -> None:
    assert name_tokens("Tomas Vrba B.Sc.") == ["Tomas", "Vrba"]
    assert name_tokens("Ana Ruiz Ph.D.") == ["Ana", "Ruiz"]


@pytest.mark.parametrize(("form", "name"), [
    ("Nombre Lucía Marta\nApellidos Ferrer Soto\n", "Lucía Marta Ferrer Soto"),
    ("Last name: Kowal\nFirst name: Irena\n", "Irena Kowal"),
    ("Vorname: Jonas\nNachname: Albrecht\n", "Jonas Albrecht"),
])
def test_a_form_that_prints_the_family_name_apart_gives_the_full_name(form: str, name: str) -> None:
    assert contacts(f"{form}irena@example.com\nEducation\n").name.value == name


@pytest.mark.parametrize("top", ["王小明", "王 小 明", "김민준"])
def test_a_chinese_or_korean_name_on_the_first_line_above_the_contacts_is_read(top: str) -> None:
    got = contacts(f"{top}\n138-0013-8000 | wxm@example.cn\n教育背景\n").name
    assert got.value == "".join(top.split())
    assert got.confidence < 0.8 and got.reason


@pytest.mark.parametrize("top", ["个人信息", "产品经理", "求职意向"])
def test_chinese_headings_and_job_titles_are_not_names(top: str) -> None:
    assert contacts(f"{top}\n138-0013-8000 | wxm@example.cn\n教育背景\n").name.value == ""


def test_a_chinese_line_far_from_any_contact_is_not_a_name() -> None:
    assert contacts("王小明\n男\n25岁\n本科\n软件工程\nwxm@example.cn\n").name.value == ""


# -- phones ------------------------------------------------------------------------------------


def test_chinese_script_hints_a_chinese_mobile_number() -> None:
    prose = "熟练使用多种编程语言和数据库系统进行开发工作\n"  # 20+ Han characters
    text = f"王小明\n手 机： 13800138000 | 邮 箱： wxm@example.cn\n{prose}"
    assert contacts(text).phone.value == "+8613800138000"


def test_a_national_number_possible_nowhere_is_kept_when_it_stands_alone() -> None:
    got = contacts("Lola Prieto\n611223344\nlola@example.com\nPerfil\n").phone
    assert got.value == "611223344" and got.confidence < 0.8
    assert contacts("Lola Prieto\nlola@example.com\nPerfil\nWe served 611223344 meals.\n").phone.value == ""


# -- locations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "kind"), [
    ("12 cours Gambetta", "street"),
    ("Rue des Lilas 34", "street"),
    ("Via Garibaldi 7", "street"),
    ("Springfield, MA, 01101", "place"),
    ("Ouagadougou, Burkina Faso", "place"),
    ("Rabat, Maroc", "place"),
    ("Hamburg, Deutschland", "place"),
    ("Senior Analyst, Chad", ""),
    ("Routes and logistics 34", ""),
])
def test_address_lines_in_several_conventions(line: str, kind: str) -> None:
    assert address_kind(line) == kind


def test_a_labelled_street_continues_on_the_next_line_with_its_postcode_and_town() -> None:
    text = "Jana Novak\nAdresse: Lindenweg 3\n1010 Wien\njana@example.at\nAusbildung\n"
    assert contacts(text).location.value == "Lindenweg 3, 1010 Wien"


def test_a_street_line_and_a_postcode_line_make_one_address() -> None:
    text = "Jean Morel\n12 cours Gambetta\n33000 Bordeaux\n+33 6 12 34 56 78\njean@example.fr\nFormation\n"
    assert contacts(text).location.value == "12 cours Gambetta, 33000 Bordeaux"


def test_an_icon_glyph_name_with_pilcrows_is_a_separator() -> None:
    text = "Jan Vos\n\u2642\u00b6ap-\u00b6arker-alt Lindenweg 3, 1010 Wien\njan@example.at\nAusbildung\n"
    assert contacts(text).location.value == "Lindenweg 3, 1010 Wien"
