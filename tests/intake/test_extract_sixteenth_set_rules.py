"""General rules found on a sixteenth held-out set (after its first run), on invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.extraction_types import Contacts
from milo_voice.intake.word_spacing import keeps_opening, word_per_line


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


def test_personal_statement_is_a_heading_not_a_name() -> None:
    text = ("Charlotte Elsie Abigail Roe\n6 Dashwood Close, Belton, Norfolk, NR31 9NP\n"
            "07535 555014 • shazzy@example.co.uk\nPersonal Statement\nI am a graduate.\n")
    assert contacts(text, "GB").name.value == "Charlotte Elsie Abigail Roe"


_WORDS = ("Tyler\nA.\nRoe\n451\nBudd\nRd.\nWurtsboro,\nNY\n(845)\n555-0142\ntroe@example.com\nObjective\n"
          "I\nwould\nlike\n")
_LINES = ("Tyler A. Roe\n\n451 Budd Rd. Wurtsboro, NY\n(845) 555-0142\ntroe@example.com\nObjective\n"
          "I would like to\n")


def test_a_page_read_a_word_per_line_is_told_from_one_read_in_lines() -> None:
    assert word_per_line(_WORDS)
    assert not word_per_line(_LINES)
    assert not word_per_line("Tyler\nA.\nRoe\n")  # too few lines to tell


def test_the_second_reading_is_taken_only_when_it_keeps_the_first_line_at_the_top() -> None:
    assert keeps_opening(_WORDS, _LINES)
    moved = "Email: a@example.com\nPhone: 010-8770-8172\nPortfolio: https://example.com\n김병준\n"
    assert not keeps_opening("김병준\nEmail:\na@example.com\n", moved)


def test_an_email_glued_to_a_cjk_label_leaves_the_number_after_it() -> None:
    text = "张三\n邮箱：1610190751@qq.com手机号码：13026177235\n"
    assert contacts(text).phone.value == "+8613026177235"


def test_a_radical_written_for_an_ideograph_reads_as_the_ideograph() -> None:
    text = "姓名：⻩超梵\n邮箱：1610190751@qq.com\n"
    assert contacts(text).name.value == "黄超梵"


def test_a_cjk_name_cell_ends_at_the_next_label_on_its_line() -> None:
    text = "姓名：黄超梵 籍贯：湖北省鄂州市\n邮箱：1610190751@qq.com\n"
    assert contacts(text).name.value == "黄超梵"
