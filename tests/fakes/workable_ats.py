"""Workable on loopback, playing its side of the assessment provider integration
(https://workable.readme.io/page/assessment-providers; the create body and the callback follow the
write-up named in milo_voice/intake/ats_workable.py).

Client side: calls our provider endpoints as Workable does: `GET <base>/tests` and
`POST <base>/assessments` (JSON with test_id, job_shortcode, job_title, callback_url and the
candidate), each with `Authorization: Bearer <the token we gave the customer>`. It checks our
answers and raises `WorkableRejects` (an AssertionError) naming the fault.

Server side (uvicorn on 127.0.0.1): each order's callback_url, `/callbacks/assessments/<n>`, takes
our `PUT`: `Authorization: Bearer <the token Workable issued>` (else 401), an order this fake
created (else 404), a JSON body (else 415/400) of the documented shape (else 422): `status` one of
pending, completed, rejected, expired; when completed a `results_url`; an optional `assessment`
{score (a numeric string), grade (failed, passed, excelled), summary, details, duration
("HH:MM:SS")}; optional `attachments` [{description, url}]. `fail_next(n)` answers the next n
with 500. Errors are `{"status": code, "message": text}`.
"""

from __future__ import annotations

import json
import re
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

CALLBACK = "/callbacks/assessments/{n:int}"
STATUSES = ("pending", "completed", "rejected", "expired")
GRADES = ("failed", "passed", "excelled")
DURATION = re.compile(r"\d{2,}:[0-5]\d:[0-5]\d")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


class WorkableRejects(AssertionError):
    """Our answer is not what Workable accepts."""


@dataclass(frozen=True)
class Applicant:
    """The candidate Workable sends with an assessment."""

    first_name: str = "Tomás"
    last_name: str = "Lindqvist"
    email: str = "tomas.lindqvist@example.net"
    phone: str | None = "+46 8 555 012 34"
    candidate_id: str | None = None
    """Sent as candidate.id only when set (the documented body has no candidate id)."""


@dataclass(frozen=True)
class Callback:
    """One result PUT the fake took."""

    order: int
    assessment_id: str
    body: dict[str, Any]
    at: float


@dataclass
class _Inbox:
    lock: threading.Condition = field(default_factory=threading.Condition)
    callbacks: list[Callback] = field(default_factory=list)
    attempts: list[tuple[int, int]] = field(default_factory=list)
    """(order, status answered) for every PUT, refused ones included."""
    fail_budget: int = 0
    fail_status: int = 500


