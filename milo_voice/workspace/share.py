"""Sharing an interview: QR codes (PNG, SVG) of its public link and a printable one-page poster (PDF).

QR error correction is "M" (15% recovery): printed posters get scuffed, and "H" would make the
code denser for a short URL with no gain at poster size. The poster is A4 portrait with the logo
(when there is one), the role, a call to action, the QR code and the link spelled out for people
who cannot scan. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import io

import segno
from fpdf import FPDF

from milo_voice.workspace.editor import logo_bytes


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


def _latin1(text: str) -> str:
    """fpdf2's core fonts are Latin-1; other characters print as '?' instead of failing."""
    return text.encode("latin-1", "replace").decode("latin-1")


def poster_pdf(*, url: str, title: str, role: str, logo: str = "") -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(_latin1(title))
    pdf.set_creator("milo-voice")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    top = 25.0
    if logo:
        pdf.image(io.BytesIO(logo_bytes(logo)), x=80, y=top, w=50, keep_aspect_ratio=True, h=30)
        top += 38
    pdf.set_y(top)
    pdf.set_font("Helvetica", "B", 30)
    pdf.multi_cell(0, 13, _latin1(role or title), align="C")
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
    pdf.multi_cell(0, 7, _latin1(url), align="C")
    pdf.set_y(275)
    pdf.set_font("Helvetica", "I", 10)
    pdf.multi_cell(0, 5, _latin1(title), align="C")
    return bytes(pdf.output())
