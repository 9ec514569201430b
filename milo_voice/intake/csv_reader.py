"""A candidate list (CSV) from a path on disk: `sniff_csv` reads its head to find the layout and
suggest a column mapping; `read_rows` (in `csv_rows`) streams its records once the mapping is chosen.

A file over `max_bytes` is refused by its size on disk (`CsvTooLarge`) before a byte of it is read.
`sniff_csv` reads at most the first 64k characters, plus, when those are all ASCII, a scan in 1 MB
chunks for the first accented character to judge the encoding on (see `csv_layout`). Nothing here
holds the whole file in memory.
"""

from __future__ import annotations

from pathlib import Path

from milo_voice.intake.csv_layout import (
    OUR_FIELDS,
    CsvLayout,
    CsvTooLarge,
    choose_delimiter,
    column_names,
    describe_encoding,
    detect_encoding,
    looks_like_header,
    parse,
    suggest_from_content,
    suggest_mapping,
)
from milo_voice.intake.csv_rows import CsvRow, RowProblem, formula_like, read_rows

__all__ = ["OUR_FIELDS", "CsvLayout", "CsvRow", "CsvTooLarge", "RowProblem", "formula_like", "read_rows",
           "sniff_csv"]

MB = 1024 * 1024
HEAD_CHARS = 64 * 1024
SNIFF_CHARS = 4096
"""What `csv.Sniffer` sees: its regular expressions are quadratic on hostile input."""
PREVIEW_ROWS = 5
PREVIEW_CELL_CHARS = 200


def sniff_csv(path: Path, *, max_bytes: int) -> CsvLayout:
    """Encoding, delimiter, header, columns, a preview of the first rows and a suggested mapping."""
    size = path.stat().st_size
    if size > max_bytes:
        raise CsvTooLarge(f"the CSV is {size / MB:.1f} MB, over the {max_bytes / MB:g} MB limit: "
                          "split it into smaller lists")
    if size == 0:
        raise ValueError("the CSV file is empty")
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        text = handle.read(HEAD_CHARS)
        complete = not handle.read(1)
    sample = text if complete else text[: text.rfind("\n") + 1] or text
    delimiter = choose_delimiter(_lines(sample, SNIFF_CHARS))
    rows = [row for row in parse(sample, delimiter) if any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError("the CSV holds no rows")
    has_header = looks_like_header(rows[0], _lines(sample, SNIFF_CHARS))
    data = rows[1:] if has_header else rows
    width = _filled(rows[0]) if has_header else max(len(row) for row in rows)
    columns = column_names(rows[0], has_header, width)
    if complete:
        estimate = len(data)
    else:
        used = max(1, len(sample.encode(encoding, errors="replace")))
        estimate = max(len(data), round(len(rows) * size / used) - has_header)
    return CsvLayout(
        encoding=encoding, delimiter=delimiter, has_header=has_header, columns=columns,
        preview=[[cell.strip()[:PREVIEW_CELL_CHARS] for cell in row] for row in data[:PREVIEW_ROWS]],
        mapping=suggest_mapping(columns) if has_header else suggest_from_content(columns, data[:20]),
        row_estimate=estimate,
        notes=_notes(encoding, has_header, bool(data)),
    )


def _filled(header: list[str]) -> int:
    """The header's width without its trailing empty cells (`Name;Email;;;` is two columns wide)."""
    while header and not header[-1].strip():
        header = header[:-1]
    return max(1, len(header))


def _lines(text: str, limit: int) -> str:
    """At most `limit` characters of `text`, cut after a whole line when there is one."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[: cut + 1] if cut > 0 else text[:limit]


def _notes(encoding: str, has_header: bool, has_rows: bool) -> list[str]:
    notes = []
    if encoding not in ("utf-8", "utf-8-sig"):
        notes.append(f"read as {describe_encoding(encoding)}: check the accents in the preview")
    if not has_header:
        notes.append("no header row found: the columns are named Column 1, Column 2, ...")
    if not has_rows:
        notes.append("no rows after the header")
    return notes
