"""The rows of a candidate list, streamed from the file with the layout and mapping the recruiter chose.

One result per non-blank record: a `CsvRow` with our fields, or a `RowProblem` saying why the row
is not read, so one bad row never stops the list. The file is read record by record through the
csv module (never whole); undecodable bytes become U+FFFD (`errors="replace"`) and are reported.

- A row with a different number of fields than the list has columns is a problem, except that
  extra trailing empty fields (`a;b;c;;`, as spreadsheets write) are dropped.
- Only mapped columns are checked for length and bad bytes: an unmapped "Notes" column may hold a
  long text and is never stored. A mapped cell over `max_cell_chars` makes the row a problem.
  `csv.field_size_limit` is process-wide, so it is left as it is: its default (128 kB) bounds the
  memory a single unterminated quote can take; that record is reported and reading goes on.
- A value starting with `=`, `+`, `-` or `@` is kept as it is (exports neutralise formulas:
  `scoring.export.neutralise`), and the row is marked `formula_like` with a warning for the review
  screen; a number or an international phone number ("+41 44 ...") is data, not a formula.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from milo_voice.intake.csv_layout import OUR_FIELDS, CsvLayout, describe_encoding

MAX_CELL_CHARS = 10_000
MAX_ROWS = 50_000
OUTPUT_FIELDS = ("name", "email", "phone", "location", "external_id")
FORMULA_STARTS = ("=", "+", "-", "@")
NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)")
PHONE = re.compile(r"\+[\d ().\-/]+")
PHONE_DIGITS = (7, 15)


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int
    """The file line the record starts on (1-based; the header is line 1 when there is one)."""
    values: dict[str, str]
    """name (or first and last name joined), email, phone, location, external_id; "" when unmapped."""
    formula_like: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    message: str


def read_rows(path: Path, layout: CsvLayout, mapping: Mapping[str, str], *,
              max_cell_chars: int = MAX_CELL_CHARS,
              max_rows: int = MAX_ROWS) -> Iterator[CsvRow | RowProblem]:
    """Every data record of the list, in file order, as a `CsvRow` or a `RowProblem`."""
    columns = list(layout.columns)
    index = _indexes(columns, mapping)
    header_pending, rows = layout.has_header, 0
    with path.open(encoding=layout.encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=layout.delimiter)
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield RowProblem(line, _unreadable(exc))
                continue
            if not any(cell.strip() for cell in cells):
                continue
            if header_pending:
                header_pending = False
                continue
            rows += 1
            if rows > max_rows:
                yield RowProblem(line, f"the list has more than {max_rows} rows: the rest is not read; "
                                 "split it into smaller lists")
                return
            yield _row(line, cells, columns, index, layout.encoding, max_cell_chars)


def formula_like(value: str) -> bool:
    """Would a spreadsheet run this as a formula? (A number or an international phone number is data.)"""
    if not value.startswith(FORMULA_STARTS):
        return False
    if NUMBER.fullmatch(value):
        return False
    digits = sum(ch.isdigit() for ch in value)
    return not (PHONE.fullmatch(value) and PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1])


def _indexes(columns: list[str], mapping: Mapping[str, str]) -> dict[str, int]:
    index = {}
    for ours, column in mapping.items():
        if not column:
            continue
        if ours not in OUR_FIELDS:
            raise ValueError(f"unknown field {ours!r}: map columns to {', '.join(OUR_FIELDS)}")
        if column not in columns:
            raise ValueError(f"column {column!r} is not in the list")
        index[ours] = columns.index(column)
    return index


def _row(line: int, cells: list[str], columns: list[str], index: dict[str, int], encoding: str,
         max_cell_chars: int) -> CsvRow | RowProblem:
    width = len(columns)
    if len(cells) > width and not any(cell.strip() for cell in cells[width:]):
        cells = cells[:width]
    if len(cells) != width:
        return RowProblem(line, f"{len(cells)} fields where the list has {width} columns: check the "
                          "delimiters and quotes on this line")
    for at in index.values():
        if len(cells[at]) > max_cell_chars:
            return RowProblem(line, f"the {columns[at]!r} cell is longer than {max_cell_chars} characters")
        if "\ufffd" in cells[at]:
            return RowProblem(line, f"the {columns[at]!r} cell has bytes that are not "
                              f"{describe_encoding(encoding)} (shown as \ufffd): save the list as UTF-8 "
                              "and upload it again")
    raw = {ours: cells[at].strip() for ours, at in index.items()}
    joined = " ".join(part for part in (raw.get("first_name", ""), raw.get("last_name", "")) if part)
    values = {"name": raw.get("name") or joined}
    values.update({ours: raw.get(ours, "") for ours in OUTPUT_FIELDS[1:]})
    warnings = tuple(f"{ours} cell starts with {value[0]!r}: shown as text"
                     for ours, value in values.items() if formula_like(value))
    return CsvRow(line, values, formula_like=bool(warnings), warnings=warnings)


def _unreadable(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return ("a cell is far too long (or a quote is never closed): row not read; check the quotes from "
                "this line on")
    return f"unreadable row ({exc}): row not read"
