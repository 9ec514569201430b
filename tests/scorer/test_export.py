"""The CSV export's formula protection on its own: formulas get a leading apostrophe, phone numbers
and plain numbers do not (the rule is in `scoring/export.py`'s docstring)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from milo_voice.scoring.export import neutralise, to_csv

PHONES = ["+1 415 555 0100", "+14155550100", "+44 (0)20 7946 0958", "+1-415-555-0100", "+1 (415) 555-0100",
          "+33 6 12 34 56 78", "+49.30.1234567"]
NUMBERS = ["-12", "+3.5", "-0.25", "-.5", "+1234567890123456"]
FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB", "\rCR",
            "+1 415 555 0100=", "+(1)", "+", "-", "+1 415\n555 0100", "+1 415 555 0100 +A1", "-1e5", "+12 34"]


@pytest.mark.parametrize("phone", PHONES)
def test_a_phone_number_is_exported_as_written(phone: str) -> None:
    assert neutralise(phone) == phone


@pytest.mark.parametrize("number", NUMBERS)
def test_a_plain_number_is_exported_as_written(number: str) -> None:
    assert neutralise(number) == number


@pytest.mark.parametrize("formula", FORMULAS)
def test_anything_else_starting_like_a_formula_gets_the_apostrophe(formula: str) -> None:
    assert neutralise(formula) == "'" + formula


@given(st.sampled_from("=+-@"), st.text())
def test_a_cell_with_a_letter_or_a_formula_character_after_the_sign_is_always_neutralised(
    start: str, rest: str
) -> None:
    value = start + rest
    runnable = any(c.isalpha() or c in "=@|!:;'\"*/^&%<>,$#[]{}~_" for c in rest)
    if runnable or start in "=@":
        assert neutralise(value) == "'" + value


def test_the_csv_keeps_the_phone_and_neutralises_the_name() -> None:
    record = {"candidate_id": 1, "name": "=cmd|' /C calc'!A0", "phone": "+1 415 555 0100", "overall": -3.0}
    (row,) = list(csv.DictReader(io.StringIO(to_csv([record]))))
    assert (row["name"], row["phone"], row["overall"]) == ("'=cmd|' /C calc'!A0", "+1 415 555 0100", "-3.0")


def test_intake_fields_are_exported_and_formula_cells_neutralised() -> None:
    """A name or location that came in from a CSV or a resume as a formula is text in the export."""
    from milo_voice.scoring.export import to_csv

    record = {"candidate_id": 1, "name": '=HYPERLINK("http://x","y")', "location": "@SUM(A1)",
              "external_id": "-2+3", "phone": "+44 20 7946 0958"}
    [header, line] = to_csv([record]).splitlines()
    assert "location,external_id" in header
    cells = next(csv.reader([line]))
    assert cells[1] == "'=HYPERLINK(\"http://x\",\"y\")"
    assert cells[4:6] == ["'@SUM(A1)", "'-2+3"]
    assert cells[3] == "+44 20 7946 0958"  # a phone number is data, left as it is
