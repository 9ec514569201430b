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


async def csrf_ok(request: Request, *, header_only: bool = False) -> bool:
    """The token from the `X-CSRF-Token` header (uploads send it, so it is checked before their body is
    read), else from the form's `csrf_token` field."""
    expected = request.session.get("csrf")
    header = request.headers.get("x-csrf-token")
    if header is not None:
        return isinstance(expected, str) and security.same(expected, header)
    if header_only:  # an upload: its body is never parsed before the token is checked
        return False
    form = await request.form()
    sent = form.get("csrf_token")
    return isinstance(expected, str) and isinstance(sent, str) and security.same(expected, sent)
