"""Pages about people: sign in and out, accept an invite, the team (admins), API keys, the audit trail."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.store.repo import Invalid, NotFound
from milo_voice.store.tables import UserRole
from milo_voice.web.workspace.auth import (
    client_address,
    end_session,
    login_throttle,
    page,
    public_form,
    session_id,
    signed_in,
    start_session,
    user_sessions,
    who,
)
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace.accounts import WRONG_PASSWORD, InviteEmailMismatch, principal
from milo_voice.workspace.login_throttle import Refusal

log = logging.getLogger(__name__)


def _safe_next(target: str) -> str:
    """Only same-site paths under /app: an open redirect after login would help phishing."""
    return target if target.startswith("/app/") and not target.startswith("//") else "/app/interviews"


TOO_MANY = ("Too many failed sign-ins {whom}. Nothing was checked this time; wait {wait} and try again. "
            "If you forgot your password, ask an admin of your team.")
WHOM = {"account": "for this account", "address": "from your network"}
NO_INVITE_EMAIL = ("Enter the email address of the person you invite: only that address can accept the "
                   "invite.")


def _wait(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return f"{seconds} seconds" if seconds < 60 else f"{minutes} minute{'s' if minutes != 1 else ''}"


async def _log_refusal(request: Request, email: str, refusal: Refusal, event: str) -> None:
    """Log a refused or locking sign-in: the reason and the account's id, never its email or address."""
    uid = await run_in_threadpool(workspace(request).accounts.user_id_for, email)
    log.warning(event, extra={"reason": refusal.reason, "user_id": uid if uid is not None else "unknown",
                              "retry_after_s": refusal.retry_after})


def _too_many(request: Request, template: str, context: dict[str, object], refusal: Refusal) -> Response:
    """429 with Retry-After (seconds) and the page saying why and for how long."""
    error = TOO_MANY.format(whom=WHOM[refusal.reason], wait=_wait(refusal.retry_after))
    response = render(request, template, {**context, "error": error}, 429)
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


@public_form
async def login(request: Request) -> Response:
    """Sign in. A throttled attempt (see `login_throttle`) gets 429 before its password is looked at."""
    ws = workspace(request)
    if request.method == "GET":
        if await signed_in(request) is not None:
            return RedirectResponse("/app/interviews", status_code=303)
        return render(request, "login.html", {"next": request.query_params.get("next", ""), "email": ""})
    form = await request.form()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    context: dict[str, object] = {"next": form.get("next", ""), "email": email}
    throttle, address = login_throttle(request), client_address(request)
    refusal = throttle.check(email, address)
    if refusal is not None:
        await _log_refusal(request, email, refusal, "login_refused")
        return _too_many(request, "login.html", context, refusal)
    user = await run_in_threadpool(ws.accounts.authenticate, email, password)
    if user is None:
        await run_in_threadpool(ws.audit.record, None, "login_failed", "user", email.strip().lower()[:100])
        locked = throttle.failed(email, address)
        if locked is not None:
            await _log_refusal(request, email, locked, "login_locked")
        return render(request, "login.html", {**context, "error": "Wrong email or password."}, status=401)
    throttle.succeeded(email)
    me = principal(user)
    await start_session(request, me, user.session_version)
    await run_in_threadpool(ws.audit.record, me, "login", "user", me.user_id)
    return RedirectResponse(_safe_next(str(form.get("next", ""))), status_code=303)


@page()
async def logout(request: Request) -> Response:
    me = who(request)
    await run_in_threadpool(workspace(request).audit.record, me, "logout", "user", me.user_id)
    await end_session(request)
    return RedirectResponse("/app/login", status_code=303)


@page()
async def change_password(request: Request) -> Response:
    """Change one's own password: the current one is checked (and throttled like a sign-in), and every
    other session of the user is revoked; this browser stays signed in."""
    ws, me = workspace(request), who(request)
    if request.method == "GET":
        return render(request, "password.html", {})
    form = await request.form()
    current, new = str(form.get("current", "")), str(form.get("new", ""))
    if new != str(form.get("repeat", "")):
        return render(request, "password.html", {"error": "The new passwords do not match."}, 400)
    throttle, address = login_throttle(request), client_address(request)
    refusal = throttle.check(me.email, address)
    if refusal is not None:
        await _log_refusal(request, me.email, refusal, "password_change_refused")
        return _too_many(request, "password.html", {}, refusal)
    try:
        await run_in_threadpool(lambda: ws.accounts.change_password(me.user_id, current=current, new=new))
    except Invalid as exc:
        if str(exc) == WRONG_PASSWORD:
            throttle.failed(me.email, address)
        return render(request, "password.html", {"error": str(exc)[:1].upper() + str(exc)[1:] + "."}, 400)
    throttle.succeeded(me.email)
    sessions, keep = user_sessions(request), session_id(request)
    ended = await run_in_threadpool(lambda: sessions.revoke_others(me.user_id, keep=keep))
    await run_in_threadpool(ws.audit.record, me, "change_password", "user", me.user_id, sessions_ended=ended)
    return render(request, "password.html", {"changed": True, "sessions_ended": ended})


