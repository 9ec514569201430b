"""Team invitations are bound to the address they were made out to (issue 20, minor finding): over
real HTTP on loopback, an invite for one address cannot create the account of another, and the
team page no longer makes invites that anyone holding the link could accept with any address."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from milo_voice.store.repo import Invalid
from milo_voice.workspace.accounts import Accounts, InviteEmailMismatch
from milo_voice.workspace.audit import Audit
from security import login_http
from security.login_http import PASSWORD, Server, csrf_of, sign_in

server = login_http.server  # the fixture

INVITED = "new.hire@example.com"
NEW_PASSWORD = "a long new password"


def invite_token(admin: httpx.Client, email: str) -> httpx.Response:
    token = csrf_of(admin.get("/app/team").text)
    return admin.post("/app/team/invites", data={"email": email, "role": "viewer", "csrf_token": token})


def made_invite(server: Server, email: str) -> str:
    with server.browser() as admin:
        sign_in(admin, login_http.ADMIN)
        page = invite_token(admin, email)
    found = re.search(r"/app/invite/([A-Za-z0-9_-]+)", page.text)
    assert page.status_code == 200 and found, page.text
    return found.group(1)


def accept(browser: httpx.Client, token: str, email: str) -> httpx.Response:
    csrf = csrf_of(browser.get(f"/app/invite/{token}").text)
    form = {"email": email, "name": "Nia", "password": NEW_PASSWORD, "csrf_token": csrf}
    return browser.post(f"/app/invite/{token}", data=form)


def test_an_invite_is_accepted_only_with_its_own_address(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="milo_voice.web.workspace.account_pages")
    token = made_invite(server, INVITED)
    with server.browser() as stranger:
        page = stranger.get(f"/app/invite/{token}")
        assert page.status_code == 200
        field = re.search(r'<input type="email" name="email"[^>]*>', page.text)
        assert field and f'value="{INVITED}"' in field.group(0) and "readonly" in field.group(0)
        refused = accept(stranger, token, "someone.else@example.com")
        assert refused.status_code == 400
        assert f"This invite is for {INVITED}" in refused.text
        assert stranger.get("/app/interviews").status_code == 303  # not signed in
    assert server.accounts.user_id_for("someone.else@example.com") is None
    assert server.accounts.open_invite(token) is not None  # still open for the invited person
    assert [r.getMessage() for r in caplog.records] == ["invite_email_mismatch"]
    with server.browser() as invited:
        joined = accept(invited, token, " New.Hire@Example.com ")
        assert joined.status_code == 303 and joined.headers["location"] == "/app/interviews"
        assert invited.get("/app/interviews").status_code == 200
    assert server.accounts.user_id_for(INVITED) is not None
    assert server.accounts.open_invite(token) is None


def test_the_team_page_needs_the_invitees_address(server: Server) -> None:
    with server.browser() as admin:
        sign_in(admin, login_http.ADMIN)
        team = admin.get("/app/team").text
        assert re.search(r'<input type="email" name="email" required>', team)
        before = len(server.accounts.invites())
        page = invite_token(admin, "  ")
        assert "only that address can accept the invite" in page.text and "/app/invite/" not in page.text
        assert len(server.accounts.invites()) == before
        assert "is not an email address" in invite_token(admin, "not-an-address").text
    assert not any(e.action == "invite" for e in Audit(server.accounts.engine).recent())


def test_accounts_bind_an_invite_to_its_address(server: Server) -> None:
    accounts: Accounts = server.accounts
    admin = server.users["admin"]
    token = accounts.create_invite(created_by=admin, role="viewer", email=" Bound@Example.com", days=1)
    with pytest.raises(InviteEmailMismatch) as refused:
        accounts.accept_invite(token, email="other@example.com", password=PASSWORD)
    assert isinstance(refused.value, Invalid) and "bound@example.com" in str(refused.value)
    user = accounts.accept_invite(token, email="", password=PASSWORD)  # blank: the invite's address
    assert user.email == "bound@example.com" and user.role == "viewer"
    legacy = accounts.create_invite(created_by=admin, role="viewer", days=1)  # no address: any address
    assert accounts.accept_invite(legacy, email="anyone@example.com", password=PASSWORD).role == "viewer"
