"""Phone numbers as Twilio wants them: E.164 (`+`, country code, subscriber number, no spaces).

Parsed and checked with `phonenumbers` (Google's libphonenumber metadata): "+1 415 555 0100"
becomes "+14155550100"; "12345", a number without its country code, an impossible length or a
range no country uses are refused with a message that says the expected form.
"""

from __future__ import annotations

import phonenumbers

from milo_voice.store.repo import Invalid

EXAMPLE = "+14155550100"
FORMAT = f"E.164: a + then the country code and the number, e.g. {EXAMPLE} or +44 20 7946 0958"


def to_e164(number: str) -> str:
    """`number` in E.164 form, or `Invalid` saying what is wrong and what the form is."""
    text = number.strip()
    if not text:
        raise Invalid(f"a phone number is required ({FORMAT})")
    if len(text) > 40:
        raise Invalid(f"{text[:40]!r}... is too long for a phone number ({FORMAT})")
    if not text.startswith("+"):
        raise Invalid(f"{text!r} has no country code; write it in {FORMAT}")
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise Invalid(f"{text!r} is not a phone number; write it in {FORMAT}") from None
    if parsed.extension:
        raise Invalid(f"{text!r} has an extension; Twilio numbers have none ({FORMAT})")
    if not phonenumbers.is_possible_number(parsed):
        raise Invalid(f"{text!r} has the wrong number of digits for its country code; write it in {FORMAT}")
    if not phonenumbers.is_valid_number(parsed):
        raise Invalid(f"{text!r} is not a number in use in any country's numbering plan ({FORMAT})")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """"+14155550100" -> "+1 415-555-0100" (the international form, for people to read and dial)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
