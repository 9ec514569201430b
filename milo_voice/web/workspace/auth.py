"""Who is asking, and may they: session cookies, CSRF, roles for pages; API keys for the JSON API.

Pages: a signed cookie (Starlette `SessionMiddleware`, itsdangerous) holds the user id, the
user's `session_version` (bumped on role change or deactivation, which signs them out
everywhere), a server-side session id and a CSRF token. The cookie is HttpOnly, SameSite=Lax,
limited to /app, Secure when the public URL is https, and expires after `session_hours` without a
request (each request re-signs it). The session id names a `user_session` row
(`workspace/user_sessions.py`): every request checks it is live (not revoked, not idle for
`session_hours`, its user active at the same version), so logging out or changing the password
ends a session at once even if a copy of its cookie survives. Every POST must carry the session's
CSRF token (`csrf.py`) in a `csrf_token` field; a missing or wrong one is a 403 page and nothing is
changed. The API uses no cookies, only `Authorization: Bearer <key>`, so it needs no CSRF token.

Failed sign-ins are throttled per account and per client address (`workspace/login_throttle.py`,
one throttle per app on `app.state.login_throttle`, driven by the app's clock). The client address
is the ASGI client host: uvicorn replaces it with X-Forwarded-For only for connections from
FORWARDED_ALLOW_IPS (default 127.0.0.1 and ::1); nothing here reads forwarded headers itself.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
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
from milo_voice.workspace.login_throttle import LoginThrottle
from milo_voice.workspace.user_sessions import UserSessions

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


def user_sessions(request: Request) -> UserSessions:
    """The app's server-side sessions, over its engine and clock (made once, kept on `app.state`)."""
    state = request.app.state
    found: UserSessions | None = getattr(state, "user_sessions", None)
    if found is None:
        found = state.user_sessions = UserSessions(state.engine, now=state.now)
    return found


def login_throttle(request: Request) -> LoginThrottle:
    """The app's login throttle (in memory, one per app), on the app's clock unless a test set its own."""
    state = request.app.state
    found: LoginThrottle | None = getattr(state, "login_throttle", None)
    if found is None:
        found = state.login_throttle = LoginThrottle(lambda: state.now().timestamp())
    return found


def client_address(request: Request) -> str:
    """The ASGI client host (what uvicorn saw, or took from a trusted proxy's X-Forwarded-For)."""
    return request.client.host if request.client is not None else ""


async def signed_in(request: Request) -> Principal | None:
    uid, version, sid = request.session.get("uid"), request.session.get("sv"), request.session.get("sid")
    if not isinstance(uid, int) or not isinstance(version, int) or not isinstance(sid, str):
        return None
    idle = timedelta(hours=workspace(request).settings.session_hours)
    sessions = user_sessions(request)
    user = await run_in_threadpool(lambda: sessions.live(sid, user_id=uid, version=version, idle=idle))
    if user is None:
        for key in ("uid", "sid"):
            request.session.pop(key, None)
        return None
    request.session["t"] = int(time.time())  # re-signs the cookie: the idle timeout restarts
    return principal(user)


async def start_session(request: Request, who: Principal, version: int) -> None:
    """Sign in: a fresh session (new server-side id, new CSRF token) so a cookie planted before login
    is worth nothing."""
    agent, address = request.headers.get("user-agent", ""), client_address(request)
    sessions = user_sessions(request)
    sid = await run_in_threadpool(lambda: sessions.open(who.user_id, user_agent=agent, address=address))
    request.session.clear()
    request.session.update({"uid": who.user_id, "sv": version, "sid": sid, "csrf": security.new_token()})


async def end_session(request: Request) -> None:
    """Sign out: revoke the server-side session (a copy of its cookie becomes worthless), empty the cookie."""
    sid = request.session.get("sid")
    if isinstance(sid, str):
        await run_in_threadpool(user_sessions(request).revoke, sid)
    request.session.clear()


def session_id(request: Request) -> str:
    """The server-side session id of this signed-in request ("" if none)."""
    sid = request.session.get("sid")
    return sid if isinstance(sid, str) else ""


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
