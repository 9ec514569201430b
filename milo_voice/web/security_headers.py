"""Security headers on every HTTP response, and `Cache-Control: no-store` where personal data is served.

- `Content-Security-Policy` (`policy()`): scripts only from this origin, plus the few inline scripts
  of the templates by their SHA-256 hash (computed from the template files at start-up, so editing one
  needs no change here; an inline script with template markup inside cannot be hashed and is refused
  at start-up). Styles need `'unsafe-inline'`: the templates carry `style="..."` attributes with
  computed widths and the report page a `<style>` block. Images from this origin and `data:` (an
  interview's logo is stored as a data URL). No plugins, no `<base>`, forms post only here, and no
  other site may frame a page (`frame-ancestors 'none'`, and `X-Frame-Options: DENY` for old
  browsers). PDFs get only `frame-ancestors`: Chromium's PDF viewer breaks under a full policy.
- `X-Content-Type-Options: nosniff`; `Referrer-Policy: same-origin` (a candidate's link carries its
  secret token in the path: no other site ever sees it in a Referer).
- `Strict-Transport-Security` only when the public URL (MILO_PUBLIC_URL) is https.
- `Cache-Control: no-store` on everything under `PRIVATE` (recruiter pages, the API, reports,
  exports, candidate and unsubscribe links, recordings): a shared computer's browser keeps no copy.
  A handler's own Cache-Control is kept when it already says no-store; anything weaker there (a
  recording's `private`) would let the browser keep personal data on disk, so it is replaced.

Other headers a handler set itself are left as they are.
"""

from __future__ import annotations

import hashlib
import re
from base64 import b64encode
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TEMPLATES = Path(__file__).parent / "templates"
REFERRER_POLICY = "same-origin"
HSTS = "max-age=31536000"
"""One year; no `includeSubDomains`: other hosts of the operator's domain may not serve https."""
PRIVATE = ("/app", "/api", "/reports", "/exports", "/i", "/u")
"""Path prefixes (whole segments) whose responses carry personal data: never stored by a browser."""
PUBLIC = ("/app/static/",)
"""Under a private prefix but the same for everyone (style sheets, scripts): cacheable."""
PDF_POLICY = "frame-ancestors 'none'"
_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.DOTALL | re.IGNORECASE)
_NOT_JS = re.compile(r"""\btype\s*=\s*["']?(?!text/javascript|module)[\w/+.-]+""", re.IGNORECASE)


def inline_script_hashes(folder: Path = TEMPLATES) -> list[str]:
    """The CSP hash source of every inline script of the templates (`<script src=...>` and JSON data
    blocks are not inline scripts). Raises ValueError for one with template markup inside."""
    found: set[str] = set()
    for path in sorted(folder.rglob("*.html")):
        for match in _SCRIPT.finditer(path.read_text(encoding="utf-8")):
            attrs, body = match.group("attrs"), match.group("body")
            if re.search(r"\bsrc\s*=", attrs, re.IGNORECASE) or _NOT_JS.search(attrs) or not body.strip():
                continue
            if "{{" in body or "{%" in body or "{#" in body:
                raise ValueError(
                    f"{path.name}: an inline script with template markup cannot be allowed by "
                    "hash; move it to a static .js file"
                )
            digest = b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
            found.add(f"'sha256-{digest}'")
    return sorted(found)


def policy(script_hashes: list[str]) -> str:
    """The Content-Security-Policy of every page."""
    directives = [
        "default-src 'self'",
        " ".join(["script-src 'self'", *script_hashes]),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "media-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def is_private(path: str) -> bool:
    if path.startswith(PUBLIC):
        return False
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PRIVATE)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool, script_hashes: list[str] | None = None) -> None:
        self.app = app
        self.csp = policy(inline_script_hashes() if script_hashes is None else script_hashes)
        self.fixed = {
            "x-frame-options": "DENY",
            "x-content-type-options": "nosniff",
            "referrer-policy": REFERRER_POLICY,
            **({"strict-transport-security": HSTS} if https else {}),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = is_private(scope["path"])
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                self.add(MutableHeaders(scope=message), private)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's own 500 page is sent from outside every middleware, without these headers:
            # answer here, then re-raise so the error is still logged (nothing else is sent).
            if not started:
                await send_with_headers(
                    {"type": "http.response.start", "status": 500,
                     "headers": [(b"content-type", b"text/plain; charset=utf-8")]}
                )
                await send({"type": "http.response.body", "body": b"Internal Server Error"})
            raise

    def add(self, headers: MutableHeaders, private: bool) -> None:
        kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        headers.setdefault("content-security-policy", PDF_POLICY if kind == "application/pdf" else self.csp)
        for name, value in self.fixed.items():
            headers.setdefault(name, value)
        if private and "no-store" not in headers.get("cache-control", "").lower():
            headers["cache-control"] = "no-store"
