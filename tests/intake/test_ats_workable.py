"""Workable assessment provider protocol (issue 17): our pure functions, served by a tiny stand-in
app, driven by the loopback Workable fake; our result PUT through `post_result` to the fake's
server. The real routes and the full flow are tested with the app."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fakes.workable_ats import Applicant, FakeWorkable, WorkableRejects, callback_problem
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from milo_voice.intake import ats_workable as wk
from milo_voice.intake.ats_callback import CallbackFailed, post_result
from milo_voice.intake.ats_types import (
    AtsOrder,
    AtsResult,
    KeyRing,
    ProtocolError,
    TestOffer,
    ats_status,
    provider_status,
)

TOKEN, ORG = "wk-token-5c2e91d07a", 4
ISSUED = "workable-issued-7f3b"
OFFERS = [TestOffer("iv_support", "Support engineer (voice)")]
ROOT = "http://testserver/ats/workable"
DONE = datetime(2026, 5, 2, 16, 40, tzinfo=UTC)
REPORT = "https://milo.example.com/app/candidates/31/report"


class Provider:
    """Our side, reduced to the pure functions and a dict: what web/ will do with the store."""

    def __init__(self) -> None:
        self.tokens = KeyRing([(TOKEN, ORG)])
        self.orders: dict[str, AtsOrder] = {}

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/ats/workable/tests", self.tests, methods=["GET"]),
                                 Route("/ats/workable/assessments", self.assessments, methods=["POST"])])

    def refused(self, request: Request) -> Response | None:
        if wk.check_bearer(request.headers.get("authorization"), self.tokens) != ORG:
            return JSONResponse(wk.error_body(401, "unknown token"), status_code=401)
        return None

    async def tests(self, request: Request) -> Response:
        return self.refused(request) or JSONResponse(wk.tests_body(OFFERS))

    async def assessments(self, request: Request) -> Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        try:
            order = wk.parse_assessment(await request.body())
        except ProtocolError as exc:
            return JSONResponse(wk.error_body(400, str(exc)), status_code=400)
        if order.test_id not in {offer.id for offer in OFFERS}:
            return JSONResponse(wk.error_body(422, f"no test {order.test_id}"), status_code=422)
        assessment_id = f"mv_{len(self.orders) + 1:04d}"
        self.orders[assessment_id] = order
        return JSONResponse(wk.assessment_response(assessment_id))


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
def workable(provider: Provider) -> Iterator[FakeWorkable]:
    with TestClient(provider.app()) as client, FakeWorkable(ROOT, TOKEN, callback_token=ISSUED,
                                                            client=client) as fake:
        yield fake


def completed(**changes: Any) -> AtsResult:
    result = AtsResult("mv_0001", "completed", score=64.0, band="good", report_url=REPORT, completed_at=DONE)
    return replace(result, **changes)


def assessment_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "test_id": "iv_support", "job_shortcode": "A1B2C3D4E5", "job_title": "Support Engineer",
        "callback_url": "https://acme.workable.com/callbacks/assessments/70001",
        "candidate": {"first_name": "Tomás", "last_name": "Lindqvist", "email": "tomas.lindqvist@example.net",
                      "phone": "+46 8 555 012 34"},
    }
    for path, value in changes.items():
        target = body
        *parents, last = path.split("__")
        for parent in parents:
            target = target[parent]
        if value is ...:
            del target[last]
        else:
            target[last] = value
    return body


def put_now(url: str, body: dict[str, Any], token: str = ISSUED) -> None:
    async def go() -> None:
        async with httpx.AsyncClient() as client:
            await post_result(client, "workable", url, body, token, seconds=5.0)
    asyncio.run(go())


# The documented requests, round trip ------------------------------------------------------------

def test_tests_lists_one_test_per_published_interview(workable: FakeWorkable) -> None:
    assert workable.tests() == [("iv_support", "Support engineer (voice)")]


def test_an_assessment_becomes_an_order(workable: FakeWorkable, provider: Provider) -> None:
    assessment_id = workable.create_assessment("iv_support")
    order = provider.orders[assessment_id]
    assert (order.provider, order.test_id, order.first_name, order.last_name) == (
        "workable", "iv_support", "Tomás", "Lindqvist")
    assert (order.email, order.phone) == ("tomas.lindqvist@example.net", "+46 8 555 012 34")
    assert order.callback_url == order.external_id == workable.callback_url(70001)
    assert order.raw["job_shortcode"] == "A1B2C3D4E5"


def test_a_workable_candidate_id_is_the_external_id(workable: FakeWorkable, provider: Provider) -> None:
    assessment_id = workable.create_assessment("iv_support", Applicant(candidate_id="3f1a9c"))
    assert provider.orders[assessment_id].external_id == "3f1a9c"


def test_other_name_spellings_and_numeric_test_ids() -> None:
    body = assessment_body(test_id=12, candidate__first_name=..., candidate__last_name=...,
                           candidate__name="Ana María Ruiz", candidate__phone=None)
    order = wk.parse_assessment(json.dumps(body).encode())
    assert (order.test_id, order.first_name, order.last_name, order.phone) == ("12", "Ana", "María Ruiz", "")
    spelled = assessment_body(candidate__first_name=..., candidate__last_name=...,
                              candidate__firstname="Ana", candidate__lastname="Ruiz")
    assert wk.parse_assessment(json.dumps(spelled).encode()).last_name == "Ruiz"


def test_an_unknown_test_is_refused(workable: FakeWorkable) -> None:
    with pytest.raises(WorkableRejects, match="HTTP 422"):
        workable.create_assessment("iv_gone")


# Malformed bodies -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "says"), [
    (b"\xff\xfe", "not JSON"),
    (b'"text"', "expected an object"),
    (json.dumps(assessment_body(callback_url=...)).encode(), "callback_url is missing"),
    (json.dumps(assessment_body(callback_url="ftp://x/1")).encode(), "not an absolute http"),
    (json.dumps(assessment_body(candidate=...)).encode(), "candidate is missing"),
    (json.dumps(assessment_body(candidate__email="")).encode(), "not an email address"),
    (json.dumps(assessment_body(candidate__first_name=...)).encode(), "first_name is missing"),
    (json.dumps(assessment_body(test_id=" ")).encode(), "test_id is empty"),
    (json.dumps(assessment_body(test_id=...)).encode(), "test_id is missing"),
])
def test_malformed_assessment_is_a_protocol_error(body: bytes, says: str) -> None:
    with pytest.raises(ProtocolError, match=says):
        wk.parse_assessment(body)


def test_malformed_assessment_is_answered_400(workable: FakeWorkable) -> None:
    response = workable.raw("POST", "assessments", body=b'{"test_id": "iv_support"}',
                            headers={**workable.auth(), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"status": 400, "message": "assessments: callback_url is missing"}


def test_callback_hosts_limit_where_we_would_put() -> None:
    body = json.dumps(assessment_body(callback_url="http://10.0.0.5/admin")).encode()
    with pytest.raises(ProtocolError, match=r"10\.0\.0\.5"):
        wk.parse_assessment(body, callback_hosts={"workable.com"})
    assert wk.parse_assessment(json.dumps(assessment_body()).encode(), callback_hosts={"workable.com"})


# Auth --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic " + TOKEN, "Bearer wk-token-wrong",
                                    f"Bearer {TOKEN} extra", TOKEN])
def test_wrong_or_missing_bearer_is_refused(header: str | None) -> None:
    assert wk.check_bearer(header, KeyRing([(TOKEN, ORG)])) is None


def test_the_bearer_token_names_the_organisation(workable: FakeWorkable) -> None:
    assert wk.check_bearer(f"bearer  {TOKEN}", KeyRing([(TOKEN, ORG)])) == ORG
    for headers in ({}, workable.auth("wk-token-wrong")):
        assert workable.raw("GET", "tests", headers=headers).status_code == 401


@given(header=st.text(max_size=300))
def test_no_header_breaks_the_check(header: str) -> None:
    assert wk.check_bearer(header, KeyRing([(TOKEN, ORG)])) in (None, ORG)


# The result PUT back to Workable --------------------------------------------------------------------

def test_results_reach_workable_as_documented(workable: FakeWorkable, provider: Provider) -> None:
    assessment_id = workable.create_assessment("iv_support")
    url = provider.orders[assessment_id].callback_url
    put_now(url, wk.callback_body(AtsResult(assessment_id, "pending")))
    put_now(url, wk.callback_body(completed(partner_interview_id=assessment_id)))
    first, second = workable.wait_callbacks(2)
    assert (first.assessment_id, first.body) == (assessment_id, {"status": "pending"})
    assert second.body == {
        "status": "completed", "results_url": REPORT,
        "assessment": {"score": "64", "grade": "passed", "summary": "AI voice interview; overall 64/100; "
                                                                   "band good; ended 2026-05-02 16:40 UTC."},
    }


def test_a_knock_out_is_a_failed_grade_and_half_points_stay() -> None:
    body = wk.callback_body(completed(score=88.25, band="great", outcome="knocked_out"))
    assert (body["assessment"]["grade"], body["assessment"]["score"]) == ("failed", "88.2")
    assert "knocked out" in body["assessment"]["summary"]
    assert callback_problem(body) == ""


def test_completed_without_a_report_url_is_our_error() -> None:
    with pytest.raises(ValueError, match="results_url"):
        wk.callback_body(completed(report_url=""))
    assert "results_url" in callback_problem({"status": "completed", "assessment": {"score": "5"}})


@pytest.mark.parametrize("body", [
    {"status": "done"}, {"status": "completed", "results_url": REPORT, "assessment": {"score": 64}},
    {"status": "completed", "results_url": REPORT, "assessment": {"grade": "great"}},
    {"status": "pending", "score": "1"}, {"status": "expired", "attachments": [{"url": "report.pdf"}]},
])
def test_the_fake_refuses_shapes_workable_would_not_take(workable: FakeWorkable,
                                                         body: dict[str, Any]) -> None:
    workable.create_assessment("iv_support")
    with pytest.raises(CallbackFailed) as failed:
        put_now(workable.callback_url(70001), body)
    assert (failed.value.status, failed.value.retryable) == (422, False)


def test_a_wrong_issued_token_is_refused(workable: FakeWorkable) -> None:
    workable.create_assessment("iv_support")
    with pytest.raises(CallbackFailed) as failed:
        put_now(workable.callback_url(70001), {"status": "pending"}, token=TOKEN)
    assert failed.value.status == 401
    assert workable.callbacks == []


def test_a_500_raises_callback_failed_and_the_retry_lands(workable: FakeWorkable) -> None:
    workable.create_assessment("iv_support")
    workable.fail_next(2)
    for _ in range(2):
        with pytest.raises(CallbackFailed) as failed:
            put_now(workable.callback_url(70001), {"status": "expired"})
        assert (failed.value.status, failed.value.retryable) == (500, True)
    put_now(workable.callback_url(70001), {"status": "expired"})
    assert workable.attempts == [(70001, 500), (70001, 500), (70001, 200)]
    assert [c.body for c in workable.wait_callbacks(1)] == [{"status": "expired"}]


# Statuses ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("candidate", "has_result", "deadline_passed", "expected"), [
    ("new", False, False, "pending"), ("invited", False, True, "expired"),
    ("in_progress", False, False, "pending"),
    ("evaluating", False, False, "pending"), ("completed", True, False, "completed"),
    ("knocked_out", True, False, "completed"), ("ended_early", True, False, "completed"),
    ("shortlisted", True, False, "completed"), ("dismissed", False, False, "rejected"),
])
def test_candidate_statuses_in_workable_words(candidate: str, has_result: bool, deadline_passed: bool,
                                              expected: str) -> None:
    neutral = ats_status(candidate, has_result=has_result, deadline_passed=deadline_passed)
    assert provider_status("workable", neutral) == expected
    assert callback_problem(wk.callback_body(completed(status=neutral))) == ""
