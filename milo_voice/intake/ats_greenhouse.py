"""Greenhouse Assessment Partner API, partner side (us): the bodies we parse and answer, and the
Basic-auth check. Pure: no HTTP server, no database (web/ serves it; ats_callback sends the PATCH).

Source: https://developers.greenhouse.io/assessment.html (repository grnhse/greenhouse-api-docs,
source/includes/assessment/*.md, read at commit 0c37c31, January 2026). What it documents:

- Greenhouse calls the partner, with HTTP Basic auth over HTTPS: the organisation's API key is the
  username and the password is empty ("key:" base64-encoded). Keys are under 171 characters.
  Errors: 401 for a bad key, 404 for an unknown resource.
- `GET list_tests` -> a JSON array of `{"partner_test_id": str, "partner_test_name": str}`.
- `POST send_test` with `{"partner_test_id", "candidate": {"first_name", "last_name",
  "preferred_name", "resume_url", "phone_number", "email", "greenhouse_profile_url"}, "sent_by",
  "url"}` -> `{"partner_interview_id": str}`. `resume_url` expires after 7 days. `url` is where
  the partner PATCHes when the test is done.
- `GET test_status?partner_interview_id=...` -> `{"partner_status", "partner_profile_url",
  "partner_score", "metadata"}`; `partner_status` "complete" means results are available and
  then `partner_profile_url` is required; `partner_score` is a number; `metadata` is a flat
  object of JavaScript primitives, shown in Greenhouse's results.
- `PATCH <url>` with the same Basic auth and no parameters tells Greenhouse the test changed;
  Greenhouse then calls test_status. (Polling is deprecated for new partners since 2019.)
- `POST response_error` `{"api_call", "errors": [str], ...}`: Greenhouse reports a response of
  ours it could not validate; answer 200.
- Greenhouse may add properties at any time; absent values are null.

Not documented; we chose:
- The application id as `AtsOrder.external_id`: read from `application_id` in the query of
  `greenhouse_profile_url`; without it, the order's `url`.
- `partner_status` words other than "complete" (see ats_types.GREENHOUSE_STATUS).
- `metadata` keys "Band", "Outcome" and "Completed at" (UTC, "2026-05-01 10:15 UTC").
- Our PATCH sends no body (`callback_body` is empty): the result travels in test_status.
- Error bodies: `{"error": message}`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Collection, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from milo_voice.intake.ats_types import (
    GREENHOUSE,
    MAX_KEY_LENGTH,
    AtsOrder,
    AtsResult,
    ProtocolError,
    TestOffer,
    check_url,
    load_json,
    looks_like_email,
    provider_status,
    validation_message,
)

GreenhouseOrder = AtsOrder
"""What `parse_send_test` returns (provider "greenhouse")."""

Primitive = str | int | float | bool | None


class _Incoming(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")  # Greenhouse may add properties


class _Outgoing(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PartnerTest(_Outgoing):
    """One element of the list_tests answer."""

    partner_test_id: str
    partner_test_name: str


class GreenhouseCandidate(_Incoming):
    first_name: str
    last_name: str
    preferred_name: str | None = None  # "required", but null when the candidate has none
    resume_url: str | None = None
    phone_number: str | None = None
    email: str
    greenhouse_profile_url: str


class SendTestRequest(_Incoming):
    partner_test_id: str
    candidate: GreenhouseCandidate
    sent_by: str | None = None
    url: str


class SendTestResponse(_Outgoing):
    partner_interview_id: str


class TestStatusResponse(_Outgoing):
    """The test_status answer; the validator enforces what Greenhouse checks."""

    __test__: ClassVar[bool] = False  # not a pytest class

    partner_status: str
    partner_profile_url: str | None = None
    partner_score: float | None = None
    metadata: dict[str, Primitive] | None = None

    @model_validator(mode="after")
    def _complete_needs_profile(self) -> TestStatusResponse:
        if self.partner_status == "complete" and not self.partner_profile_url:
            raise ValueError("partner_status is 'complete' but partner_profile_url is missing")
        return self


class ResponseErrorRequest(_Incoming):
    """Greenhouse reporting a response of ours it could not validate."""

    api_call: str
    errors: list[str]
    partner_test_id: str | None = None
    partner_test_name: str | None = None
    partner_interview_id: str | None = None
    candidate_email: str | None = None


def list_tests_body(tests: Sequence[TestOffer]) -> list[dict[str, str]]:
    """The list_tests answer: one entry per published interview."""
    return [PartnerTest(partner_test_id=t.id, partner_test_name=t.name).model_dump() for t in tests]


def parse_send_test(body: bytes, *, callback_hosts: Collection[str] | None = None) -> GreenhouseOrder:
    """A send_test request as an order. `callback_hosts` (e.g. {"greenhouse.io"}), when given,
    are the only hosts (or parent domains) `url` may point at: a leaked key then cannot make us
    send requests anywhere else. Raises ProtocolError naming the first bad field."""
    data = load_json(body, "send_test")
    try:
        request = SendTestRequest.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(validation_message("send_test", exc)) from None
    person = request.candidate
    if not request.partner_test_id.strip():
        raise ProtocolError("send_test: partner_test_id is empty; expected the id of a test from list_tests")
    if not person.first_name.strip():
        raise ProtocolError("send_test: candidate.first_name is empty")
    if not looks_like_email(person.email):
        raise ProtocolError(f"send_test: candidate.email {person.email[:80]!r} is not an email address")
    check_url(request.url, "send_test: url", callback_hosts)
    return AtsOrder(
        provider=GREENHOUSE, test_id=request.partner_test_id.strip(),
        first_name=person.first_name.strip(), last_name=person.last_name.strip(),
        email=person.email.strip(), phone=(person.phone_number or "").strip(),
        external_id=_application_id(person.greenhouse_profile_url) or request.url,
        callback_url=request.url, resume_url=person.resume_url or "", raw=data)


def _application_id(profile_url: str) -> str:
    """`application_id` from the query of a greenhouse_profile_url ("" when absent)."""
    values = parse_qs(urlsplit(profile_url).query).get("application_id", [])
    return values[0].strip() if values and values[0].strip().isdigit() else ""


def send_test_response(partner_interview_id: str) -> dict[str, str]:
    return SendTestResponse(partner_interview_id=partner_interview_id).model_dump()


def test_status_body(result: AtsResult) -> dict[str, Any]:
    """The test_status answer for one order. Raises ValueError for a completed result without a
    report URL (Greenhouse refuses it)."""
    status = provider_status(GREENHOUSE, result.status)
    metadata: dict[str, Primitive] = {}
    if result.band:
        metadata["Band"] = result.band.capitalize()
    if result.outcome:
        metadata["Outcome"] = result.outcome.replace("_", " ")
    if result.completed_at is not None:
        metadata["Completed at"] = f"{result.completed_at:%Y-%m-%d %H:%M} UTC"
    answer = TestStatusResponse(
        partner_status=status, partner_profile_url=result.report_url or None,
        partner_score=None if result.score is None else round(result.score, 1),
        metadata=metadata or None)
    return answer.model_dump(exclude_none=True)


test_status_body.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def callback_body(result: AtsResult) -> dict[str, Any]:
    """What we PATCH to Greenhouse's `url`: nothing. The documented PATCH takes no parameters;
    Greenhouse answers it by calling test_status, which returns `test_status_body(result)`."""
    del result
    return {}


def parse_response_error(body: bytes) -> ResponseErrorRequest:
    data = load_json(body, "response_error")
    try:
        return ResponseErrorRequest.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(validation_message("response_error", exc)) from None


def error_body(message: str) -> dict[str, str]:
    """Our 4xx body (not documented by Greenhouse)."""
    return {"error": message}


def basic_auth_key(header: str | None) -> str | None:
    """The API key (the username) from an `Authorization: Basic ...` header; None when the header
    is missing or malformed. The password Greenhouse sends is empty and is ignored."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    key, colon, _password = decoded.partition(":")
    if not colon or not key or len(key) > MAX_KEY_LENGTH:
        return None
    return key


def check_basic_auth(header: str | None, api_keys: Callable[[str], int | None]) -> int | None:
    """The organisation id the request's API key belongs to, or None (answer 401). `api_keys`
    looks a key up by digest in constant time (ats_types.KeyRing, or the store by key_digest)."""
    key = basic_auth_key(header)
    return None if key is None else api_keys(key)


def basic_auth_header(api_key: str) -> str:
    """The header Greenhouse sends, and the one our PATCH sends back: "Basic base64(key:)"."""
    return "Basic " + base64.b64encode(f"{api_key}:".encode()).decode("ascii")
