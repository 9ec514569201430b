"""A general rule found on a twenty-fourth held-out set (after its first run), on invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts


def test_a_name_whose_second_line_ends_with_a_generational_suffix_is_joined() -> None:
    text = "Raimundo Oscar\nde Sousa Jr.\nGeofísico\nCONTATO\nE-mail\nraimundo.o@example.com\n"
    assert extract_contacts(text, default_region="BR").name.value == "Raimundo Oscar de Sousa Jr."
    title = "Raimundo Oscar\nGeofísico Sênior\nraimundo.o@example.com\n"  # no suffix: a title is not joined
    assert extract_contacts(title, default_region="BR").name.value == "Raimundo Oscar"


def test_a_comma_after_a_name_written_as_a_letterhead_is_not_part_of_it() -> None:
    text = ("Fabrice Hermann Kenmogne,                          Lindenstraße 12,\n"
            "E-Mail: fabrice.k@example.com                      87439 Kempten\nMobil: 0157 83456189\n")
    assert extract_contacts(text, default_region="DE").name.value == "Fabrice Hermann Kenmogne"


def test_numbers_parted_by_a_spaced_dash_are_read_one_by_one() -> None:
    text = "Edylber Simancas\nedy@example.com\nCel. 3215881812 – 3123533043 -8147944\nC.C. 1143325324\n"
    assert extract_contacts(text, default_region="CO").phone.value == "+573215881812"
