"""Contact fields from a resume's text, offline: name, email, phone (E.164) and location.

`extract_contacts(text, default_region="US")` reads the text as lines (pages separated by form
feeds), finds the candidate's emails and phones, takes the contact block around them and the top of
page 1, and reads the name and the location from that block. Every field is a `FieldGuess` with a
confidence; below 0.8 its reason says what is doubtful. The rules are general (labels, the place of
the contact block, phonenumbers' validity check) and are not fitted to any one document: see the
modules `contact_email`, `contact_phone`, `contact_name` and `contact_location`.
"""

from __future__ import annotations

import phonenumbers

from milo_voice.intake.contact_email import (
    beside_mailbox,
    email_guess,
    email_hits,
    organisation_mailboxes,
    own_emails,
)
from milo_voice.intake.contact_layout import Layout
from milo_voice.intake.contact_location import location_guess
from milo_voice.intake.contact_name import name_guess
from milo_voice.intake.contact_phone import own_phones, phone_guess, phone_hits, phone_value
from milo_voice.intake.contact_region import region_hints
from milo_voice.intake.extraction_types import Contacts, FieldGuess


def extract_contacts(text: str, *, default_region: str = "US", ocr: bool = False) -> Contacts:
    """`ocr`: the text was read by OCR (headings may be misspelt, so heading-like lines are no name)."""
    region = default_region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {default_region!r}")
    layout = Layout.of(text)
    if not layout.lines:
        return _nothing()
    emails, email_doubt = own_emails(layout, email_hits(layout))
    mailboxes = organisation_mailboxes(emails)  # a school's "correio@", and the number beside it
    emails = [hit for hit in emails if hit not in mailboxes]
    layout.anchors = [hit.line.index for hit in emails]
    hits, masked = phone_hits(layout, region_hints(layout, emails, region))
    layout.anchors += [h.line.index for h in hits if not h.fax and (h.labelled or h.international)]
    block = layout.contact_block()
    block_ids = {line.index for line in block}
    phones = [hit for hit in own_phones(hits, block_ids, layout.first_page())
              if not beside_mailbox(hit.line, mailboxes, emails)]
    return Contacts(
        name=name_guess(layout, block, [hit.value for hit in emails], ocr=ocr),
        email=email_guess(emails, email_doubt, block_ids),
        phone=phone_guess(phones, region, masked),
        location=location_guess(layout, block),
        emails=tuple(hit.value for hit in emails),
        phones=tuple(phone_value(hit) for hit in phones),
    )


def _nothing() -> Contacts:
    missing = FieldGuess.missing("no text")
    return Contacts(missing, missing, missing, missing, (), ())
