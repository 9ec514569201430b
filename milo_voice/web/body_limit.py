"""A cap on every request body, enforced while it arrives and before any handler parses a byte of it.

Starlette reads a form or JSON body into memory, and spools a multipart body to temporary files,
before a handler can look at who sent it: a client could make the server buffer gigabytes on any
route, signed in or not (a multipart POST to the login page, an unsigned Twilio webhook). So this
middleware caps every body, whatever its content type (form, JSON, multipart, unknown, none):

- `DEFAULT_LIMIT` (1 MiB) everywhere, tighter for URL-encoded forms (`FORM_LIMIT`);
- the routes that legitimately take bigger uploads are listed in `UPLOADS`, each with its own limit;
  their cap is that limit plus `UPLOAD_SLACK`, so the handler's own finer check (and its friendlier
  answer) still runs first for a file just over the limit.

A declared Content-Length over the cap is refused with 413 at once, nothing read. A body without a
length (chunked) is counted as it streams and refused with 413 as soon as the count passes the cap:
the chunk that crosses it is never handed on, and nothing more is read. Whatever the handler does
with the error (it may catch it and answer), the client gets the 413.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from milo_voice.settings import Settings
from milo_voice.web.resume_candidate import MAX_RESUME_BYTES
from milo_voice.web.stage_candidate import MAX_FORM_BYTES
from milo_voice.workspace.editor import MAX_LOGO_BYTES

MIB = 1024 * 1024
DEFAULT_LIMIT = 1 * MIB
"""Every body of a route not in `UPLOADS`: a page's form, a webhook, an API call, an SDP offer."""
FORM_LIMIT = 256 * 1024
"""URL-encoded forms: a template of 5,000 characters is 15 KiB encoded at worst; Twilio's are ~2 KiB."""
JSON_LIMIT = DEFAULT_LIMIT
"""JSON: no route takes more than the default (the API's own check is 1,000,000 bytes)."""
UPLOAD_SLACK = 64 * 1024
"""Room past an upload route's limit for the multipart envelope (boundaries, part headers, small
fields), so a file just over the limit reaches the handler, which answers it in its own words."""
EDITOR_FIELDS = 512 * 1024
"""The interview editor's fields besides the logo (30 questions with follow-ups and rubrics)."""


@dataclass(frozen=True, slots=True)
class Upload:
    """A route that takes a body bigger than `DEFAULT_LIMIT`: its own limit (the handler checks it too)."""

    method: str
    path: str
    """A Starlette path pattern: `{name}` or `{name:int}` is one path segment."""
    limit: Callable[[Settings], int]
    what: str

    def pattern(self) -> re.Pattern[str]:
        parts = re.split(r"\{[^}]+\}", self.path)
        return re.compile("[^/]+".join(re.escape(part) for part in parts))


UPLOADS: tuple[Upload, ...] = (
    Upload("POST", "/app/interviews/{slug}/intake/files", lambda s: s.intake_max_upload_mb * MIB,
           "an intake upload (MILO_INTAKE_MAX_UPLOAD_MB)"),
    Upload("POST", "/app/interviews/{slug}/intake/csv", lambda s: s.intake_max_csv_mb * MIB,
           "a candidate list (MILO_INTAKE_MAX_CSV_MB)"),
    Upload("POST", "/i/{token}/resume", lambda _: MAX_RESUME_BYTES, "a resume"),
    Upload("POST", "/i/{token}/form", lambda _: MAX_FORM_BYTES, "a form with its files"),
    Upload("POST", "/app/interviews", lambda _: MAX_LOGO_BYTES + EDITOR_FIELDS, "an interview with its logo"),
    Upload("POST", "/app/interviews/{slug}/edit", lambda _: MAX_LOGO_BYTES + EDITOR_FIELDS,
           "an interview with its logo"),
)
"""Method + path -> limit of every route that legitimately takes more than `DEFAULT_LIMIT` (or, the
interview editor, a known amount less). Add a route here when it starts taking uploads."""


class BodyTooLarge(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Cap:
    bytes: int
    message: str


def size(n: int) -> str:
    return f"{n // MIB} MB" if n % MIB == 0 else f"{n // 1024} KiB"


def is_form(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "application/x-www-form-urlencoded"


class BodyLimit:
    def __init__(self, app: ASGIApp, *, settings: Settings, uploads: Sequence[Upload] = UPLOADS) -> None:
        self.app = app
        self.routes = [(u.method, u.pattern(), u.limit(settings), u.what) for u in uploads]

    def cap(self, method: str, path: str, content_type: str) -> Cap:
        """The cap on this request's body and the 413's text."""
        if is_form(content_type):
            return Cap(FORM_LIMIT, f"request body too large: at most {size(FORM_LIMIT)} for a form")
        for route_method, pattern, limit, what in self.routes:
            if method == route_method and pattern.fullmatch(path):
                return Cap(limit + UPLOAD_SLACK, f"upload too large: at most {size(limit)} for {what}")
        return Cap(DEFAULT_LIMIT, f"request body too large: at most {size(DEFAULT_LIMIT)} for this request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        cap = self.cap(scope["method"], scope["path"], headers.get("content-type", ""))
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap.bytes:
            await refuse(send, cap.message)
            return
        guard = Guard(cap, receive, send)
        with contextlib.suppress(BodyTooLarge):  # the 413 is sent below (or already replaced the answer)
            await self.app(scope, guard.receive, guard.send)
        if guard.over and not guard.started:
            await guard.answer()


class Guard:
    """The receive and send of one request: counts the body, and once it passes the cap refuses every
    further read and replaces whatever the application answers with the 413."""

    def __init__(self, cap: Cap, receive: Receive, send: Send) -> None:
        self.cap, self._receive, self._send = cap, receive, send
        self.seen, self.over, self.started, self.answered = 0, False, False, False

    async def receive(self) -> Message:
        if self.over:
            raise BodyTooLarge
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.cap.bytes:
                self.over = True
                raise BodyTooLarge
        return message

    async def send(self, message: Message) -> None:
        if self.over and not self.started:
            await self.answer()
            return
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)

    async def answer(self) -> None:
        if not self.answered:
            self.answered = True
            await refuse(self._send, self.cap.message)


async def refuse(send: Send, message: str) -> None:
    body = f"{message}\n".encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
