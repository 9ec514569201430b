"""One uploaded resume -> its text and contact fields (offline).

`extract_resume(data, filename)` raises `UnreadableDocument` (a ValueError whose message is for the
recruiter) when the file cannot be read: encrypted, truncated or damaged, not what its name says,
an unsupported type. A PDF without a text layer is not an error: it gives `contacts=None` and
`problem == NO_TEXT` ("no text found: scanned document?"), with the page count. A bulk upload
reports either per file and ingests the rest.

A PDF without a text layer is read by OCR when Debian's `tesseract-ocr` is installed (`ocr.py`):
its fields then carry at most `OCR_CONFIDENCE`, with the reason "read by OCR from a scanned page",
so the review screen asks the recruiter to check them, and `problem` says OCR was used.
"""

from __future__ import annotations

import re
from dataclasses import replace

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.document_text import read_document
from milo_voice.intake.extraction_types import Contacts, Extraction, FieldGuess
from milo_voice.intake.ocr import ocr_pdf

NO_TEXT = "no text found: scanned document?"
BY_OCR = "scanned document: text read by OCR; check the fields"
OCR_CONFIDENCE = 0.7
"""The most an OCR-read field is trusted (below CONFIDENT: the review screen shows the reason)."""
MIN_TEXT_CHARS = 20
"""Fewer visible characters than this (page numbers, a stray mark) count as no text layer."""


def extract_resume(data: bytes, filename: str, *, default_region: str = "US") -> Extraction:
    document = read_document(data, filename)
    if not has_text(document.text):
        text = clean_ocr(ocr_pdf(data)) if document.kind == "pdf" else ""
        if not has_text(text):
            return Extraction(None, document.text, document.pages, NO_TEXT)
        contacts = _doubted(extract_contacts(text, default_region=default_region, ocr=True))
        return Extraction(contacts, text, document.pages, BY_OCR)
    contacts = extract_contacts(document.text, default_region=default_region)
    return Extraction(contacts, document.text, document.pages, "")


ICON_AFTER_NUMBER = re.compile(r"(?<=\d)[ \t]+\d(?=[ \t]+[^\d\s])")
LONE_SYMBOL = re.compile(r"(?<=\S)[ \t]+[^\w\s.,;:()+\-'\"&/][ \t]+(?=\S)")
"""A lone symbol between two items of a line: an icon ("\\" for a phone, "©" or "@" for an email)."""
"""A lone digit between a number and a word: on a scanned contact line, the icon before the next item
(a map pin reads as "9", a phone as "%"). No phone format ends in a one-digit group, so a number
never loses a real digit this way; a location may ("Suite 9 Main St"), and location is fuzzy."""


def clean_ocr(text: str) -> str:
    """Icons read as characters become item separators, as the layout showed them."""
    return LONE_SYMBOL.sub(" | ", ICON_AFTER_NUMBER.sub(" | ", text))


def _doubted(contacts: Contacts) -> Contacts:
    """OCR'd fields, trusted less (each below CONFIDENT, so the review screen asks for a check)."""

    def cap(guess: FieldGuess) -> FieldGuess:
        if not guess.value or guess.confidence <= OCR_CONFIDENCE:
            return guess
        return FieldGuess(guess.value, OCR_CONFIDENCE, "read by OCR from a scanned page")

    return replace(contacts, name=cap(contacts.name), email=cap(contacts.email), phone=cap(contacts.phone),
                   location=cap(contacts.location))


def has_text(text: str) -> bool:
    return sum(1 for ch in text if not ch.isspace()) >= MIN_TEXT_CHARS
