"""Helpers shared by the workspace tests: the test password, signing in, reading CSRF tokens."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

PASSWORD = "correct horse battery"
ADMIN, VIEWER = "admin@example.com", "viewer@example.com"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    page = client.get("/app/login")
    response = client.post(
        "/app/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def form_token(client: TestClient, path: str) -> str:
    """The CSRF token of the client's session, read from a page it can see."""
    return csrf_of(client.get(path).text)
