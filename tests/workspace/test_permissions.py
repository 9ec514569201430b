"""Who may do what: anonymous visitors get only the login page, viewers cannot edit, every form
POST needs the session's CSRF token, and the API takes API keys only (real app, real SQLite)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.store.tables import UserRole
from milo_voice.web.app import create_app
from milo_voice.web.workspace import api, page_routes
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from workspace.support import ADMIN, PASSWORD, csrf_of, form_token, login

PUBLIC = {"/login", "/invite/{token}"}


@pytest.fixture
def world(store: SessionStore, users: dict[str, int], accounts: Accounts) -> dict[str, Any]:
    """One published interview with a candidate, an API key per role, and an open invite."""
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Barista", questions=(QuestionForm("Why coffee?"),)))
    interviews.publish(row.slug)
    candidate = Candidates(store.engine).add(slug=row.slug, name="Cam Candidate")
    _, admin_key = accounts.create_api_key(user_id=users["admin"], name="admin script")
    key_row, viewer_key = accounts.create_api_key(user_id=users["viewer"], name="viewer script")
    token = accounts.create_invite(created_by=users["admin"], role="viewer", days=1)
    return {
        "slug": row.slug,
        "cid": candidate.id,
        "admin_key": admin_key,
        "viewer_key": viewer_key,
        "kid": key_row.id,
        "token": token,
        "uid": users["viewer"],
    }


def concrete(path: str, world: dict[str, Any]) -> str:
    values = {
        "slug": world["slug"],
        "cid": world["cid"],
        "sid": 1,
        "uid": world["uid"],
        "kid": world["kid"],
        "token": world["token"],
        "action": "publish",
        "kind": "png",
        "eid": 1,
        "batch_id": 1,
        "item_id": 1,
        "position": 0,
        "job_id": 1,
    }
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: str(values[m.group(1)]), path)


def page_endpoints() -> list[tuple[str, str, UserRole | None]]:
    out = []
    for route in page_routes():
        assert isinstance(route, Route)
        role = getattr(route.endpoint, "required_role", "unguarded")
        assert role != "unguarded", f"{route.path} is not wrapped by auth.page or auth.public_form"
        for method in sorted((route.methods or set()) - {"HEAD"}):
            out.append((method, route.path, role))
    return out


def test_every_page_is_guarded_and_the_list_is_not_empty() -> None:
    endpoints = page_endpoints()
    assert len(endpoints) > 20
    assert {p for _, p, role in endpoints if role is None} == PUBLIC


def test_an_anonymous_visitor_gets_nothing_but_the_login_page(
    client: TestClient, world: dict[str, Any]
) -> None:
    for method, path, role in page_endpoints():
        if role is None:
            continue
        url = "/app" + concrete(path, world)
        response = client.request(method, url, follow_redirects=False)
        if method == "GET":
            assert response.status_code == 303, url
            assert response.headers["location"].startswith("/app/login?next=")
        else:
            assert response.status_code == 403, url
    landing = client.get("/app/interviews")
    assert landing.url.path == "/app/login" and "Sign in" in landing.text
    assert "Barista" not in landing.text and "Cam Candidate" not in landing.text


def test_a_viewer_cannot_reach_admin_pages_or_actions(viewer: TestClient, world: dict[str, Any]) -> None:
    token = form_token(viewer, "/app/interviews")
    admin_only = [(m, p) for m, p, role in page_endpoints() if role is UserRole.ADMIN]
    assert ("GET", "/interviews/{slug}/edit") in admin_only and ("POST", "/team/invites") in admin_only
    for method, path in admin_only:
        url = "/app" + concrete(path, world)
        data = {"csrf_token": token} if method == "POST" else None
        response = viewer.request(method, url, data=data, follow_redirects=False)
        assert response.status_code == 403, url
    assert "Publish" not in viewer.get(f"/app/interviews/{world['slug']}").text
    assert viewer.get(f"/app/candidates/{world['cid']}").status_code == 200  # viewers review


def test_every_form_post_without_the_csrf_token_is_refused(
    admin: TestClient, world: dict[str, Any], store: SessionStore
) -> None:
    before = len(Audit(store.engine).recent())
    posts = [(p, role) for m, p, role in page_endpoints() if m == "POST"]
    assert len(posts) >= 12
    for path, _ in posts:
        url = "/app" + concrete(path, world)
        for data in ({}, {"csrf_token": "forged"}):
            response = admin.post(
                url, data={**data, "name": "x", "decision": "dismissed", "text": "x"}, follow_redirects=False
            )
            assert response.status_code == 403, url
    assert len(Audit(store.engine).recent()) == before  # nothing happened
    assert Interviews(store.engine).latest(world["slug"]).status == "published"


def test_the_csrf_token_of_another_session_does_not_work(
    settings: Settings, store: SessionStore, admin: TestClient, world: dict[str, Any]
) -> None:
    with TestClient(create_app(settings, store.engine)) as other:
        login(other, ADMIN)
        theirs = form_token(other, "/app/interviews")
    response = admin.post(
        f"/app/candidates/{world['cid']}/notes",
        data={"csrf_token": theirs, "text": "hi"},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_login_needs_csrf_and_the_right_password(client: TestClient, users: dict[str, int]) -> None:
    assert client.post("/app/login", data={"email": ADMIN, "password": PASSWORD}).status_code == 403
    token = csrf_of(client.get("/app/login").text)
    wrong = client.post(
        "/app/login", data={"email": ADMIN, "password": "nope-nope-nope", "csrf_token": token}
    )
    assert wrong.status_code == 401 and "Wrong email or password" in wrong.text
    ok = client.post(
        "/app/login",
        data={
            "email": ADMIN,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/phish",
        },
        follow_redirects=False,
    )
    assert ok.headers["location"] == "/app/interviews"
    assert csrf_of(client.get("/app/interviews").text) != token  # a new session at login


def test_the_session_cookie_is_httponly_lax_and_secure_behind_https(
    store: SessionStore, users: dict[str, int], settings: Settings
) -> None:
    for public_url, secure in (("", False), ("https://jobs.example.com", True)):
        app = create_app(settings.with_overrides(public_url=public_url), store.engine)
        with TestClient(app, base_url="https://testserver") as client:
            token = csrf_of(client.get("/app/login").text)
            response = client.post(
                "/app/login",
                data={"email": ADMIN, "password": PASSWORD, "csrf_token": token},
                follow_redirects=False,
            )
            cookie = response.headers["set-cookie"].lower()
            assert "milo_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
            assert "path=/app" in cookie
            assert ("secure" in cookie) is secure


def test_logout_ends_the_session(admin: TestClient) -> None:
    token = form_token(admin, "/app/interviews")
    assert admin.post("/app/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert admin.get("/app/interviews", follow_redirects=False).status_code == 303


def test_a_disabled_teammate_is_signed_out_at_once(
    admin: TestClient, viewer: TestClient, world: dict[str, Any]
) -> None:
    assert viewer.get("/app/candidates").status_code == 200
    token = form_token(admin, "/app/team")
    admin.post(f"/app/team/{world['uid']}/active", data={"csrf_token": token, "active": "0"})
    assert viewer.get("/app/candidates", follow_redirects=False).status_code == 303
    assert (
        viewer.get("/api/candidates", headers={"Authorization": f"Bearer {world['viewer_key']}"}).status_code
        == 401
    )


def test_the_api_takes_keys_only_and_viewers_cannot_write(client: TestClient, world: dict[str, Any]) -> None:
    def call(method: str, path: str, key: str | None, **kwargs: Any) -> int:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return client.request(method, f"/api{path}", headers=headers, **kwargs).status_code

    slug = world["slug"]
    writes = [
        ("POST", "/interviews", {"json": {"title": "T", "questions": [{"text": "Q?"}]}}),
        ("POST", f"/interviews/{slug}/publish", {}),
        ("POST", f"/interviews/{slug}/candidates", {"json": {"name": "N"}}),
    ]
    reads = ["/interviews", f"/interviews/{slug}", "/candidates", f"/candidates/{world['cid']}"]
    for path in reads:
        assert call("GET", path, None) == 401
        assert call("GET", path, "milo_not-a-key") == 401
        assert call("GET", path, world["viewer_key"]) == 200
    for method, path, kwargs in writes:
        assert call(method, path, None, **kwargs) == 401
        assert call(method, path, world["viewer_key"], **kwargs) == 403
        assert call(method, path, world["admin_key"], **kwargs) in (200, 201)
    guarded = {
        r.path
        for r in api.routes()
        if getattr(r, "endpoint", None) is not None and getattr(r.endpoint, "required_role", None) is not None
    }
    assert {p for p in (r.path for r in api.routes())} - guarded == {"/openapi.json"}
