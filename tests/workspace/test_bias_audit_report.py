"""The bias audit's CSV and PDF: the CSV parses back to the audit's numbers; the PDF shows the table and
the warnings (pdftotext) and its first page renders (pdftoppm)."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest

from milo_voice.workspace.bias_audit import AuditResult, audit
from milo_voice.workspace.bias_report import COLUMNS, render_csv, render_pdf

from .test_bias_audit import END, START, population


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return audit(population(), interview="Warehouse associate", start=START, end=END)


def parsed(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


def test_the_csv_parses_back_to_the_same_numbers(result: AuditResult) -> None:
    text = render_csv(result)
    rows = parsed(text)
    assert list(rows[0]) == [name for name, _ in COLUMNS]
    assert len(rows) == len(result.groups) == (2 + 1) + (7 + 1) + (2 * 7 + 1)
    by_key = {(r["dimension"], r["category"]): r for r in rows}
    female = by_key[("Sex", "Female")]
    assert (int(female["n"]), int(female["selected"]), int(female["scored"])) == (41, 13, 41)
    assert float(female["selection_rate"]) == pytest.approx(13 / 41, abs=5e-4)
    assert float(female["selection_impact_ratio"]) == pytest.approx((13 / 41) / (23 / 44), abs=5e-4)
    assert float(female["good_or_great_impact_ratio"]) == pytest.approx((25 / 41) / (32 / 42), abs=5e-4)
    native = by_key[("Race/ethnicity", "American Indian or Alaska Native")]
    assert (native["small_group"], native["selection_impact_ratio"]) == ("yes", "")
    assert by_key[("Sex", "Unknown")]["n"] == str(5 + 10)
    for g, row in zip(result.groups, rows, strict=True):
        assert int(row["n"]) == g.rates.n and int(row["above_median"]) == g.rates.above_median
        ratio = row["scoring_impact_ratio"]
        assert (float(ratio) if ratio else None) == (
            None if g.scoring_ratio is None else pytest.approx(g.scoring_ratio, abs=5e-4)
        )


def test_the_csv_says_the_range_the_columns_and_the_warnings(result: AuditResult) -> None:
    comments = [line for line in render_csv(result).splitlines() if line.startswith("#")]
    assert "# Data: candidates added from 2026-01-01 to 2026-06-30 (both included, UTC)" in comments
    assert any(line.startswith("# selection_rate: selected / n") for line in comments)
    assert sum("WARNING:" in line for line in comments) == len(result.warnings)
    assert any("Sex Female: selection impact ratio 0.61 is under 0.8" in line for line in comments)


def test_the_pdf_shows_the_table_and_the_warnings_and_renders(result: AuditResult, tmp_path: Path) -> None:
    path = tmp_path / "audit.pdf"
    path.write_bytes(render_pdf(result))
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
                   check=True, timeout=60)  # fmt: skip
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1 and pages[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pages[0].stat().st_size > 5000
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True, timeout=60).stdout  # fmt: skip
    assert "Bias audit: Warehouse associate" in text
    assert "from 2026-01-01 to 2026-06-30" in text
    assert "WARNING: Sex Female: selection impact ratio 0.61 is under 0.8" in text
    female = next(
        line for line in text.splitlines() if line.strip().startswith("Female ") and "0.317" in line
    )
    assert female.split()[1:4] == ["41", "0.410", "13"]
    assert "Sel. rate" in text and "selection_impact_ratio:" in text
