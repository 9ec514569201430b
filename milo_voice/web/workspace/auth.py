"""Who is asking, and may they: session cookies, CSRF, roles for pages; API keys for the JSON API.

Pages: a signed cookie (Starlette `SessionMiddleware`, itsdangerous) holds the user id, the
user's `session_version` (bumped on role change or deactivation, which signs them out
everywhere) and a CSRF token. The cookie is HttpOnly, SameSite=Lax, limited to /app, Secure when
the public URL is https, and expires after `session_hours` without a request (each request
re-signs it). Every POST must carry the session's CSRF token (`csrf.py`) in a `csrf_token` field;
a missing or wrong one is a 403 page and nothing is changed. The API uses no cookies, only
`Authorization: Bearer <key>`, so it needs no CSRF token.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from milo_voice.errors import ConfigError
from milo_voice.store.repo import Invalid, NotFound
from milo_voice.store.tables import UserRole
from milo_voice.web.workspace.csrf import csrf_ok
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace import security
from milo_voice.workspace.accounts import Principal, principal

COOKIE = "milo_session"
Handler = Callable[[Request], Awaitable[Response]]


class LazySessions:
    """`SessionMiddleware`, built at the first request from the app's settings (and, when no secret
    is configured, the secret shared through the database), since routes exist before settings."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.inner: SessionMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.inner is None and scope["type"] in ("http", "websocket"):
            ws = workspace(Request(scope))
            settings = ws.settings
            if settings.session_hours <= 0:
                raise ConfigError(f"MILO_SESSION_HOURS={settings.session_hours}: expected > 0")
            secret = str(settings.session_secret) or await run_in_threadpool(ws.accounts.secret)
            self.inner = SessionMiddleware(
                self.app,
                secret_key=secret,
                session_cookie=COOKIE,
                path="/app",
                max_age=int(settings.session_hours * 3600),
                same_site="lax",
                https_only=settings.base_url.startswith("https://"),
            )
        await (self.inner or self.app)(scope, receive, send)


async def signed_in(request: Request) -> Principal | None:
    uid, version = request.session.get("uid"), request.session.get("sv")
    if not isinstance(uid, int) or not isinstance(version, int):
        return None
    user = await run_in_threadpool(workspace(request).accounts.session_user, uid, version)
    if user is None:
        request.session.pop("uid", None)
        return None
    request.session["t"] = int(time.time())  # re-signs the cookie: the idle timeout restarts
    return principal(user)


def start_session(request: Request, who: Principal, version: int) -> None:
    """Sign in: a fresh session (new CSRF token) so a cookie planted before login is worth nothing."""
    request.session.clear()
    request.session.update({"uid": who.user_id, "sv": version, "csrf": security.new_token()})


SIGN_IN = {"back_url": "/app/login", "back_label": "Sign in"}
SIGNED_OUT = "You are not signed in, or your session has ended. Sign in, then try again."
ADMINS_ONLY = "Only admins can do this. Ask an admin of your team if it needs doing."
EXPIRED = ("The form expired or did not come from this site; nothing was changed. "
           "Go back, reload the page and try again.")


def forbidden(request: Request, heading: str, message: str, back: dict[str, str] | None = None) -> Response:
    """The 403 page: the recruiter message page with a title, the reason and a way back (`back`, else
    the page the visitor came from, else the workspace)."""
    way = way_back(request) if back is None else back
    return render(request, "message.html", {"heading": heading, "message": message, **way}, 403)


def way_back(request: Request) -> dict[str, str]:
    """A link to the workspace page the visitor came from (the Referer's path, never another site);
    empty when there is none, and the message page links to the workspace instead."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc not in ("", request.url.netloc) or not referer.path.startswith("/app/"):
        return {}
    if referer.path == request.url.path and request.method == "GET":
        return {}
    query = f"?{referer.query}" if referer.query else ""
    return {"back_url": referer.path + query, "back_label": "Back to the page you came from"}


def page(role: UserRole = UserRole.VIEWER, *, upload: bool = False) -> Callable[[Handler], Handler]:
    """A recruiter page: signed-in users with `role` (admins may do everything); POSTs need CSRF. An
    `upload` takes the token from the X-CSRF-Token header only, so its body is read after the check."""

    def wrap(handler: Handler) -> Handler:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            who = await signed_in(request)
            if who is None:
                if request.method == "GET":
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(f"/app/login?next={quote(target, safe='')}", status_code=303)
                return forbidden(request, "Sign in first", SIGNED_OUT, SIGN_IN)
            request.state.principal = who
            if role is UserRole.ADMIN and not who.is_admin:
                return forbidden(request, "Admins only", ADMINS_ONLY)
            if request.method == "POST" and not await csrf_ok(request, header_only=upload):
                return forbidden(request, "This form has expired", EXPIRED)
            try:
                return await handler(request)
            except NotFound as exc:
                return PlainTextResponse(str(exc), status_code=404)
            except Invalid as exc:
                return PlainTextResponse(str(exc), status_code=400)

        endpoint.required_role = role  # type: ignore[attr-defined]
        return endpoint

    return wrap


def public_form(handler: Handler) -> Handler:
    """A page for signed-out visitors (login, accept invite): POSTs still need the session's CSRF token."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        if request.method == "POST" and not await csrf_ok(request):
            return forbidden(request, "This form has expired", EXPIRED)
        return await handler(request)

    endpoint.required_role = None  # type: ignore[attr-defined]
    return endpoint


def api_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def api(role: UserRole = UserRole.VIEWER) -> Callable[[Handler], Handler]:
    """A JSON API endpoint: `Authorization: Bearer <API key>`; 401 without a valid key, 403 without `role`."""

    def wrap(handler: Handler) -> Handler:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            key = header[7:].strip() if header.lower().startswith("bearer ") else ""
            who = await run_in_threadpool(workspace(request).accounts.principal_for_key, key) if key else None
            if who is None:
                return JSONResponse(
                    {"error": "a valid API key is required (Authorization: Bearer <key>)"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            if role is UserRole.ADMIN and not who.is_admin:
                return api_error(403, "this API key's user is not an admin")
            request.state.principal = who
            try:
                return await handler(request)
            except NotFound as exc:
                return api_error(404, str(exc))
            except Invalid as exc:
                return api_error(400, str(exc))

        endpoint.required_role = role  # type: ignore[attr-defined]
        return endpoint

    return wrap


def who(request: Request) -> Principal:
    found: Principal = request.state.principal
    return found