class FakeWorkable:
    def __init__(self, base_url: str, token: str, *, callback_token: str = "workable-issued-token",
                 client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        """Our provider base URL: /tests and /assessments are under it."""
        self.token = token
        """What the customer pasted into Workable: Workable sends it to us."""
        self.callback_token = callback_token
        """What Workable issued when the integration was created: we send it back."""
        self.client = client if client is not None else httpx.Client(timeout=10.0)
        self._own_client = client is None
        self.server: ServerThread | None = None
        """Our callbacks' receiver, from `start` to `stop`."""
        self.inbox = _Inbox()
        self.orders: dict[int, str] = {}
        """order number (in its callback_url) -> the assessment_id we returned."""

    def start(self) -> FakeWorkable:
        self.server = ServerThread(Starlette(routes=[Route(CALLBACK, self._put, methods=["PUT"])]))
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        if self._own_client:
            self.client.close()

    def __enter__(self) -> FakeWorkable:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # client side: Workable calling us ------------------------------------------------------------

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token if token is None else token}"}

    def callback_url(self, n: int) -> str:
        if self.server is None:
            raise RuntimeError("start the fake first: its server makes the callback URLs")
        return f"{self.server.base_url}/callbacks/assessments/{n}"

    def raw(self, method: str, call: str, *, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> httpx.Response:
        """One request to our `call` endpoint with exactly these headers (no auth added)."""
        return self.client.request(method, f"{self.base_url}/{call}", content=body, headers=headers or {})

    def tests(self) -> list[tuple[str, str]]:
        answer = _json(self.raw("GET", "tests", headers=self.auth()), "tests")
        if not isinstance(answer, dict) or set(answer) != {"tests"} or not isinstance(answer["tests"], list):
            raise WorkableRejects(f"tests: answer {answer!r}; expected {{'tests': [...]}}")
        found = []
        for item in answer["tests"]:
            if not isinstance(item, dict) or set(item) != {"id", "name"}:
                raise WorkableRejects(f"tests: {item!r}; expected keys id and name")
            if isinstance(item["id"], bool) or not isinstance(item["id"], str | int) or not item["id"]:
                raise WorkableRejects(f"tests: id {item['id']!r}; expected a string or number")
            if not isinstance(item["name"], str) or not item["name"]:
                raise WorkableRejects(f"tests: name {item['name']!r}; expected a string")
            found.append((str(item["id"]), item["name"]))
        return found

    def create_assessment(self, test_id: str, applicant: Applicant | None = None, *,
                          job_shortcode: str = "A1B2C3D4E5", job_title: str = "Support Engineer") -> str:
        """POST an assessment; returns our assessment_id."""
        person = applicant or Applicant()
        n = 70000 + len(self.orders) + 1
        candidate: dict[str, Any] = {"first_name": person.first_name, "last_name": person.last_name,
                                     "email": person.email, "phone": person.phone}
        if person.candidate_id is not None:
            candidate["id"] = person.candidate_id
        body = {"test_id": test_id, "job_shortcode": job_shortcode, "job_title": job_title,
                "callback_url": self.callback_url(n), "candidate": candidate}
        headers = {**self.auth(), "Content-Type": "application/json"}
        response = self.raw("POST", "assessments", body=json.dumps(body).encode(), headers=headers)
        answer = _json(response, "assessments")
        if not isinstance(answer, dict) or set(answer) != {"assessment_id"}:
            raise WorkableRejects(f"assessments: answer {answer!r}; expected exactly {{'assessment_id'}}")
        assessment_id = answer["assessment_id"]
        if not isinstance(assessment_id, str) or not assessment_id:
            raise WorkableRejects(f"assessments: assessment_id {assessment_id!r}; expected a string")
        with self.inbox.lock:
            self.orders[n] = assessment_id
        return assessment_id

    # server side: our result PUTs ----------------------------------------------------------------

    @property
    def callbacks(self) -> list[Callback]:
        with self.inbox.lock:
            return list(self.inbox.callbacks)

    @property
    def attempts(self) -> list[tuple[int, int]]:
        with self.inbox.lock:
            return list(self.inbox.attempts)

    def fail_next(self, count: int, status: int = 500) -> None:
        with self.inbox.lock:
            self.inbox.fail_budget, self.inbox.fail_status = count, status

    def wait_callbacks(self, count: int, timeout: float = 10.0) -> list[Callback]:
        with self.inbox.lock:
            if not self.inbox.lock.wait_for(lambda: len(self.inbox.callbacks) >= count, timeout):
                raise AssertionError(f"Workable got {len(self.inbox.callbacks)} results; expected {count}")
            return list(self.inbox.callbacks)

    async def _put(self, request: Request) -> Response:
        n = int(request.path_params["n"])
        status, detail, body = self._verdict(request, n, await request.body())
        with self.inbox.lock:
            if status == 200 and self.inbox.fail_budget > 0:
                self.inbox.fail_budget -= 1
                status, detail = self.inbox.fail_status, "Internal server error"
            self.inbox.attempts.append((n, status))
            if status == 200:
                self.inbox.callbacks.append(Callback(n, self.orders[n], body, time.monotonic()))
                self.inbox.lock.notify_all()
        if status == 200:
            return Response(status_code=200)
        return JSONResponse({"status": status, "message": detail}, status_code=status)

    def _verdict(self, request: Request, n: int, raw: bytes) -> tuple[int, str, dict[str, Any]]:
        if request.headers.get("authorization") != f"Bearer {self.callback_token}":
            return 401, "Not authorized", {}
        with self.inbox.lock:
            known = n in self.orders
        if not known:
            return 404, f"assessment {n} not found", {}
        if not request.headers.get("content-type", "").startswith("application/json"):
            return 415, f"content-type {request.headers.get('content-type')!r}; expected application/json", {}
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, "body is not JSON", {}
        problem = callback_problem(body)
        return (422, problem, {}) if problem else (200, "", body)


def _json(response: httpx.Response, call: str) -> Any:
    if not response.is_success:
        raise WorkableRejects(f"{call}: HTTP {response.status_code} {response.text[:200]}")
    if "json" not in response.headers.get("content-type", ""):
        raise WorkableRejects(f"{call}: content-type {response.headers.get('content-type')!r}; expected JSON")
    try:
        return response.json()
    except ValueError as exc:
        raise WorkableRejects(f"{call}: answer is not JSON ({exc})") from None


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def callback_problem(body: Any) -> str:
    """What is wrong with a result body ("" when Workable takes it)."""
    if not isinstance(body, dict):
        return f"body is a {type(body).__name__}; expected an object"
    extra = set(body) - {"status", "results_url", "assessment", "attachments"}
    if extra:
        return f"unknown keys {sorted(extra)}"
    if body.get("status") not in STATUSES:
        return f"status {body.get('status')!r}; expected one of {', '.join(STATUSES)}"
    if body["status"] == "completed" and not _is_url(body.get("results_url")):
        return "status is completed but results_url is missing or not a URL"
    if "results_url" in body and not _is_url(body["results_url"]):
        return f"results_url {body['results_url']!r} is not a URL"
    return _assessment_problem(body.get("assessment")) or _attachments_problem(body.get("attachments"))


def _assessment_problem(assessment: Any) -> str:
    if assessment is None:
        return ""
    if not isinstance(assessment, dict):
        return "assessment is not an object"
    extra = set(assessment) - {"score", "grade", "summary", "details", "duration"}
    if extra:
        return f"assessment: unknown keys {sorted(extra)}"
    score = assessment.get("score")
    if score is not None and not (isinstance(score, str) and NUMBER.fullmatch(score)):
        return f"assessment.score {score!r}; expected a number as a string"
    if assessment.get("grade") is not None and assessment["grade"] not in GRADES:
        return f"assessment.grade {assessment['grade']!r}; expected one of {', '.join(GRADES)}"
    if assessment.get("summary") is not None and not isinstance(assessment["summary"], str):
        return "assessment.summary is not a string"
    if assessment.get("details") is not None and not isinstance(assessment["details"], dict):
        return "assessment.details is not an object"
    duration = assessment.get("duration")
    if duration is not None and not (isinstance(duration, str) and DURATION.fullmatch(duration)):
        return f"assessment.duration {duration!r}; expected HH:MM:SS"
    return ""


def _attachments_problem(attachments: Any) -> str:
    if attachments is None:
        return ""
    if not isinstance(attachments, list):
        return "attachments is not a list"
    for item in attachments:
        if not isinstance(item, dict) or set(item) - {"description", "url"} or not _is_url(item.get("url")):
            return f"attachment {item!r}; expected {{description, url}}"
    return ""
