"""Greenhouse on loopback, playing its side of the Assessment Partner API
(https://developers.greenhouse.io/assessment.html).

Client side: calls our partner endpoints as Greenhouse does: `GET list_tests`, `POST send_test`
(JSON), `GET test_status?partner_interview_id=`, `POST response_error`, each with
`Authorization: Basic base64(<api key>:)`. It checks our answers the way Greenhouse validates them
and raises `GreenhouseRejects` (an AssertionError) naming the fault.

Server side (uvicorn on 127.0.0.1): the `url` each send_test carries,
`/integrations/testing_partners/take_home_tests/<n>`, takes our `PATCH`: it must carry the same
Basic credential (else 401), name a test this fake sent (else 404) and have no body (else 400:
the documented PATCH takes no parameters; stricter than Greenhouse, so a new body on our side is a
deliberate change). `fail_next(n)` answers the next n PATCHes with 500. `follow_patches` then
does what Greenhouse does after a PATCH: it calls test_status for each patched test.

Our endpoints are reached through `client` (an `httpx.Client`, or Starlette's TestClient, which is
one) at `base_url`; the fake's server is independent of how our app runs.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fakes.loopback import ServerThread

TAKE_HOME = "/integrations/testing_partners/take_home_tests/{n:int}"
PRIMITIVES = (str, int, float, bool, type(None))


class GreenhouseRejects(AssertionError):
    """Our answer is not what Greenhouse accepts (what it would report to response_error)."""


@dataclass(frozen=True)
class Applicant:
    """The candidate Greenhouse sends in send_test."""

    first_name: str = "Mira"
    last_name: str = "Okafor"
    email: str = "mira.okafor@example.org"
    phone_number: str | None = "+44 20 7946 0018"
    preferred_name: str | None = None
    resume_url: str | None = "https://example.org/resumes/mira-okafor.pdf"
    person_id: int = 40213
    application_id: int = 771204


@dataclass(frozen=True)
class Patch:
    """One PATCH the fake took."""

    take_home_test: int
    partner_interview_id: str
    at: float
    """time.monotonic() when it arrived."""


@dataclass
class _Inbox:
    lock: threading.Condition = field(default_factory=threading.Condition)
    patches: list[Patch] = field(default_factory=list)
    attempts: list[tuple[int, int]] = field(default_factory=list)
    """(take-home test, status answered) for every PATCH, refused ones included."""
    fail_budget: int = 0
    fail_status: int = 500


class FakeGreenhouse:
    def __init__(self, base_url: str, api_key: str, *, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        """Our partner API root: list_tests, send_test, ... are under it."""
        self.api_key = api_key
        self.client = client if client is not None else httpx.Client(timeout=10.0)
        self._own_client = client is None
        self.server: ServerThread | None = None
        """Our callbacks' receiver, from `start` to `stop`."""
        self.inbox = _Inbox()
        self.sent: dict[int, str] = {}
        """take-home test number -> the partner_interview_id we returned for it."""
        self.followed = 0
        """How many patches `follow_patches` has answered."""

    # lifecycle -----------------------------------------------------------------------------------

    def start(self) -> FakeGreenhouse:
        self.server = ServerThread(Starlette(routes=[Route(TAKE_HOME, self._patch, methods=["PATCH"])]))
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        if self._own_client:
            self.client.close()

    def __enter__(self) -> FakeGreenhouse:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # client side: Greenhouse calling us ----------------------------------------------------------

    def auth(self, key: str | None = None) -> dict[str, str]:
        token = base64.b64encode(f"{self.api_key if key is None else key}:".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def callback_url(self, n: int) -> str:
        if self.server is None:
            raise RuntimeError("start the fake first: its server makes the callback URLs")
        return f"{self.server.base_url}/integrations/testing_partners/take_home_tests/{n}"

    def raw(self, method: str, call: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
            params: dict[str, str] | None = None) -> httpx.Response:
        """One request to our `call` endpoint with exactly these headers (no auth added)."""
        return self.client.request(method, f"{self.base_url}/{call}", content=body, headers=headers or {},
                                   params=params)

    def list_tests(self) -> list[tuple[str, str]]:
        answer = _json(self.raw("GET", "list_tests", headers=self.auth()), "list_tests")
        if not isinstance(answer, list):
            raise GreenhouseRejects(f"list_tests: answer is {type(answer).__name__}; expected a JSON array")
        tests = [_partner_test(item) for item in answer]
        ids = [test_id for test_id, _ in tests]
        if len(set(ids)) != len(ids):
            raise GreenhouseRejects(f"list_tests: duplicate partner_test_id in {ids}")
        return tests

    def send_test(self, test_id: str, applicant: Applicant | None = None, *,
                  sent_by: str | None = None) -> str:
        """Send a test; returns our partner_interview_id."""
        person = applicant or Applicant()
        n = 90000 + len(self.sent) + 1
        body = {
            "partner_test_id": test_id,
            "candidate": {
                "first_name": person.first_name, "last_name": person.last_name,
                "preferred_name": person.preferred_name, "resume_url": person.resume_url,
                "phone_number": person.phone_number, "email": person.email,
                "greenhouse_profile_url": f"https://app.greenhouse.io/people/{person.person_id}"
                                          f"?application_id={person.application_id}",
            },
            "sent_by": sent_by,
            "url": self.callback_url(n),
        }
        headers = {**self.auth(), "Content-Type": "application/json"}
        response = self.raw("POST", "send_test", body=json.dumps(body).encode(), headers=headers)
        answer = _json(response, "send_test")
        if not isinstance(answer, dict) or set(answer) != {"partner_interview_id"}:
            raise GreenhouseRejects(f"send_test: answer {answer!r}; expected only partner_interview_id")
        interview_id = answer["partner_interview_id"]
        if not isinstance(interview_id, str) or not interview_id:
            raise GreenhouseRejects(f"send_test: partner_interview_id {interview_id!r}; expected a string")
        with self.inbox.lock:
            self.sent[n] = interview_id
        return interview_id

    def test_status(self, partner_interview_id: str) -> dict[str, Any]:
        response = self.raw("GET", "test_status", headers=self.auth(),
                            params={"partner_interview_id": partner_interview_id})
        answer = _json(response, "test_status")
        check_test_status(answer)
        return dict(answer)

    def report_error(self, api_call: str, errors: list[str], **known: str) -> httpx.Response:
        """POST response_error, as Greenhouse does after a malformed answer of ours."""
        body = {"api_call": api_call, "errors": errors, **known}
        headers = {**self.auth(), "Content-Type": "application/json"}
        return self.raw("POST", "response_error", body=json.dumps(body).encode(), headers=headers)

    def follow_patches(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until `count` PATCHes arrived in all, then call test_status for each not yet
        followed, as Greenhouse does; returns those answers in order."""
        patches = self.wait_patches(count, timeout)
        answers = [self.test_status(patch.partner_interview_id) for patch in patches[self.followed:]]
        self.followed = len(patches)
        return answers

    # server side: our PATCHes --------------------------------------------------------------------

    @property
    def patches(self) -> list[Patch]:
        with self.inbox.lock:
            return list(self.inbox.patches)

    @property
    def attempts(self) -> list[tuple[int, int]]:
        with self.inbox.lock:
            return list(self.inbox.attempts)

    def fail_next(self, count: int, status: int = 500) -> None:
        with self.inbox.lock:
            self.inbox.fail_budget, self.inbox.fail_status = count, status

    def wait_patches(self, count: int, timeout: float = 10.0) -> list[Patch]:
        with self.inbox.lock:
            if not self.inbox.lock.wait_for(lambda: len(self.inbox.patches) >= count, timeout):
                raise AssertionError(f"Greenhouse got {len(self.inbox.patches)} PATCHes; expected {count}")
            return list(self.inbox.patches)

    async def _patch(self, request: Request) -> Response:
        n = int(request.path_params["n"])
        body = await request.body()
        status, detail = self._verdict(request, n, body)
        with self.inbox.lock:
            if status == 200 and self.inbox.fail_budget > 0:
                self.inbox.fail_budget -= 1
                status, detail = self.inbox.fail_status, "Internal Server Error"
            self.inbox.attempts.append((n, status))
            if status == 200:
                self.inbox.patches.append(Patch(n, self.sent[n], time.monotonic()))
                self.inbox.lock.notify_all()
        if status == 200:
            return Response(status_code=200)  # "The response will return only the HTTP status code."
        return JSONResponse({"errors": [detail]}, status_code=status)

    def _verdict(self, request: Request, n: int, body: bytes) -> tuple[int, str]:
        if request.headers.get("authorization") != self.auth()["Authorization"]:
            return 401, "Unsuccessful authentication with the provided API key."
        with self.inbox.lock:
            known = n in self.sent
        if not known:
            return 404, f"take home test {n} not found"
        if body.strip():
            return 400, "the PATCH takes no parameters; it had a body"
        if request.query_params:
            return 400, f"the PATCH takes no parameters; it had {sorted(request.query_params)}"
        return 200, ""


def _json(response: httpx.Response, call: str) -> Any:
    if not response.is_success:
        raise GreenhouseRejects(f"{call}: HTTP {response.status_code} {response.text[:200]}")
    if "json" not in response.headers.get("content-type", ""):
        kind = response.headers.get("content-type")
        raise GreenhouseRejects(f"{call}: content-type {kind!r}; expected JSON")
    try:
        return response.json()
    except ValueError as exc:
        raise GreenhouseRejects(f"{call}: answer is not JSON ({exc})") from None


def _partner_test(item: Any) -> tuple[str, str]:
    if not isinstance(item, dict) or set(item) != {"partner_test_id", "partner_test_name"}:
        raise GreenhouseRejects(f"list_tests: {item!r}; expected keys partner_test_id and partner_test_name")
    test_id, name = item["partner_test_id"], item["partner_test_name"]
    if not isinstance(test_id, str) or not test_id or not isinstance(name, str) or not name:
        raise GreenhouseRejects(f"list_tests: {item!r}; both values must be non-empty strings")
    return test_id, name


def check_test_status(answer: Any) -> None:
    """Raise GreenhouseRejects unless `answer` is a test_status object Greenhouse accepts."""
    if not isinstance(answer, dict):
        raise GreenhouseRejects(f"test_status: answer is {type(answer).__name__}; expected an object")
    extra = set(answer) - {"partner_status", "partner_profile_url", "partner_score", "metadata"}
    if extra:
        raise GreenhouseRejects(f"test_status: unknown keys {sorted(extra)}")
    status = answer.get("partner_status")
    if not isinstance(status, str) or not status:
        raise GreenhouseRejects(f"test_status: partner_status {status!r}; expected a string")
    url = answer.get("partner_profile_url")
    if status == "complete" and not url:
        raise GreenhouseRejects("test_status: partner_status 'complete' without partner_profile_url")
    if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        raise GreenhouseRejects(f"test_status: partner_profile_url {url!r}; expected an absolute URL")
    score = answer.get("partner_score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        raise GreenhouseRejects(f"test_status: partner_score {score!r}; expected a number")
    metadata = answer.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise GreenhouseRejects(f"test_status: metadata {metadata!r}; expected an object")
        nested = [key for key, value in metadata.items() if not isinstance(value, PRIMITIVES)]
        if nested:
            raise GreenhouseRejects(f"test_status: metadata values {nested} are not primitives")
