"""The CSRF token of a recruiter's session: made on first use, checked on every POST (in constant time).

Apart from `auth` so that the page renderer (which puts the token in every form) and the guards
(which check it, and render the 403 page) import it without importing each other.
"""

from __future__ import annotations

from starlette.requests import Request

from milo_voice.workspace import security


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = security.new_token()
        request.session["csrf"] = token
    return token


async def csrf_ok(request: Request) -> bool:
    expected = request.session.get("csrf")
    form = await request.form()
    sent = form.get("csrf_token")
    return isinstance(expected, str) and isinstance(sent, str) and security.same(expected, sent)
