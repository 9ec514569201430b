"""Candidate lists (issue 17): a 50 MB file refused by its size before it is read; Latin-1, Windows
code pages, a BOM and UTF-16 decoded right; comma, semicolon and tab lists; headers in several
languages mapped to our fields; ragged rows, over-long cells, bad bytes and formula cells reported
per row while the good rows still come through; rows streamed, never the whole file in memory."""

from __future__ import annotations

import dataclasses
import json
import time
import tracemalloc
from pathlib import Path

import pytest

from milo_voice.intake.csv_reader import (
    CsvLayout,
    CsvRow,
    CsvTooLarge,
    RowProblem,
    formula_like,
    read_rows,
    sniff_csv,
)

MB = 1024 * 1024
LIMIT = 20 * MB


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def read(path: Path, **kwargs: int) -> tuple[CsvLayout, list[CsvRow], list[RowProblem]]:
    layout = sniff_csv(path, max_bytes=LIMIT)
    found = list(read_rows(path, layout, layout.mapping, **kwargs))
    rows = [r for r in found if isinstance(r, CsvRow)]
    return layout, rows, [r for r in found if isinstance(r, RowProblem)]


def test_a_50_mb_list_is_refused_by_its_size_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    row = b"Anna Berg,anna.berg@example.com,+46 70 123 4567,Stockholm\n"
    with path.open("wb") as handle:
        handle.write(b"name,email,phone,location\n")
        block = row * (MB // len(row))
        while handle.tell() < 50 * MB:
            handle.write(block)
        handle.truncate(50 * MB)
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(CsvTooLarge) as raised:
        sniff_csv(path, max_bytes=LIMIT)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(raised.value) == "the CSV is 50.0 MB, over the 20 MB limit: split it into smaller lists"
    assert isinstance(raised.value, ValueError)
    assert peak < 256 * 1024, f"peak {peak} bytes: the file was read"
    assert elapsed < 0.2


def test_rows_are_streamed_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("Name;E-Mail;Telefon;Ort\n")
        for n in range(30_000):
            handle.write(f"Person {n};p{n}@example.com;+49 30 {n:07d};Berlin\n")
    size = path.stat().st_size
    layout = sniff_csv(path, max_bytes=LIMIT)
    assert abs(layout.row_estimate - 30_000) < 3_000  # from the first 64 kB, whose lines are shorter
    tracemalloc.start()
    count = sum(1 for row in read_rows(path, layout, layout.mapping) if isinstance(row, CsvRow))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 30_000
    assert peak < size / 4, f"peak {peak} bytes for a {size}-byte file"


def test_a_latin1_list_reads_correctly(tmp_path: Path) -> None:
    text = ("Nom;Prénom;E-Mail;Téléphone;Ville\n"
            "Müller;José;jose@example.com;+41 44 123 45 67;Zürich\n"
            "Ñúñez;François;f@example.fr;06 12 34 56 78;Málaga\n"
            "Åström;Æsa;aesa@example.dk;;Århus\n")
    path = write(tmp_path, "latin1.csv", text, "latin-1")
    layout, rows, problems = read(path)
    assert layout.encoding in ("cp1252", "latin-1")
    assert layout.delimiter == ";"
    assert layout.mapping == {"first_name": "Prénom", "last_name": "Nom", "email": "E-Mail",
                              "phone": "Téléphone", "location": "Ville"}
    assert [row.values["name"] for row in rows] == ["José Müller", "François Ñúñez", "Æsa Åström"]
    assert [row.values["location"] for row in rows] == ["Zürich", "Málaga", "Århus"]
    assert problems == []
    assert "check the accents" in layout.notes[0]


def test_accents_after_the_first_64_kb_still_decide_the_encoding(tmp_path: Path) -> None:
    ascii_rows = "".join(f"Person {n},p{n}@example.com\n" for n in range(4_000))
    text = "name,email\n" + ascii_rows + "José Müller,j@x.de\n"
    path = write(tmp_path, "late.csv", text, "cp1252")
    assert path.stat().st_size > 64 * 1024
    layout, rows, problems = read(path)
    assert layout.encoding == "cp1252"
    assert rows[-1].values["name"] == "José Müller" and problems == []


def test_windows_code_pages_and_unicode_forms(tmp_path: Path) -> None:
    quotes = write(tmp_path, "quotes.csv", "name,email\nAnna “Ann” Berg,a@x.se\nJean–Luc Picard,j@x.fr\n",
                   "cp1252")
    assert [r.values["name"] for r in read(quotes)[1]] == ["Anna “Ann” Berg", "Jean–Luc Picard"]
    polish = write(tmp_path, "pl.csv", "imię,nazwisko,e-mail,miasto\nŁukasz,Wiśniewski,l@x.pl,Łódź\n"
                   "Zofia,Żółć,z@x.pl,Kraków\n", "cp1250")
    layout, rows, _ = read(polish)
    assert layout.encoding == "cp1250"
    assert [r.values["name"] for r in rows] == ["Łukasz Wiśniewski", "Zofia Żółć"]
    russian = write(tmp_path, "ru.csv", "имя,фамилия,город,email\nИван,Петров,Москва,ivan@x.ru\n"
                    "Ольга,Смирнова,Санкт-Петербург,olga@x.ru\n", "cp1251")
    layout, rows, _ = read(russian)
    assert layout.encoding == "cp1251"
    assert [r.values["name"] for r in rows] == ["Иван Петров", "Ольга Смирнова"]
    utf16 = write(tmp_path, "excel.txt", "Name\tE-Mail\nJosé Müller\tj@x.de\n", "utf-16")
    layout, rows, _ = read(utf16)
    assert (layout.encoding, layout.delimiter, layout.columns) == ("utf-16", "\t", ["Name", "E-Mail"])
    assert rows[0].values == {"name": "José Müller", "email": "j@x.de", "phone": "", "location": "",
                              "external_id": ""}


def test_a_bom_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.csv", "Name,Email\r\nAnna Berg,anna@example.com\r\n", "utf-8-sig")
    layout, rows, _ = read(path)
    assert layout.encoding == "utf-8-sig"
    assert layout.columns == ["Name", "Email"] and layout.mapping == {"name": "Name", "email": "Email"}
    assert rows[0].values["name"] == "Anna Berg"


@pytest.mark.parametrize(("text", "delimiter"), [
    ("Name;Email;Score\nAnna Berg;a@x.se;1,5\nBob Smith;b@y.com;2,25\n", ";"),
    ("Name\tEmail\tNotes\nAnna Berg\ta@x.se\tlikes commas, semicolons; and more\n", "\t"),
    ("Name|Email\nAnna Berg|a@x.se\n", "|"),
    ('Name,Email,Notes\n"Berg, Anna",a@x.se,"one; two; three"\nBob,b@y.com,none\n', ","),
    ("Name\nAnna Berg\nBob Smith\n", ","),
])
def test_delimiters(tmp_path: Path, text: str, delimiter: str) -> None:
    layout, rows, problems = read(write(tmp_path, "list.csv", text))
    assert layout.delimiter == delimiter
    assert problems == [] and rows[0].values["name"] in ("Anna Berg", "Berg, Anna")


def test_a_ragged_sample_still_finds_its_delimiter(tmp_path: Path) -> None:
    """csv.Sniffer gives up on this one ("Could not determine delimiter"); counting does not."""
    text = "Name;Email;Phone\nAnna Berg;a@x.se;+46 70 123 4567\nBob Smith;b@y.com\nCarl Jung;c@z.ch;+41 44\n"
    layout, rows, problems = read(write(tmp_path, "ragged.csv", text))
    assert layout.delimiter == ";"
    assert [r.values["name"] for r in rows] == ["Anna Berg", "Carl Jung"]
    assert [p.line for p in problems] == [3]


@pytest.mark.parametrize(("header", "mapping"), [
    ("Candidate ID,Full Name,Email Address,Mobile Number,City",
     {"name": "Full Name", "email": "Email Address", "phone": "Mobile Number", "location": "City",
      "external_id": "Candidate ID"}),
    ("Applicant Id,First Name,Last Name,E-mail,Phone,Location,Source",
     {"first_name": "First Name", "last_name": "Last Name", "email": "E-mail", "phone": "Phone",
      "location": "Location", "external_id": "Applicant Id"}),
    ("Vorname,Name,E-Mail,Telefon,Wohnort",
     {"first_name": "Vorname", "last_name": "Name", "email": "E-Mail", "phone": "Telefon",
      "location": "Wohnort"}),
    ("Nom,Prénom,Courriel,Portable,Ville",
     {"first_name": "Prénom", "last_name": "Nom", "email": "Courriel", "phone": "Portable",
      "location": "Ville"}),
    ("Nombre,Correo electrónico,Móvil,Ciudad",
     {"name": "Nombre", "email": "Correo electrónico", "phone": "Móvil", "location": "Ciudad"}),
    ("Nombre,Apellidos,Teléfono", {"first_name": "Nombre", "last_name": "Apellidos", "phone": "Teléfono"}),
    ("Name,Work Email,Mobile,Company Name", {"name": "Name", "email": "Work Email", "phone": "Mobile"}),
    ("ID,Naam,Telefoonnummer,Woonplaats",
     {"name": "Naam", "phone": "Telefoonnummer", "location": "Woonplaats", "external_id": "ID"}),
])
def test_suggested_mappings(tmp_path: Path, header: str, mapping: dict[str, str]) -> None:
    width = header.count(",") + 1
    path = write(tmp_path, "h.csv", header + "\n" + ",".join(["x"] * width) + "\n")
    layout = sniff_csv(path, max_bytes=LIMIT)
    assert layout.has_header and layout.mapping == mapping


def test_a_list_without_a_header_is_mapped_by_its_content(tmp_path: Path) -> None:
    path = write(tmp_path, "bare.csv", "Anna Berg,anna@example.com,+46 70 123 4567\n"
                 "Bob Smith,bob@example.com,+1 415 555 0100\n")
    layout, rows, _ = read(path)
    assert not layout.has_header and layout.columns == ["Column 1", "Column 2", "Column 3"]
    assert layout.mapping == {"name": "Column 1", "email": "Column 2", "phone": "Column 3"}
    assert [(r.line, r.values["email"]) for r in rows] == [(1, "anna@example.com"), (2, "bob@example.com")]


def test_ragged_rows_are_problems_and_the_good_rows_come_through(tmp_path: Path) -> None:
    text = ("name,email,phone\n"
            "Anna Berg,anna@example.com,+46 70 123 4567\n"
            "Bob Smith,bob@example.com\n"
            "Carl Jung,carl@example.com,+41 44 000 00 00,extra,fields\n"
            "Dora Maar,dora@example.com,,,,\n"
            "\n"
            ",,\n"
            '"Eve\nAdams",eve@example.com,+1 415 555 0100\n'
            "Finn Lee,finn@example.com,+44 20 7946 0958\n")
    _, rows, problems = read(write(tmp_path, "ragged.csv", text))
    assert [(r.line, r.values["name"]) for r in rows] == [(2, "Anna Berg"), (5, "Dora Maar"),
                                                          (8, "Eve\nAdams"), (10, "Finn Lee")]
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [
        (3, "2 fields where the list has 3 columns"), (4, "5 fields where the list has 3 columns")]


def test_long_cells_and_bad_bytes_are_problems_of_their_row(tmp_path: Path) -> None:
    path = tmp_path / "dirty.csv"
    path.write_bytes(b"name,email,notes\n"
                     b"Jos\xc3\xa9 M\xc3\xbcller,jose@example.com,ok\n"
                     + b"Long Name,long@example.com," + b"n" * 20_000 + b"\n"
                     + b"X" * 11_000 + b",x@example.com,short\n"
                     + b'Huge,"' + b"h" * 200_000 + b'",done\n'
                     + b"Bad \xff Byte,bad@example.com,\n"
                     + b"Finn Lee,finn@example.com,\n")
    layout, rows, problems = read(path)
    assert layout.encoding == "utf-8"
    assert [r.values["name"] for r in rows] == ["José Müller", "Long Name", "Finn Lee"]  # notes is unmapped
    assert [(p.line, p.message) for p in problems] == [
        (4, "the 'name' cell is longer than 10000 characters"),
        (5, "a cell is far too long (or a quote is never closed): row not read; check the quotes from this "
            "line on"),
        (6, "the 'name' cell has bytes that are not UTF-8 (shown as \ufffd): save the list as UTF-8 and "
            "upload it again"),
    ]


def test_formula_cells_are_kept_as_text_and_flagged(tmp_path: Path) -> None:
    text = ("name,email,phone,location\n"
            '"=HYPERLINK(""http://x"",""y"")",eve@example.com,+1 415 555 0100,Paris\n'
            "Anna Berg,anna@example.com,+46 70 123 4567,-2+3\n"
            "@SUM(A1),sum@example.com,,Berlin\n"
            "Bob Smith,bob@example.com,-12,+33\n")
    _, rows, problems = read(write(tmp_path, "formulas.csv", text))
    assert problems == []
    assert rows[0].values["name"] == '=HYPERLINK("http://x","y")'
    assert [r.formula_like for r in rows] == [True, True, True, False]
    assert rows[0].warnings == ("name cell starts with '=': shown as text",)
    assert rows[1].warnings == ("location cell starts with '-': shown as text",)
    assert rows[2].warnings == ("name cell starts with '@': shown as text",)
    assert not formula_like("+44 (0)20 7946 0958") and formula_like("+1+1") and formula_like("=1")


def test_the_layout_survives_json_and_a_bad_mapping_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "list.csv", "Name,Email\nAnna Berg,anna@example.com\n")
    layout = sniff_csv(path, max_bytes=LIMIT)
    stored = json.loads(json.dumps(dataclasses.asdict(layout)))
    again = CsvLayout(**{k: v for k, v in stored.items() if k in CsvLayout.__dataclass_fields__})
    assert again == layout
    rows = list(read_rows(path, again, {"name": "Name", "email": "", "phone": ""}))
    empty = {"email": "", "phone": "", "location": "", "external_id": ""}
    assert rows == [CsvRow(2, {"name": "Anna Berg", **empty})]
    with pytest.raises(ValueError, match="column 'Mail' is not in the list"):
        list(read_rows(path, layout, {"email": "Mail"}))
    with pytest.raises(ValueError, match="unknown field 'salary'"):
        list(read_rows(path, layout, {"salary": "Name"}))


def test_row_cap_empty_files_and_a_header_alone(tmp_path: Path) -> None:
    path = write(tmp_path, "five.csv", "name\n" + "".join(f"P{n}\n" for n in range(5)))
    _, rows, problems = read(path, max_rows=3)
    assert len(rows) == 3 and problems[0].line == 5 and "more than 3 rows" in problems[0].message
    with pytest.raises(ValueError, match="the CSV file is empty"):
        sniff_csv(write(tmp_path, "empty.csv", ""), max_bytes=LIMIT)
    layout = sniff_csv(write(tmp_path, "header.csv", "name,email\n"), max_bytes=LIMIT)
    assert layout.row_estimate == 0 and layout.preview == [] and "no rows after the header" in layout.notes


def test_trailing_empty_header_cells_do_not_make_columns(tmp_path: Path) -> None:
    text = "Name;Email;;;\nAnna Berg;anna@example.com\nBob Smith;bob@example.com;;;\n"
    layout, rows, problems = read(write(tmp_path, "wide.csv", text))
    assert layout.columns == ["Name", "Email"] and problems == []
    assert [r.values["email"] for r in rows] == ["anna@example.com", "bob@example.com"]
