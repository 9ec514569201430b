"""Security headers on every response and no-store on personal data (web/security_headers.py), through
the real app: a public page, signed-in workspace pages, a shared report and its recording, the JSON API."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import httpx
import pytest
from scorer.scoring_builders import scored_session
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from workspace.support import ADMIN, PASSWORD, csrf_of, login

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.web.app import create_app
from milo_voice.web.security_headers import SecurityHeaders, inline_script_hashes
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.report_links import ReportLinks


@pytest.fixture
def key(store: SessionStore) -> str:
    accounts = Accounts(store.engine)
    user = accounts.create_user(email=ADMIN, password=PASSWORD, role="admin", name="Ada Admin")
    return accounts.create_api_key(user_id=user.id or 0, name="probe")[1]


@pytest.fixture
def client(settings: Settings, store: SessionStore) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store.engine), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def admin(client: TestClient, key: str) -> TestClient:
    login(client, ADMIN)
    return client


def assert_secured(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "img-src 'self' data:",
        "form-action 'self'",
    ):
        assert directive in csp, (directive, csp)
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in response.headers  # http://127.0.0.1:8000


def test_public_pages_get_the_headers_but_stay_cacheable(client: TestClient) -> None:
    for path in ("/notice", "/healthz", "/app/static/app.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_secured(response)
        assert "no-store" not in response.headers.get("cache-control", ""), path


def test_the_login_page_and_signed_in_pages_are_never_stored(admin: TestClient) -> None:
    for path in ("/app/login", "/app/interviews", "/app/candidates", "/app/team"):
        response = admin.get(path)
        assert response.status_code == 200, path
        assert_secured(response)
        assert response.headers["cache-control"] == "no-store", path


def test_the_json_api_answers_with_the_headers_and_no_store(client: TestClient, key: str) -> None:
    listed = client.get("/api/interviews", headers={"Authorization": f"Bearer {key}"})
    assert listed.status_code == 200 and listed.headers["content-type"].startswith("application/json")
    assert_secured(listed)
    assert listed.headers["cache-control"] == "no-store"
    refused = client.get("/api/interviews")
    assert refused.status_code == 401 and refused.headers["cache-control"] == "no-store"


def test_a_shared_report_its_recording_and_downloads_are_never_stored(
    admin: TestClient, settings: Settings, store: SessionStore
) -> None:
    built = scored_session(settings, store, name="Ada Lovelace")
    base = f"/app/candidates/{built.candidate_id}/sessions/{built.session_id}"
    page = admin.get(f"{base}/report")
    assert page.status_code == 200 and "Ada Lovelace" in page.text
    assert_secured(page)
    assert page.headers["cache-control"] == "no-store"
    admin.post(f"{base}/share", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    token = ReportLinks(store.engine).current(built.session_id)
    assert token is not None
    outsider = TestClient(admin.app, base_url="http://testserver")
    shared = outsider.get(f"/reports/{token}")
    assert shared.status_code == 200 and "Ada Lovelace" in shared.text
    assert_secured(shared)
    assert shared.headers["cache-control"] == "no-store"
    pdf = outsider.get(f"/reports/{token}/report.pdf")
    assert pdf.content.startswith(b"%PDF-") and pdf.headers["cache-control"] == "no-store"
    assert pdf.headers["content-security-policy"] == "frame-ancestors 'none'"  # Chromium's PDF viewer
    recording = outsider.get(f"/reports/{token}/recording")  # this session has no audio: 404; a recording's
    assert recording.headers["cache-control"] == "no-store"  # own `private` is upgraded (see the last test)
    export = outsider.get(f"/exports/{token}/candidates.csv")  # not an export link: 404, still no-store
    assert export.headers["cache-control"] == "no-store"


def test_every_inline_script_of_a_served_page_is_allowed_by_its_hash(
    admin: TestClient, settings: Settings, store: SessionStore
) -> None:
    built = scored_session(settings, store, name="Ada Lovelace")
    page = admin.get(f"/app/candidates/{built.candidate_id}/sessions/{built.session_id}/report")
    bodies = [m.group(1) for m in re.finditer(r"<script>(.*?)</script>", page.text, re.DOTALL)]
    assert bodies, "the report page has its inline script"
    csp = page.headers["content-security-policy"]
    for body in bodies:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert len(inline_script_hashes()) == 2  # the report's and the candidate form's


def test_hsts_only_when_the_public_url_is_https(settings: Settings, store: SessionStore) -> None:
    secure = settings.with_overrides(public_url="https://jobs.example.com")
    with TestClient(create_app(secure, store.engine), base_url="https://testserver") as client:
        response = client.get("/notice")
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    with TestClient(create_app(settings, store.engine)) as client:
        assert "strict-transport-security" not in client.get("/notice").headers


def test_a_refused_body_carries_the_headers_too(client: TestClient) -> None:
    response = client.post(
        "/app/login",
        content=b"x" * (2 * 1024 * 1024),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 413
    assert_secured(response)
    assert response.headers["cache-control"] == "no-store"


def test_a_handlers_own_headers_are_kept_unless_they_would_let_personal_data_be_stored() -> None:
    def answer(request: Request) -> Response:
        return PlainTextResponse(
            "ok", headers={"Cache-Control": request.query_params["cache"], "Referrer-Policy": "no-referrer"}
        )

    app = Starlette(
        routes=[Route("/app/x", answer), Route("/public", answer)],
        middleware=[Middleware(SecurityHeaders, https=False, script_hashes=[])],
    )
    client = TestClient(app)
    kept = client.get("/app/x", params={"cache": "no-store, max-age=0"})
    assert kept.headers.get_list("cache-control") == ["no-store, max-age=0"]
    assert kept.headers.get_list("referrer-policy") == ["no-referrer"]
    assert client.get("/app/x", params={"cache": "private"}).headers.get_list("cache-control") == ["no-store"]
    assert client.get("/public", params={"cache": "max-age=60"}).headers["cache-control"] == "max-age=60"


def test_an_unhandled_error_answers_500_with_the_headers_and_no_detail() -> None:
    def broken(request: Request) -> Response:
        raise RuntimeError("secret detail")

    app = Starlette(
        routes=[Route("/app/broken", broken)],
        middleware=[Middleware(SecurityHeaders, https=False, script_hashes=[])],
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/app/broken")
    assert response.status_code == 500 and "secret detail" not in response.text
    assert response.headers["x-frame-options"] == "DENY" and response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    with TestClient(app) as client, pytest.raises(RuntimeError, match="secret detail"):
        client.get("/app/broken")  # still raised after the answer: the server logs it
