"""The PDF report (fpdf2): scores with verified evidence and rationale, transcript, timing.

Text is set in DejaVu Sans (Debian `fonts-dejavu-core`) so any name or transcript renders; if the
font is missing, the PDF falls back to the built-in Helvetica with text reduced to Latin-1, and
says so on its first page. Sections can be left out (`SECTIONS`).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from milo_voice.scoring.report import ReportData, clock
from milo_voice.scoring.result import CriterionResult, ScoreCard
from milo_voice.scoring.rubric import BAND_MEANINGS, CriterionKind
from milo_voice.scoring.transcript_formats import speaker_name

log = logging.getLogger(__name__)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
SECTIONS = ("scores", "transcript", "timing")
BAND_NAMES = {"great": "Great", "good": "Good", "bad": "Bad", "": "-"}


class _Pdf(FPDF):
    def __init__(self, font_dir: Path) -> None:
        super().__init__(format="A4")
        self.unicode = (font_dir / "DejaVuSans.ttf").is_file() and (
            font_dir / "DejaVuSans-Bold.ttf"
        ).is_file()
        if self.unicode:
            self.add_font("DejaVu", "", str(font_dir / "DejaVuSans.ttf"))
            self.add_font("DejaVu", "B", str(font_dir / "DejaVuSans-Bold.ttf"))
            self.family = "DejaVu"
        else:
            log.warning("report.pdf_font_missing", extra={"font_dir": str(font_dir)})
            self.family = "Helvetica"
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)

    def clean(self, text: str) -> str:
        if self.unicode:
            return text
        folded = unicodedata.normalize("NFKD", text)
        return folded.encode("latin-1", "ignore").decode("latin-1")

    def style(self, size: float, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", size)

    def para(self, text: str, size: float = 10, bold: bool = False, height: float = 5) -> None:
        self.style(size, bold)
        self.multi_cell(0, height, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str) -> None:
        self.ln(3)
        self.para(text, size=13, bold=True, height=7)
        self.ln(1)


def verdict(result: CriterionResult) -> str:
    if result.kind is CriterionKind.SCORED:
        return f"{result.score}/5" if result.score is not None else "not scored"
    if result.passed is None:
        return "undecided"
    return "pass" if result.passed else "FAIL"


def render_pdf(data: ReportData, *, sections: Iterable[str] = SECTIONS, font_dir: Path = FONT_DIR) -> bytes:
    """The report as PDF bytes: the header, then the sections asked for (`?sections=`; all by default)."""
    wanted = set(sections)
    unknown = wanted - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown report sections {sorted(unknown)}; expected some of {SECTIONS}")
    pdf = _Pdf(font_dir)
    pdf.set_title(pdf.clean(f"Interview report: {data.candidate_name}"))
    pdf.set_creator("milo-voice")
    pdf.add_page()
    pdf.para(data.interview_title, size=16, bold=True, height=8)
    pdf.para(
        f"Candidate: {data.candidate_name}" + (f" <{data.candidate_email}>" if data.candidate_email else "")
    )
    duration = f"{data.duration_s:.0f} s" if data.duration_s is not None else "unknown"
    pdf.para(f"Interview: {data.started_at:%Y-%m-%d %H:%M} UTC over {data.channel}, {duration}")
    pdf.para(f"Status: {data.candidate_status}")
    if not pdf.unicode:
        pdf.para("(DejaVu fonts not installed: characters outside Latin-1 are left out of this PDF.)", size=8)
    if "scores" in wanted:
        _scores(pdf, data)
    if "timing" in wanted and data.timing:
        pdf.heading("Timing diagnostics (context only, never scored)")
        for t in data.timing:
            delay = f"{t.response_delay_s:.1f} s" if t.response_delay_s is not None else "-"
            pdf.para(
                f"Q{t.question_position + 1} answer at {clock(t.start_s)}: {t.duration_s:.1f} s, "
                f"{t.words} words ({t.words_per_minute:.0f}/min), started after {delay}, "
                f"{t.long_pauses} pause(s) >= 2 s, longest {t.longest_pause_s:.1f} s",
                size=9,
            )
    if "transcript" in wanted:
        pdf.heading("Transcript")
        for u in data.transcript.utterances:
            if u.text.strip():
                pdf.para(f"[{clock(u.start_s)}] {speaker_name(u.speaker)}: {u.text}", size=9)
    return bytes(pdf.output())


def _scores(pdf: _Pdf, data: ReportData) -> None:
    """The score card: overall and band, provenance, knock-out, review flags, each criterion's quotes."""
    card = data.card
    pdf.heading("Scores")
    if card is None:
        pdf.para("Not scored yet.")
    else:
        overall = f"{card.overall:.0f}/100" if card.overall is not None else "no overall score"
        flag = "  (needs review)" if card.needs_review else ""
        band = BAND_NAMES.get(card.band, card.band)
        pdf.para(f"Overall: {overall}  Band: {band}{flag}", size=12, bold=True)
        if card.band in BAND_MEANINGS:
            pdf.para(f"{band}: {BAND_MEANINGS[card.band]} (Great >= {card.bands.great:g}, Good >= "
                     f"{card.bands.good:g} of 100; what a band means: docs/scoring.md)")  # fmt: skip
        pdf.para(f"Scored by: {card.scorer_label}")
        pdf.para(f"Scored at {card.created_at:%Y-%m-%d %H:%M} UTC; input hash {card.prompt_hash[:16]}")
        if data.earlier_runs:
            pdf.para(f"{data.earlier_runs} earlier scoring run(s) of this interview are kept.")
        if card.knockout is not None:
            k = card.knockout
            pdf.para(f"KNOCKED OUT (Q{k.question_position + 1}): {k.reason}", bold=True)
            pdf.para(f'Evidence [{clock(k.quote.start_s)}]: "{k.quote.text}"')
        if card.needs_review:
            pdf.para("Needs human review:", bold=True)
            for reason in card.review_reasons:
                pdf.para(f"- {reason}")
        _questions(pdf, card)


def _questions(pdf: _Pdf, card: ScoreCard) -> None:
    """Each question: its rubric version, then every criterion with its verdict and quotes."""
    for q in card.questions:
        pdf.heading(f"Q{q.position + 1}. {q.question}")
        pdf.para(
            f"Rubric version {q.rubric_version}" + ("" if q.answered else "; no answer given"), size=8
        )
        for c in q.criteria:
            pdf.para(f"{c.name} ({c.kind.value}, weight {c.weight:g}): {verdict(c)}", bold=True)
            pdf.para(c.rationale, size=9)
            for quote in c.quotes:
                when = clock(quote.start_s) + ("~" if quote.estimated_timing else "")
                pdf.para(f'[{when}] "{quote.text}"', size=9)
            for rejected in c.rejected_quotes:
                pdf.para(f'Not in the transcript, not evidence: "{rejected}"', size=8)
