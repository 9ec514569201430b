"""Candidates' phone numbers as SMS providers need them: E.164, parsed with `phonenumbers`
(libphonenumber's metadata, so every country's lengths and ranges are right). A number written
without its country code is read in the default region (US)."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "US"


def e164(phone: str, region: str = DEFAULT_REGION) -> str:
    """The candidate's phone in E.164 for the SMS provider ("" when it is not a valid number); a
    number written without its country code is read in `region`."""
    try:
        parsed = phonenumbers.parse(phone, None if phone.strip().startswith("+") else region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_problem(phone: str, region: str = DEFAULT_REGION) -> str:
    """Why `phone` cannot be texted or called ("" when it can, or when it is empty)."""
    if not phone.strip() or e164(phone, region):
        return ""
    return (f"{phone!r} is not a phone number we can reach; write it with its country code, "
            f"e.g. +1 415 555 0100 (numbers without one are read as {region} numbers)")
