"""Server-side sessions over real HTTP on loopback (issue 20, finding 5): a cookie copied before
logout is worthless after it, a password change signs out the user's other browsers, and a session
idle for longer than `session_hours` is refused by the server even while its cookie is still valid."""

from __future__ import annotations

from datetime import timedelta

from milo_voice.workspace.user_sessions import UserSessions
from security import login_http
from security.login_http import ADMIN, PASSWORD, Server, csrf_of, post_login, sign_in

NEW_PASSWORD = "a new and longer password"
IDLE = timedelta(hours=12)
"""The default `session_hours`."""


server = login_http.server  # the fixture


def key_names(server: Server) -> list[str]:
    return [key.name for key in server.accounts.api_keys()]


def test_an_old_cookie_after_logout_gets_redirected_to_login(server: Server) -> None:
    with server.browser() as browser:
        sign_in(browser, ADMIN)
        copied = browser.cookies["milo_session"]
        token = csrf_of(browser.get("/app/keys").text)
        with server.browser(copied) as thief:
            assert thief.get("/app/keys").status_code == 200  # the copy works while the session lives
        out = browser.post("/app/logout", data={"csrf_token": token})
        assert out.status_code == 303 and out.headers["location"] == "/app/login"

    with server.browser(copied) as thief:
        read = thief.get("/app/keys")
        assert read.status_code == 303 and read.headers["location"].startswith("/app/login?next=")
    with server.browser(copied) as thief:
        write = thief.post("/app/keys", data={"csrf_token": token, "name": "planted"})
        assert write.status_code == 403 and 'href="/app/login"' in write.text  # "Sign in first"
    assert key_names(server) == []  # nothing changed


def test_a_password_change_revokes_the_other_sessions(server: Server) -> None:
    sessions = UserSessions(server.accounts.engine, now=server.clock)
    with server.browser() as laptop, server.browser() as phone:
        sign_in(laptop, ADMIN)
        sign_in(phone, ADMIN)
        stolen = phone.cookies["milo_session"]
        phone_token = csrf_of(phone.get("/app/keys").text)
        form = csrf_of(laptop.get("/app/account/password").text)

        wrong = laptop.post(
            "/app/account/password",
            data={
                "csrf_token": form,
                "current": "not-my-password",
                "new": NEW_PASSWORD,
                "repeat": NEW_PASSWORD,
            },
        )
        assert wrong.status_code == 400 and "current password is not right" in wrong.text
        assert phone.get("/app/keys").status_code == 200  # a failed change ends nothing

        changed = laptop.post(
            "/app/account/password",
            data={"csrf_token": form, "current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD},
        )
        assert changed.status_code == 200 and "Your password was changed" in changed.text
        assert laptop.get("/app/keys").status_code == 200  # this browser stays signed in
        assert phone.get("/app/keys").headers["location"].startswith("/app/login")
    with server.browser(stolen) as thief:
        write = thief.post("/app/keys", data={"csrf_token": phone_token, "name": "planted"})
        assert write.status_code == 403
    assert key_names(server) == []
    assert sessions.count_live(server.users["admin"], idle=IDLE) == 1

    with server.browser() as browser:
        assert post_login(browser, ADMIN, PASSWORD).status_code == 401
        sign_in(browser, ADMIN, NEW_PASSWORD)


def test_an_idle_session_is_refused_by_the_server_while_its_cookie_is_still_valid(server: Server) -> None:
    with server.browser() as browser:
        sign_in(browser, ADMIN)
        server.clock.advance(11.5 * 3600)  # the app's clock only: the cookie's own signature is fresh
        assert browser.get("/app/keys").status_code == 200  # seen again: the idle time starts anew
        server.clock.advance(11.5 * 3600)
        assert browser.get("/app/keys").status_code == 200
        server.clock.advance(12 * 3600 + 1)
        gone = browser.get("/app/keys")
        assert gone.status_code == 303 and gone.headers["location"].startswith("/app/login")
