"""Greenhouse Assessment Partner protocol (issue 17): our pure functions, served by a tiny stand-in
app, driven by the loopback Greenhouse fake; our PATCH through `post_result` to the fake's server.
The real routes and the full flow are tested with the app."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fakes.greenhouse_ats import Applicant, FakeGreenhouse, GreenhouseRejects, check_test_status
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from milo_voice.intake import ats_greenhouse as gh
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

KEY, ORG = "gh-key-0d8f3a9c1b7e", 7
OFFERS = [TestOffer("iv_support", "Support engineer (voice)"), TestOffer("iv_sales", "Account executive")]
ROOT = "http://testserver/ats/greenhouse"
DONE = datetime(2026, 5, 1, 10, 15, tzinfo=UTC)


class Partner:
    """Our side, reduced to the pure functions and a dict: what web/ will do with the store."""

    def __init__(self) -> None:
        self.keys = KeyRing([(KEY, ORG)])
        self.orders: dict[str, AtsOrder] = {}
        self.results: dict[str, AtsResult] = {}
        self.reported: list[gh.ResponseErrorRequest] = []

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/ats/greenhouse/list_tests", self.list_tests, methods=["GET"]),
            Route("/ats/greenhouse/send_test", self.send_test, methods=["POST"]),
            Route("/ats/greenhouse/test_status", self.test_status, methods=["GET"]),
            Route("/ats/greenhouse/response_error", self.response_error, methods=["POST"]),
        ])

    def refused(self, request: Request) -> Response | None:
        if gh.check_basic_auth(request.headers.get("authorization"), self.keys) != ORG:
            return JSONResponse(gh.error_body("unknown API key"), status_code=401)
        return None

    async def list_tests(self, request: Request) -> Response:
        return self.refused(request) or JSONResponse(gh.list_tests_body(OFFERS))

    async def send_test(self, request: Request) -> Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        try:
            order = gh.parse_send_test(await request.body())
        except ProtocolError as exc:
            return JSONResponse(gh.error_body(str(exc)), status_code=400)
        if order.test_id not in {offer.id for offer in OFFERS}:
            return JSONResponse(gh.error_body(f"no test {order.test_id}"), status_code=404)
        partner_id = f"mv_{len(self.orders) + 1:04d}"
        self.orders[partner_id] = order
        self.results[partner_id] = AtsResult(partner_id, "pending")
        return JSONResponse(gh.send_test_response(partner_id))

    async def test_status(self, request: Request) -> Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        result = self.results.get(request.query_params.get("partner_interview_id", ""))
        if result is None:
            return JSONResponse(gh.error_body("no such interview"), status_code=404)
        return JSONResponse(gh.test_status_body(result))

    async def response_error(self, request: Request) -> Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        self.reported.append(gh.parse_response_error(await request.body()))
        return JSONResponse({"status": 200})


@pytest.fixture
def partner() -> Partner:
    return Partner()


@pytest.fixture
def greenhouse(partner: Partner) -> Iterator[FakeGreenhouse]:
    with TestClient(partner.app()) as client, FakeGreenhouse(ROOT, KEY, client=client) as fake:
        yield fake


def completed(partner_id: str, **changes: Any) -> AtsResult:
    result = AtsResult(partner_id, "completed", score=82.46, band="great",
                       report_url="https://milo.example.com/app/candidates/12/report", completed_at=DONE)
    return replace(result, **changes)


def send_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "partner_test_id": "iv_support",
        "candidate": {"first_name": "Mira", "last_name": "Okafor", "preferred_name": None, "resume_url": None,
                      "phone_number": "+44 20 7946 0018", "email": "mira.okafor@example.org",
                      "greenhouse_profile_url": "https://app.greenhouse.io/people/40213?application_id=771204"},
        "sent_by": None,
        "url": "https://app.greenhouse.io/integrations/testing_partners/take_home_tests/9001",
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


def patch_now(url: str, body: dict[str, Any], key: str = KEY) -> None:
    async def go() -> None:
        async with httpx.AsyncClient() as client:
            await post_result(client, "greenhouse", url, body, key, seconds=5.0)
    asyncio.run(go())


# The documented requests, round trip ------------------------------------------------------------

def test_list_tests_answers_one_test_per_published_interview(greenhouse: FakeGreenhouse) -> None:
    assert greenhouse.list_tests() == [("iv_support", "Support engineer (voice)"),
                                       ("iv_sales", "Account executive")]


def test_send_test_becomes_an_order_with_the_application_as_external_id(
        greenhouse: FakeGreenhouse, partner: Partner) -> None:
    applicant = Applicant(application_id=5550123)
    partner_id = greenhouse.send_test("iv_support", applicant, sent_by="rec@example.org")
    order = partner.orders[partner_id]
    assert (order.provider, order.test_id, order.first_name, order.last_name) == (
        "greenhouse", "iv_support", "Mira", "Okafor")
    assert (order.email, order.phone, order.external_id) == ("mira.okafor@example.org", "+44 20 7946 0018",
                                                             "5550123")
    assert order.callback_url == greenhouse.callback_url(90001)
    assert order.resume_url == "https://example.org/resumes/mira-okafor.pdf"
    assert order.raw["sent_by"] == "rec@example.org"


def test_test_status_before_and_after_the_interview(greenhouse: FakeGreenhouse, partner: Partner) -> None:
    partner_id = greenhouse.send_test("iv_sales")
    assert greenhouse.test_status(partner_id) == {"partner_status": "pending"}
    partner.results[partner_id] = completed(partner_id, outcome="knocked_out")
    assert greenhouse.test_status(partner_id) == {
        "partner_status": "complete",
        "partner_profile_url": "https://milo.example.com/app/candidates/12/report",
        "partner_score": 82.5,
        "metadata": {"Band": "Great", "Outcome": "knocked out", "Completed at": "2026-05-01 10:15 UTC"},
    }


def test_a_completed_result_needs_a_report_url() -> None:
    with pytest.raises(ValueError, match="partner_profile_url"):
        gh.test_status_body(completed("mv_1", report_url=""))
    with pytest.raises(GreenhouseRejects, match="partner_profile_url"):
        check_test_status({"partner_status": "complete", "partner_score": 50})


def test_unknown_test_and_interview_are_404(greenhouse: FakeGreenhouse) -> None:
    with pytest.raises(GreenhouseRejects, match="HTTP 404"):
        greenhouse.send_test("iv_gone")
    with pytest.raises(GreenhouseRejects, match="HTTP 404"):
        greenhouse.test_status("mv_9999")


def test_response_error_is_taken(greenhouse: FakeGreenhouse, partner: Partner) -> None:
    answer = greenhouse.report_error("test_status", ["partner_status is missing"],
                                     partner_interview_id="mv_0001")
    assert answer.status_code == 200
    assert partner.reported[0].errors == ["partner_status is missing"]
    assert partner.reported[0].partner_interview_id == "mv_0001"


# Malformed send_test bodies ---------------------------------------------------------------------

@pytest.mark.parametrize(("body", "says"), [
    (b"{not json", "not JSON"),
    (b"[]", "expected an object"),
    (json.dumps(send_body(candidate=...)).encode(), "candidate is missing"),
    (json.dumps(send_body(candidate__email=...)).encode(), "candidate.email is missing"),
    (json.dumps(send_body(candidate__email="mira at example")).encode(), "not an email address"),
    (json.dumps(send_body(candidate__first_name=" ")).encode(), "first_name is empty"),
    (json.dumps(send_body(candidate__last_name=None)).encode(), "candidate.last_name"),
    (json.dumps(send_body(url=...)).encode(), "url is missing"),
    (json.dumps(send_body(url="/take_home_tests/9001")).encode(), "not an absolute http(s) URL"),
    (json.dumps(send_body(partner_test_id=12345)).encode(), "partner_test_id"),
    (json.dumps(send_body(partner_test_id="")).encode(), "partner_test_id is empty"),
    (b" " * (64 * 1024 + 1), "at most"),
])
def test_malformed_send_test_is_a_protocol_error(body: bytes, says: str) -> None:
    with pytest.raises(ProtocolError, match=says.replace("(", r"\(").replace(")", r"\)")):
        gh.parse_send_test(body)


def test_malformed_send_test_is_answered_400(greenhouse: FakeGreenhouse) -> None:
    response = greenhouse.raw("POST", "send_test", body=b'{"partner_test_id": "iv_support"}',
                              headers={**greenhouse.auth(), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "candidate is missing" in response.json()["error"]


def test_send_test_tolerates_new_properties_and_nulls() -> None:
    order = gh.parse_send_test(json.dumps(send_body(candidate__phone_number=None, added_later={"x": 1},
                                                    candidate__pronouns="she/her")).encode())
    assert (order.phone, order.resume_url) == ("", "")


def test_without_an_application_id_the_order_url_is_the_external_id() -> None:
    body = send_body(candidate__greenhouse_profile_url="https://app.greenhouse.io/people/40213")
    order = gh.parse_send_test(json.dumps(body).encode())
    assert order.external_id == body["url"]


def test_callback_hosts_limit_where_we_would_patch() -> None:
    body = json.dumps(send_body(url="https://169.254.169.254/latest/meta-data")).encode()
    with pytest.raises(ProtocolError, match=r"expected a host under greenhouse\.io"):
        gh.parse_send_test(body, callback_hosts={"greenhouse.io"})
    assert gh.parse_send_test(json.dumps(send_body()).encode(), callback_hosts={"greenhouse.io"})


# Auth --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [
    None, "", "Basic", "Bearer " + KEY, "Basic !!notbase64!!", gh.basic_auth_header("gh-key-wrong"),
    "Basic " + base64.b64encode(KEY.encode()).decode(),  # no colon
    gh.basic_auth_header(""),
])
def test_wrong_or_missing_auth_is_refused(header: str | None) -> None:
    assert gh.check_basic_auth(header, KeyRing([(KEY, ORG)])) is None


def test_the_api_key_as_username_names_the_organisation() -> None:
    ring = KeyRing([(KEY, ORG), ("other-key", 9)])
    assert gh.check_basic_auth(gh.basic_auth_header(KEY), ring) == ORG
    assert gh.check_basic_auth("basic " + gh.basic_auth_header("other-key")[6:], ring) == 9


@given(key=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1,
                   max_size=170))
def test_any_issued_key_round_trips(key: str) -> None:
    assert gh.check_basic_auth(gh.basic_auth_header(key), KeyRing([(key, 3)])) == 3


@given(header=st.text(max_size=300))
def test_no_header_breaks_the_check(header: str) -> None:
    assert gh.check_basic_auth(header, KeyRing([(KEY, ORG)])) in (None, ORG)


def test_our_endpoints_refuse_a_wrong_key(greenhouse: FakeGreenhouse) -> None:
    for headers in ({}, greenhouse.auth("gh-key-wrong")):
        assert greenhouse.raw("GET", "list_tests", headers=headers).status_code == 401
    with pytest.raises(GreenhouseRejects, match="HTTP 401"):
        FakeGreenhouse(ROOT, "gh-key-wrong", client=greenhouse.client).list_tests()


# The PATCH back to Greenhouse ----------------------------------------------------------------------

def test_the_patch_reaches_greenhouse_which_then_reads_test_status(
        greenhouse: FakeGreenhouse, partner: Partner) -> None:
    partner_id = greenhouse.send_test("iv_support")
    partner.results[partner_id] = completed(partner_id)
    order = partner.orders[partner_id]
    patch_now(order.callback_url, gh.callback_body(partner.results[partner_id]))
    [answer] = greenhouse.follow_patches(1)
    assert greenhouse.patches[0].partner_interview_id == partner_id
    assert (answer["partner_status"], answer["partner_score"]) == ("complete", 82.5)


def test_a_patch_with_the_wrong_key_is_refused_for_good(greenhouse: FakeGreenhouse) -> None:
    greenhouse.send_test("iv_support")
    with pytest.raises(CallbackFailed) as failed:
        patch_now(greenhouse.callback_url(90001), {}, key="gh-key-wrong")
    assert (failed.value.status, failed.value.retryable) == (401, False)
    assert greenhouse.patches == []


def test_a_500_raises_callback_failed_and_the_retry_lands(greenhouse: FakeGreenhouse) -> None:
    greenhouse.send_test("iv_support")
    greenhouse.fail_next(1)
    with pytest.raises(CallbackFailed) as failed:
        patch_now(greenhouse.callback_url(90001), {})
    assert (failed.value.status, failed.value.retryable) == (500, True)
    assert "Internal Server Error" in failed.value.excerpt
    patch_now(greenhouse.callback_url(90001), {})
    assert greenhouse.attempts == [(90001, 500), (90001, 200)]
    assert len(greenhouse.wait_patches(1)) == 1


def test_a_patch_for_a_test_greenhouse_never_sent_is_404(greenhouse: FakeGreenhouse) -> None:
    with pytest.raises(CallbackFailed) as failed:
        patch_now(greenhouse.callback_url(12345), {})
    assert failed.value.status == 404


def test_the_patch_carries_no_parameters() -> None:
    with pytest.raises(ValueError, match="no parameters"):
        patch_now("https://app.greenhouse.io/integrations/testing_partners/take_home_tests/1", {"x": 1})


def test_no_answer_is_a_retryable_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(CallbackFailed) as failed:
        patch_now(f"http://127.0.0.1:{port}/integrations/testing_partners/take_home_tests/1", {})
    assert (failed.value.status, failed.value.retryable) == (None, True)


# Statuses ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("candidate", "has_result", "expected"), [
    ("new", False, "pending"), ("invited", False, "pending"), ("in_progress", False, "in_progress"),
    ("evaluating", False, "in_progress"), ("completed", True, "complete"), ("knocked_out", True, "complete"),
    ("ended_early", True, "complete"), ("shortlisted", True, "complete"), ("dismissed", True, "complete"),
    ("dismissed", False, "cancelled"),
])
def test_candidate_statuses_in_greenhouse_words(candidate: str, has_result: bool, expected: str) -> None:
    assert provider_status("greenhouse", ats_status(candidate, has_result=has_result)) == expected


def test_a_passed_deadline_expires_only_an_unstarted_interview() -> None:
    assert ats_status("invited", has_result=False, deadline_passed=True) == "expired"
    assert ats_status("in_progress", has_result=False, deadline_passed=True) == "in_progress"
    with pytest.raises(ValueError, match="candidate status 'hired'"):
        ats_status("hired")
