"""A general rule found on a twenty-second held-out set (after its first run), on invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts


def test_a_name_a_word_a_line_spelt_whole_then_by_the_surname_s_start() -> None:
    text = "Salvador\nCatalfamo\nDiseñador web\n+54 11 5555 0142\nsalvador.cata95@example.com\n"
    assert extract_contacts(text, default_region="AR").name.value == "Salvador Catalfamo"
    title = "Alice\nAdventurer\nalice.smith@example.com\n"  # the address spells no start of the title
    assert extract_contacts(title).name.value == "Alice"
