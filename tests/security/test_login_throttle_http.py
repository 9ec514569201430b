"""Login throttling over real HTTP on loopback (issue 20, finding 4): the 11th wrong password in a
minute is answered 429 with Retry-After, the right password is refused (unchecked) during the lock,
and works once the app's clock has passed the wait."""

from __future__ import annotations

import logging

import pytest

from milo_voice.workspace.audit import Audit
from milo_voice.workspace.login_throttle import ACCOUNT_FAILURES, ADDRESS_FAILURES, COOLDOWN_S
from security import login_http
from security.login_http import ADMIN, PASSWORD, VIEWER, Server, csrf_of, post_login, sign_in

server = login_http.server  # the fixture


def failed_logins(server: Server) -> int:
    events = Audit(server.accounts.engine).recent(limit=500)
    return sum(1 for event in events if event.action == "login_failed")


def test_login_answers_429_before_the_11th_wrong_password_in_a_minute(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="milo_voice.web.workspace.account_pages")
    with server.browser() as attacker:
        token = csrf_of(attacker.get("/app/login").text)
        for n in range(ACCOUNT_FAILURES):
            wrong = attacker.post(
                "/app/login", data={"email": ADMIN, "password": f"guess-{n:04d}-x", "csrf_token": token}
            )
            assert wrong.status_code == 401, n
            server.clock.advance(5.0)  # ten guesses within 50 seconds
        refused = attacker.post(
            "/app/login", data={"email": ADMIN, "password": "guess-11-xxxx", "csrf_token": token}
        )
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == str(int(COOLDOWN_S) - 5)
        assert "Too many failed sign-ins for this account" in refused.text
        assert "wait 5 minutes" in refused.text

        right = attacker.post("/app/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": token})
        assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
        assert attacker.get("/app/interviews").status_code == 303  # not signed in
    assert failed_logins(server) == ACCOUNT_FAILURES  # refused attempts were never checked

    refusals = [r for r in caplog.records if r.getMessage() in ("login_refused", "login_locked")]
    assert [r.getMessage() for r in refusals] == ["login_locked", "login_refused", "login_refused"]
    assert all(r.reason == "account" for r in refusals)
    assert all(r.user_id == server.users["admin"] for r in refusals)
    assert not any(ADMIN in r.getMessage() or ADMIN in str(r.__dict__) for r in refusals)

    with server.browser() as owner:  # the account is locked from every address, for the whole wait
        assert post_login(owner, ADMIN, PASSWORD).status_code == 429
        server.clock.advance(int(right.headers["retry-after"]))
        sign_in(owner, ADMIN)


def test_a_success_clears_the_account_and_other_accounts_are_not_locked(server: Server) -> None:
    with server.browser() as browser:
        for _ in range(ACCOUNT_FAILURES - 1):
            assert post_login(browser, VIEWER, "not-the-password").status_code == 401
        sign_in(browser, VIEWER)
    with server.browser() as browser:
        for _ in range(ACCOUNT_FAILURES - 1):
            assert post_login(browser, VIEWER, "not-the-password").status_code == 401
        sign_in(browser, ADMIN)


def test_one_address_gets_429_after_thirty_failures_across_accounts(server: Server) -> None:
    with server.browser() as attacker:
        token = csrf_of(attacker.get("/app/login").text)
        for n in range(ADDRESS_FAILURES):
            email = f"nobody{n % 5}@example.com"  # five names, six guesses each: no account is locked
            wrong = attacker.post(
                "/app/login", data={"email": email, "password": "x" * 12, "csrf_token": token}
            )
            assert wrong.status_code == 401, n
        refused = attacker.post(
            "/app/login", data={"email": VIEWER, "password": PASSWORD, "csrf_token": token}
        )
        assert refused.status_code == 429 and refused.headers["retry-after"] == str(int(COOLDOWN_S))
        assert "from your network" in refused.text