@public_form
async def accept_invite(request: Request) -> Response:
    ws = workspace(request)
    token = request.path_params["token"]
    invite = await run_in_threadpool(ws.accounts.open_invite, token)
    if invite is None:
        return render(
            request,
            "message.html",
            {
                "heading": "Invite not valid",
                "message": "This invite link was used already, has expired, or never existed.",
            },
            404,
        )
    if request.method == "GET":
        return render(request, "invite.html", {"invite": invite, "email": invite.email, "name": ""})
    form = await request.form()
    email, name = str(form.get("email", "")), str(form.get("name", ""))
    try:
        user = await run_in_threadpool(
            lambda: ws.accounts.accept_invite(
                token, email=email, password=str(form.get("password", "")), name=name
            )
        )
    except (Invalid, NotFound) as exc:
        if isinstance(exc, InviteEmailMismatch):
            log.warning("invite_email_mismatch", extra={"invite_id": invite.id})
        error = str(exc)[:1].upper() + str(exc)[1:] + "."
        context = {"invite": invite, "email": email, "name": name, "error": error}
        return render(request, "invite.html", context, 400)
    me = principal(user)
    await start_session(request, me, user.session_version)
    await run_in_threadpool(ws.audit.record, me, "join", "user", me.user_id, role=user.role, invite=invite.id)
    return RedirectResponse("/app/interviews", status_code=303)


async def _team(request: Request, **extra: object) -> Response:
    ws = workspace(request)
    users = await run_in_threadpool(ws.accounts.users)
    invites = await run_in_threadpool(ws.accounts.invites)
    return render(
        request,
        "team.html",
        {"users": users, "invites": invites, "invite_days": f"{ws.settings.invite_days:g}", **extra},
    )


@page(UserRole.ADMIN)
async def team(request: Request) -> Response:
    return await _team(request)


@page(UserRole.ADMIN)
async def create_invite(request: Request) -> Response:
    ws = workspace(request)
    form = await request.form()
    if not str(form.get("email", "")).strip():
        return await _team(request, error=NO_INVITE_EMAIL)
    try:
        token = await run_in_threadpool(
            lambda: ws.accounts.create_invite(
                created_by=who(request).user_id,
                role=str(form.get("role", "viewer")),
                email=str(form.get("email", "")),
                days=ws.settings.invite_days,
            )
        )
    except Invalid as exc:
        return await _team(request, error=str(exc))
    await run_in_threadpool(ws.audit.record, who(request), "invite", "user", "", role=str(form.get("role")))
    return await _team(request, invite_link=f"{ws.settings.base_url}/app/invite/{token}")


@page(UserRole.ADMIN)
async def set_role(request: Request) -> Response:
    ws = workspace(request)
    uid, role = int(request.path_params["uid"]), str((await request.form()).get("role", ""))
    if uid == who(request).user_id:
        return await _team(request, error="You cannot change your own role.")
    try:
        await run_in_threadpool(ws.accounts.set_role, uid, role)
    except (Invalid, NotFound) as exc:
        return await _team(request, error=str(exc))
    await run_in_threadpool(ws.audit.record, who(request), "set_role", "user", uid, role=role)
    return RedirectResponse("/app/team", status_code=303)


@page(UserRole.ADMIN)
async def set_active(request: Request) -> Response:
    ws = workspace(request)
    uid, active = int(request.path_params["uid"]), (await request.form()).get("active") == "1"
    if uid == who(request).user_id:
        return await _team(request, error="You cannot disable yourself.")
    try:
        await run_in_threadpool(ws.accounts.set_active, uid, active)
    except NotFound as exc:
        return await _team(request, error=str(exc))
    await run_in_threadpool(ws.audit.record, who(request), "enable" if active else "disable", "user", uid)
    return RedirectResponse("/app/team", status_code=303)


async def _keys(request: Request, **extra: object) -> Response:
    ws, me = workspace(request), who(request)
    keys = await run_in_threadpool(ws.accounts.api_keys, None if me.is_admin else me.user_id)
    emails = {u.id: u.email for u in await run_in_threadpool(ws.accounts.users)} if me.is_admin else {}
    return render(request, "keys.html", {"keys": keys, "emails": emails, **extra})


@page()
async def keys(request: Request) -> Response:
    ws, me = workspace(request), who(request)
    if request.method == "GET":
        return await _keys(request)
    name = str((await request.form()).get("name", ""))
    try:
        row, key = await run_in_threadpool(lambda: ws.accounts.create_api_key(user_id=me.user_id, name=name))
    except Invalid as exc:
        return await _keys(request, error=str(exc))
    await run_in_threadpool(ws.audit.record, me, "create_api_key", "api_key", row.id, prefix=row.prefix)
    return await _keys(request, new_key=key)


@page()
async def revoke_key(request: Request) -> Response:
    ws, me = workspace(request), who(request)
    key_id = int(request.path_params["kid"])
    try:
        await run_in_threadpool(
            lambda: ws.accounts.revoke_api_key(key_id, user_id=None if me.is_admin else me.user_id)
        )
    except NotFound as exc:
        return await _keys(request, error=str(exc))
    await run_in_threadpool(ws.audit.record, me, "revoke_api_key", "api_key", key_id)
    return RedirectResponse("/app/keys", status_code=303)


@page(UserRole.ADMIN)
async def audit(request: Request) -> Response:
    ws = workspace(request)
    events = await run_in_threadpool(lambda: ws.audit.recent(limit=300))
    return render(request, "audit.html", {"events": events})


def routes() -> list[BaseRoute]:
    return [
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/account/password", change_password, methods=["GET", "POST"]),
        Route("/invite/{token}", accept_invite, methods=["GET", "POST"]),
        Route("/team", team),
        Route("/team/invites", create_invite, methods=["POST"]),
        Route("/team/{uid:int}/role", set_role, methods=["POST"]),
        Route("/team/{uid:int}/active", set_active, methods=["POST"]),
        Route("/keys", keys, methods=["GET", "POST"]),
        Route("/keys/{kid:int}/revoke", revoke_key, methods=["POST"]),
        Route("/audit", audit),
    ]
