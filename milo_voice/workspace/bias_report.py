"""The bias audit as a CSV file and a PDF (fpdf2, DejaVu Sans as the score report uses it).

Both carry the same numbers (`milo_voice.workspace.bias_audit.AuditResult`), the data's date range, a
plain explanation of every column and the four-fifths warnings. The CSV starts with comment lines
(beginning with "#": the title, the range, the definitions, the warnings), then one header line and
one line per category; `csv` readers skip the comments with a filter (docs/bias_audit.md).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from milo_voice.scoring.pdf import FONT_DIR
from milo_voice.workspace.bias_audit import DIMENSION_LABELS, FOUR_FIFTHS, SMALL_SHARE, AuditResult, Group

COLUMNS: tuple[tuple[str, str], ...] = (
    ("dimension", "What the category is of: sex, race/ethnicity, or sex x race/ethnicity (intersection)."),
    ("category", "The EEO-1 category; Unknown: no answer or prefer not to say (never in a ratio)."),
    ("n", "Assessed candidates in the category."),
    ("share", "n / every assessed candidate in the audit (unknowns included)."),
    ("selected", "Candidates moved on: shortlisted, or passed at least one pipeline stage."),
    ("selection_rate", "selected / n."),
    ("selection_impact_ratio", "selection_rate / the highest selection_rate of a category of this kind."),
    ("scored", "Candidates with an overall score."),
    ("above_median", "Scored candidates whose overall score is above the median of everyone scored."),
    ("scoring_rate", "above_median / scored (the LL144 scoring rate)."),
    ("scoring_impact_ratio", "scoring_rate / the highest scoring_rate of a category of this kind."),
    ("good_or_great", "Scored candidates banded Good or Great."),
    ("good_or_great_rate", "good_or_great / scored."),
    ("good_or_great_impact_ratio", "good_or_great_rate / the highest such rate of a category of this kind."),
    (
        "small_group",
        f"yes: under {SMALL_SHARE:.0%} of the population; left out of impact ratios (LL144 allows).",
    ),
)
"""CSV columns, in order, with the plain explanation the CSV and the PDF print."""


def number(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def csv_row(g: Group) -> list[str]:
    r = g.rates
    return [
        DIMENSION_LABELS[g.dimension], g.category, str(r.n), number(g.share), str(r.selected),
        number(r.selection_rate), number(g.selection_ratio), str(r.scored), str(r.above_median),
        number(r.scoring_rate), number(g.scoring_ratio), str(r.good_or_great), number(r.good_rate),
        number(g.good_ratio), "yes" if g.small else "",
    ]  # fmt: skip


def summary(result: AuditResult) -> list[str]:
    """The lines above the table: what, when, how many, the median, unknowns."""
    median = number(result.median_score, 1) or "none (nobody scored)"
    return [
        f"Bias audit: {result.interview}",
        f"Data: candidates added from {result.start:%Y-%m-%d} to {result.end:%Y-%m-%d} (both included, UTC)",
        f"Assessed candidates: {result.population}; selected: {result.selected}; scored: {result.scored}; "
        f"median overall score: {median}",
        "Unknown (not given or prefer not to say, counted but excluded from impact ratios): "
        + ", ".join(f"{DIMENSION_LABELS[d]} {result.unknowns(d)}" for d in ("sex", "race_ethnicity")),
        f"Impact ratios under {FOUR_FIFTHS} are flagged (the four-fifths rule). Categories under "
        f"{SMALL_SHARE:.0%} of the population are flagged small and left out of impact ratios.",
    ]


def render_csv(result: AuditResult) -> str:
    """The audit as CSV text: "#" comment lines (summary, column meanings, warnings), header, rows."""
    out = io.StringIO()
    for line in summary(result):
        out.write(f"# {line}\n")
    for name, meaning in COLUMNS:
        out.write(f"# {name}: {meaning}\n")
    for warning in result.warnings or ("No impact ratio is under the four-fifths threshold.",):
        out.write(f"# {warning}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([name for name, _ in COLUMNS])
    for g in result.groups:
        writer.writerow(csv_row(g))
    return out.getvalue()


class _Pdf(FPDF):
    def __init__(self, font_dir: Path) -> None:
        super().__init__(format="A4", orientation="landscape")
        regular, bold = font_dir / "DejaVuSans.ttf", font_dir / "DejaVuSans-Bold.ttf"
        self.unicode = regular.is_file() and bold.is_file()
        if self.unicode:
            self.add_font("DejaVu", "", str(regular))
            self.add_font("DejaVu", "B", str(bold))
        self.typeface = "DejaVu" if self.unicode else "Helvetica"
        self.set_auto_page_break(auto=True, margin=12)
        self.set_margins(12, 12, 12)

    def clean(self, text: str) -> str:
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def para(self, text: str, size: float = 9, bold: bool = False, height: float = 4.5) -> None:
        self.set_font(self.typeface, "B" if bold else "", size)
        self.multi_cell(0, height, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


TABLE_HEADINGS = ("Category", "n", "Share", "Selected", "Sel. rate", "Sel. IR", "Scored", "Above med.",
                  "Score rate", "Score IR", "Good+", "Good+ rate", "Good+ IR", "Small")  # fmt: skip
TABLE_WIDTHS = (78, 12, 14, 16, 16, 14, 14, 18, 18, 15, 14, 18, 15, 11)


def _table(pdf: _Pdf, result: AuditResult, dimension: str) -> None:
    pdf.ln(2)
    pdf.para(DIMENSION_LABELS[dimension], size=11, bold=True, height=6)
    pdf.set_font(pdf.typeface, "B", 7.5)
    for heading, width in zip(TABLE_HEADINGS, TABLE_WIDTHS, strict=True):
        pdf.cell(width, 5, heading, border=1)
    pdf.ln(5)
    pdf.set_font(pdf.typeface, "", 7.5)
    for g in (g for g in result.groups if g.dimension == dimension):
        cells = [g.category, *csv_row(g)[2:-1], "yes" if g.small else ""]
        for i, (text, width) in enumerate(zip(cells, TABLE_WIDTHS, strict=True)):
            pdf.cell(width, 4.5, pdf.clean(text), border=1, align="L" if i == 0 else "R")
        pdf.ln(4.5)


def render_pdf(result: AuditResult, *, font_dir: Path = FONT_DIR) -> bytes:
    """The audit as PDF bytes: the summary, the warnings, a table per dimension, what the columns mean."""
    pdf = _Pdf(font_dir)
    pdf.set_title(pdf.clean(f"Bias audit: {result.interview}"))
    pdf.set_creator("milo-voice")
    pdf.add_page()
    first, *rest = summary(result)
    pdf.para(first, size=15, bold=True, height=8)
    for line in rest:
        pdf.para(line)
    pdf.ln(1)
    for warning in result.warnings or ("No impact ratio is under the four-fifths threshold.",):
        pdf.para(warning, bold=bool(result.warnings))
    for dimension in ("sex", "race_ethnicity", "intersection"):
        _table(pdf, result, dimension)
    pdf.ln(3)
    pdf.para("What the columns mean", size=11, bold=True, height=6)
    for name, meaning in COLUMNS:
        pdf.para(f"{name}: {meaning}", size=8, height=4)
    pdf.para("IR: impact ratio. Definitions and formulas: docs/bias_audit.md.", size=8, height=4)
    return bytes(pdf.output())
