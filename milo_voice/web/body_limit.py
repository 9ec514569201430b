"""A cap on request bodies that are parsed whole: URL-encoded forms (every page's POST, Twilio's
webhooks, the unsubscribe page) and JSON (the API, WebRTC offers).

Starlette reads such a body into memory before a handler sees it, so a client could make the
server buffer gigabytes. This middleware refuses an over-long body with 413 before the handler
runs: at once when Content-Length says so, otherwise as soon as the streamed body passes the cap.
Multipart uploads are left to their handlers (they stream to disk and check their own limits).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FORM_LIMIT = 256 * 1024
"""URL-encoded forms: a template of 5,000 characters is 15 KiB encoded at worst; Twilio's are ~2 KiB."""
JSON_LIMIT = 2 * 1024 * 1024
"""JSON: an SDP offer is ~10 KiB; an interview with its questions and rubrics well under 1 MiB."""


class BodyTooLarge(Exception):
    pass


def limit_for(content_type: str) -> int | None:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return FORM_LIMIT
    if kind == "application/json" or kind.endswith("+json"):
        return JSON_LIMIT
    return None


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        cap = limit_for(headers.get("content-type", ""))
        if cap is None:
            await self.app(scope, receive, send)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            await _refuse(send, cap)
            return
        seen, started = 0, False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise BodyTooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not started:
                await _refuse(send, cap)


async def _refuse(send: Send, cap: int) -> None:
    body = f"request body too large: at most {cap // 1024} KiB for this kind of request\n".encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
