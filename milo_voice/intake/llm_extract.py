"""An optional LLM pass over a resume, for the fields the offline extractor missed or doubted.

Off by default (MILO_INTAKE_LLM). The model reads the first part of the resume's text and proposes
name, email, phone and location as JSON (OpenAI wire protocol, any compatible server). A proposal
is considered only if it is found in the resume itself (emails and names case- and
space-insensitively, phones as the same number, locations as text): a model's invention never
reaches the review screen. It fills a field the offline extractor left empty, marked with its
source and a confidence under CONFIDENT so the recruiter checks it; where the offline guess was
doubted and the model read something else, the offline value stays and its reason names the
model's reading, for the recruiter to choose. A server that is down or
answers nonsense leaves the offline result as it was.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from dataclasses import replace
from typing import Any

from openai import OpenAI, OpenAIError

from milo_voice.intake.extraction_types import CONFIDENT, Contacts, FieldGuess
from milo_voice.outreach.phones import e164

log = logging.getLogger(__name__)

FIELDS = ("name", "email", "phone", "location")
MAX_CHARS = 6000
"""Characters of the resume sent: the contact block is at the top."""
LLM_CONFIDENCE = 0.65
PHONE_RUN = re.compile(r"\+?[\d(][\d()\-. /]{5,}\d")
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {f: {"type": "string"} for f in FIELDS},
    "required": list(FIELDS),
    "additionalProperties": False,
}
PROMPT = ("You read the text of one resume and return the candidate's own contact details as JSON with "
          "the keys name, email, phone and location. Copy each value exactly as printed; use an empty "
          "string when the resume does not show it. Never use details of other people (references, "
          "co-authors, employers).")


class LlmExtractor:
    def __init__(self, *, base_url: str, model: str, api_key: str = "", timeout: float = 60.0,
                 json_mode: str = "json_schema", client: OpenAI | None = None) -> None:
        self.model, self.json_mode = model, json_mode
        self._client = client or OpenAI(base_url=base_url, api_key=api_key or "none", timeout=timeout,
                                        max_retries=0)

    def propose(self, text: str) -> dict[str, str]:
        """The model's values ({} when the server fails or the reply is not the JSON asked for)."""
        response_format: dict[str, Any] = (
            {"type": "json_object", "schema": SCHEMA} if self.json_mode == "json_object" else
            {"type": "json_schema", "json_schema": {"name": "contacts", "schema": SCHEMA, "strict": True}})
        try:
            completion = self._client.chat.completions.create(  # type: ignore[call-overload]
                model=self.model, temperature=0.0, max_tokens=300, response_format=response_format,
                messages=[{"role": "system", "content": PROMPT},
                          {"role": "user", "content": text[:MAX_CHARS]}])
            content = completion.choices[0].message.content or ""
            data = json.loads(content.strip().removeprefix("```json").removesuffix("```"))
        except (OpenAIError, ValueError, IndexError) as exc:
            log.warning("intake.llm_unavailable", extra={"error": f"{type(exc).__name__}: {exc}"[:200]})
            return {}
        if not isinstance(data, dict):
            return {}
        return {f: str(data.get(f) or "").strip()[:200] for f in FIELDS}

    def improve(self, contacts: Contacts, text: str, region: str) -> Contacts:
        """`contacts` with the missing or doubted fields the model found in `text`."""
        if all(getattr(contacts, f).value and getattr(contacts, f).confidence >= CONFIDENT for f in FIELDS):
            return contacts
        return merge(contacts, self.propose(text), text, region)


def merge(contacts: Contacts, proposal: dict[str, str], text: str, region: str) -> Contacts:
    changes: dict[str, FieldGuess] = {}
    for name in FIELDS:
        mine: FieldGuess = getattr(contacts, name)
        value = proposal.get(name, "")
        trusted = mine.value and mine.confidence >= CONFIDENT
        if not value or trusted or not found_in(name, value, text, region):
            continue
        if name == "phone":
            value = e164(value, region) or value
        if not mine.value:
            changes[name] = FieldGuess(value, LLM_CONFIDENCE, "proposed by the LLM and found in the resume")
        elif _normal(name, value, region) != _normal(name, mine.value, region):
            changes[name] = FieldGuess(mine.value, mine.confidence, f"{mine.reason}; the LLM read {value!r}")
    if not changes:
        return contacts
    emails = (changes["email"].value, *contacts.emails) if "email" in changes else contacts.emails
    phones = (changes["phone"].value, *contacts.phones) if "phone" in changes else contacts.phones
    return replace(contacts, **changes, emails=tuple(dict.fromkeys(emails)),
                   phones=tuple(dict.fromkeys(phones)))


def _normal(field: str, value: str, region: str) -> str:
    if field == "phone":
        return e164(value, region) or re.sub(r"\D", "", value)
    return re.sub(r"\s+", " ", value).strip().casefold()


def found_in(field: str, value: str, text: str, region: str = "US") -> bool:
    """Whether `value` is printed in `text` (so it was read, not made up)."""
    if field == "phone":  # a valid number, printed as one number-like run (with its country code or not)
        wanted = e164(value, region)
        return bool(wanted) and any(e164(run, region) == wanted for run in PHONE_RUN.findall(text))
    squeeze = re.compile(r"\s+")
    value, text = unicodedata.normalize("NFKC", value), unicodedata.normalize("NFKC", text)  # as the fields
    return squeeze.sub(" ", value).strip().casefold() in squeeze.sub(" ", text).casefold()
