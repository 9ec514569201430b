"""Text of a scanned (image-only) PDF by OCR: pages rendered with `pypdfium2` (PDFium, wheels on
PyPI) and read by Debian's `tesseract-ocr` (a subprocess, English by default).

Only used when a PDF has no text layer. Each page is rendered in grey at 200 dpi (1.2 s a page
on this 2-core machine with one OCR thread; 300 dpi read no better and took longer) and piped to
`tesseract stdin stdout` as a PGM image, so nothing is written to disk. Without the binary, OCR is
reported as unavailable and the document keeps its "no text found: scanned document?" note.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess

import pypdfium2

log = logging.getLogger(__name__)

DPI = 200
MAX_PAGES = 2
"""Contact details are on the first page; a second covers a cover letter first."""
TIMEOUT = 30.0
"""Seconds one page may take before OCR gives up on it."""


def available() -> bool:
    return shutil.which("tesseract") is not None


def ocr_pdf(data: bytes, *, max_pages: int = MAX_PAGES, language: str = "eng") -> str:
    """The OCR text of the first `max_pages` pages ("" when OCR is unavailable or reads nothing).
    Raises ValueError when PDFium cannot open the document."""
    if not available():
        return ""
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise ValueError(f"the PDF could not be rendered for OCR: {exc}") from None
    try:
        texts = [_page_text(document[i], language) for i in range(min(len(document), max_pages))]
    finally:
        document.close()
    return "\n\f".join(t for t in texts if t.strip())


def _page_text(page: pypdfium2.PdfPage, language: str) -> str:
    grey = page.render(scale=DPI / 72, grayscale=True).to_numpy()
    if grey.ndim == 3:
        grey = grey[:, :, 0]
    image = b"P5 %d %d 255\n" % (grey.shape[1], grey.shape[0]) + grey.tobytes()
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one thread: several threads are slower here
    try:
        done = subprocess.run(["tesseract", "stdin", "stdout", "-l", language, "--psm", "3"], input=image,
                              capture_output=True, timeout=TIMEOUT, env=env, check=False)
    except subprocess.TimeoutExpired:
        log.warning("intake.ocr_timeout", extra={"timeout_s": TIMEOUT})
        return ""
    if done.returncode != 0:
        log.warning("intake.ocr_failed", extra={"error": done.stderr.decode(errors="replace")[:200]})
        return ""
    return done.stdout.decode("utf-8", errors="replace")
