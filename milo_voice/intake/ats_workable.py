"""Workable assessment provider API, provider side (us): the bodies we parse and answer, the
callback body, and the bearer check. Pure: no HTTP server, no database.

Sources:
- https://workable.readme.io/page/assessment-providers (Workable's provider page). The copy we
  could read covers: two endpoints under the provider's base URL, `GET ${BASE_URL}/tests` and
  `POST ${BASE_URL}/assessments`; every call from Workable carries `Authorization: Bearer <token>`,
  a token the provider gives the customer to configure in their Workable account; calls from the
  provider to Workable carry a bearer token that Workable generates when the integration is
  created; `GET /tests` answers `{"tests": [{"id": ..., "name": ...}]}`; one test per job; the
  results go to an endpoint Workable gives when it creates an assessment.
- The rest of that page (the create body, the answer, the result callback) was not in the copy we
  could read. Below it follows a partner's write-up of the same page (github.com/sampatel3/
  tali-platform, docs/WORKABLE_ASSESSMENTS_PROVIDER_SPEC.md, 2026-06), to be checked against the
  live page before going live:
  `POST /assessments` `{"test_id", "job_shortcode", "job_title", "callback_url", "candidate":
  {"first_name", "last_name", "email", "phone"}}` -> `{"assessment_id": ...}`; results are PUT to
  `callback_url` as the status changes: `{"status": "pending" | "completed" | "rejected" |
  "expired", "results_url", "assessment": {"score", "grade", "summary", "details", "duration"},
  "attachments": [{"description", "url"}]}`; `results_url` is mandatory when completed; `grade`
  is "failed", "passed" or "excelled" (shown as no / yes / definitely yes); errors are
  `{"status": code, "message": text}`.

Not documented (or not readable); we chose:
- Test ids are strings (the page's example shows numbers; ours are opaque). A numeric `test_id`
  in a request is read as a string.
- Candidate names are read from `first_name`/`last_name` or Workable's own API spelling
  `firstname`/`lastname`, and split from `name` when only that is sent.
- `AtsOrder.external_id` is `candidate.id` when sent, else the `callback_url` (one per order).
- We answer the create with 200 and `{"assessment_id": ...}`.
- `score` is sent as a string of the number ("82", "82.5"), as in the write-up's example; the
  grade comes from our band (great -> excelled, good -> passed, bad or knocked out -> failed);
  `summary` is one line; `details`, `duration` and `attachments` are not sent.
- In progress is reported as "pending" (Workable has no such state).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, ClassVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from milo_voice.intake.ats_types import (
    WORKABLE,
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

WorkableOrder = AtsOrder
"""What `parse_assessment` returns (provider "workable")."""

GRADES = {"great": "excelled", "good": "passed", "bad": "failed"}
"""Our band -> Workable grade."""


class _Incoming(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)


class _Outgoing(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WorkableTest(_Outgoing):
    id: str
    name: str


class TestsResponse(_Outgoing):
    __test__: ClassVar[bool] = False  # not a pytest class

    tests: list[WorkableTest]


class WorkableCandidate(_Incoming):
    id: str | None = None
    first_name: str | None = Field(default=None, validation_alias=AliasChoices("first_name", "firstname"))
    last_name: str | None = Field(default=None, validation_alias=AliasChoices("last_name", "lastname"))
    name: str | None = None
    email: str
    phone: str | None = None


class CreateAssessmentRequest(_Incoming):
    test_id: str
    job_shortcode: str | None = None
    job_title: str | None = None
    callback_url: str
    candidate: WorkableCandidate


class CreateAssessmentResponse(_Outgoing):
    assessment_id: str


class AssessmentResult(_Outgoing):
    score: str | None = None
    grade: str | None = None
    summary: str | None = None


class CallbackBody(_Outgoing):
    status: str
    results_url: str | None = None
    assessment: AssessmentResult | None = None


def tests_body(tests: Sequence[TestOffer]) -> dict[str, Any]:
    """The `GET /tests` answer: one test per published interview."""
    return TestsResponse(tests=[WorkableTest(id=t.id, name=t.name) for t in tests]).model_dump()


def parse_assessment(body: bytes, *, callback_hosts: Collection[str] | None = None) -> WorkableOrder:
    """A `POST /assessments` request as an order. `callback_hosts` (e.g. {"workable.com"}), when
    given, are the only hosts `callback_url` may point at. Raises ProtocolError naming the field."""
    data = load_json(body, "assessments")
    try:
        request = CreateAssessmentRequest.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(validation_message("assessments", exc)) from None
    person = request.candidate
    if not request.test_id.strip():
        raise ProtocolError("assessments: test_id is empty; expected the id of a test from GET /tests")
    first, last = _names(person)
    if not first:
        raise ProtocolError("assessments: candidate.first_name is missing (nor is there a candidate.name)")
    if not looks_like_email(person.email):
        raise ProtocolError(f"assessments: candidate.email {person.email[:80]!r} is not an email address")
    check_url(request.callback_url, "assessments: callback_url", callback_hosts)
    return AtsOrder(
        provider=WORKABLE, test_id=request.test_id.strip(), first_name=first, last_name=last,
        email=person.email.strip(), phone=(person.phone or "").strip(),
        external_id=(person.id or "").strip() or request.callback_url,
        callback_url=request.callback_url, raw=data)


def _names(person: WorkableCandidate) -> tuple[str, str]:
    first, last = (person.first_name or "").strip(), (person.last_name or "").strip()
    if not first and person.name:
        first, _, rest = person.name.strip().partition(" ")
        last = last or rest.strip()
    return first, last


def assessment_response(assessment_id: str) -> dict[str, str]:
    return CreateAssessmentResponse(assessment_id=assessment_id).model_dump()


def callback_body(result: AtsResult) -> dict[str, Any]:
    """What we PUT to the order's `callback_url`. Raises ValueError for a completed result without
    a report URL (`results_url` is mandatory then)."""
    status = provider_status(WORKABLE, result.status)
    if status != "completed":
        return CallbackBody(status=status).model_dump(exclude_none=True)
    if not result.report_url:
        raise ValueError("a completed Workable result needs report_url (results_url is mandatory)")
    knocked_out = result.outcome == "knocked_out"
    grade = "failed" if knocked_out else GRADES.get(result.band)
    assessment = AssessmentResult(score=_score_text(result.score), grade=grade, summary=_summary(result))
    body = CallbackBody(status=status, results_url=result.report_url, assessment=assessment)
    return body.model_dump(exclude_none=True)


def _score_text(score: float | None) -> str | None:
    if score is None:
        return None
    rounded = round(score, 1)
    return f"{rounded:.0f}" if rounded == int(rounded) else f"{rounded:.1f}"


def _summary(result: AtsResult) -> str:
    parts = ["AI voice interview"]
    if result.score is not None:
        parts.append(f"overall {_score_text(result.score)}/100")
    if result.band:
        parts.append(f"band {result.band}")
    if result.outcome in ("knocked_out", "ended_early"):
        parts.append(result.outcome.replace("_", " "))
    if result.completed_at is not None:
        parts.append(f"ended {result.completed_at:%Y-%m-%d %H:%M} UTC")
    return "; ".join(parts) + "."


def error_body(status: int, message: str) -> dict[str, Any]:
    """Our 4xx body, in the shape the write-up gives: {"status": code, "message": text}."""
    return {"status": status, "message": message}


def bearer_token(header: str | None) -> str | None:
    """The token from an `Authorization: Bearer ...` header; None when missing or malformed."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def check_bearer(header: str | None, tokens: Callable[[str], int | None]) -> int | None:
    """The organisation id the request's bearer token belongs to, or None (answer 401). `tokens`
    looks a token up by digest in constant time (ats_types.KeyRing, or the store by key_digest)."""
    token = bearer_token(header)
    return None if token is None else tokens(token)


def bearer_header(token: str) -> str:
    return f"Bearer {token}"
