"""The app's rate limits on the public candidate endpoints (`workspace/public_limits.py`): one
`PublicLimits` per app on `app.state.public_limits`, driven by the app's clock, and the 429 answers.

The client address is the ASGI client host, as for the login throttle: uvicorn replaces it with
X-Forwarded-For only for connections from FORWARDED_ALLOW_IPS; nothing here reads forwarded headers.
Every refusal is logged at WARNING as `public_limit_refused` with its `reason`, the `route` and
`retry_after_s` (not the client address: candidates' addresses are not written to the log).
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from milo_voice.workspace.public_limits import PublicLimits, Refusal

log = logging.getLogger(__name__)

SIGNUP_MESSAGES = {
    "signup_address": "We have received several applications from your network in the last few minutes.",
    "signup_link": "This interview is receiving a lot of applications right now.",
}
OFFER_MESSAGES = {
    "offer_address": "Your browser tried to connect many times in a short while.",
    "live_calls": "There are already interviews running from your network.",
}


def public_limits(request: Request) -> PublicLimits:
    """The app's limits (in memory, one per app), on the app's clock unless a test set its own."""
    state = request.app.state
    found: PublicLimits | None = getattr(state, "public_limits", None)
    if found is None:
        settings = state.settings
        found = state.public_limits = PublicLimits(
            lambda: state.now().timestamp(),
            live_calls_per_address=settings.live_calls_per_address,
            offers_per_address=settings.offers_per_minute,
        )
    return found


def client_host(request: Request) -> str:
    """The ASGI client host (what uvicorn saw, or took from a trusted proxy's X-Forwarded-For)."""
    return request.client.host if request.client is not None else ""


def wait_text(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return f"{seconds} seconds" if seconds < 60 else f"{minutes} minute{'s' if minutes != 1 else ''}"


def log_refusal(route: str, refusal: Refusal, **extra: object) -> None:
    log.warning(
        "public_limit_refused",
        extra={"reason": refusal.reason, "route": route, "retry_after_s": refusal.retry_after, **extra},
    )


def too_many_page(request: Request, templates: Jinja2Templates, refusal: Refusal, script: object) -> Response:
    """The candidate-facing 429 page (HTML), with Retry-After."""
    message = (
        f"{SIGNUP_MESSAGES.get(refusal.reason, 'Too many requests.')} Nothing was sent this time. "
        f"Please wait {wait_text(refusal.retry_after)} and try again."
    )
    response = templates.TemplateResponse(
        request,
        "candidate_message.html",
        {"title": "Please try again in a little while", "message": message, "script": script},
        status_code=429,
    )
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def too_many_json(refusal: Refusal) -> Response:
    """The 429 of the offer endpoint (JSON: the interview page shows `error`), with Retry-After."""
    message = (
        f"{OFFER_MESSAGES.get(refusal.reason, 'Too many requests.')} "
        f"Please wait {wait_text(refusal.retry_after)} and try again."
    )
    return JSONResponse(
        {"error": message, "retry_after": refusal.retry_after},
        status_code=429,
        headers={"Retry-After": str(refusal.retry_after)},
    )
