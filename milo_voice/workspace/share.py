"""Sharing an interview: QR codes (PNG, SVG) of its public link and a printable one-page poster (PDF).

QR error correction is "M" (15% recovery): printed posters get scuffed, and "H" would make the
code denser for a short URL with no gain at poster size. The poster is A4 portrait with the logo
(when there is one), the role, a call to action, the QR code and the link spelled out for people
who cannot scan. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import io
import unicodedata

import segno
from fpdf import FPDF

from milo_voice.workspace.editor import logo_bytes

WINANSI = "cp1252"
"""The encoding fpdf2 declares for its core fonts (Helvetica): WinAnsiEncoding."""


def qr_png(url: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(url: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        buffer, kind="svg", scale=scale, border=4, title="Interview link", xmldecl=False
    )
    return buffer.getvalue()


def winansi(text: str) -> str:
    """`text` as the core fonts can print it: they use the PDF's WinAnsiEncoding (Windows-1252), so
    dashes, curly quotes, the euro sign and the ellipsis stay. A character outside it is folded to
    its base letter (NFKD: "ő" -> "o") or, failing that, printed as '?' instead of failing."""
    out = []
    for char in text:
        try:
            char.encode(WINANSI)
            out.append(char)
        except UnicodeEncodeError:
            folded = unicodedata.normalize("NFKD", char).encode(WINANSI, "ignore").decode(WINANSI)
            out.append(folded or "?")
    return "".join(out)


def poster_pdf(*, url: str, title: str, role: str, logo: str = "") -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.core_fonts_encoding = WINANSI  # fpdf2's default, Latin-1, turned "–" into "?"
    pdf.set_title(title)
    pdf.set_creator("milo-voice")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    top = 25.0
    if logo:
        pdf.image(io.BytesIO(logo_bytes(logo)), x=80, y=top, w=50, keep_aspect_ratio=True, h=30)
        top += 38
    pdf.set_y(top)
    pdf.set_font("Helvetica", "B", 30)
    pdf.multi_cell(0, 13, winansi(role or title), align="C")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 17)
    pdf.multi_cell(
        0,
        8,
        "We're hiring. Scan the code to start a short voice interview,\n"
        "any time, from your phone or computer.",
        align="C",
    )
    pdf.ln(6)
    png = io.BytesIO(qr_png(url, scale=10))
    size = 110.0
    pdf.image(png, x=(210 - size) / 2, y=pdf.get_y(), w=size, h=size)
    pdf.set_y(pdf.get_y() + size + 6)
    pdf.set_font("Helvetica", "", 13)
    pdf.multi_cell(0, 7, winansi(url), align="C")
    pdf.set_y(275)
    pdf.set_font("Helvetica", "I", 10)
    pdf.multi_cell(0, 5, winansi(title), align="C")
    return bytes(pdf.output())
