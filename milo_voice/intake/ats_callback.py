"""Results back to an ATS: one HTTP request to the order's callback URL, with the vendor's method
and auth. No retries here: a non-2xx answer or a network failure raises `CallbackFailed`, and the
durable job that called us retries (`retryable` says whether that can help).

- Greenhouse: `PATCH <url>`, `Authorization: Basic base64(<organisation's API key>:)`, no body
  (the documented PATCH takes no parameters; Greenhouse then calls our test_status).
- Workable: `PUT <callback_url>`, `Authorization: Bearer <token Workable issued>`, a JSON body
  (ats_workable.callback_body).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from milo_voice.errors import MiloError
from milo_voice.intake.ats_greenhouse import basic_auth_header
from milo_voice.intake.ats_types import GREENHOUSE, PROVIDERS
from milo_voice.intake.ats_workable import bearer_header

log = logging.getLogger(__name__)

CALLBACK_TIMEOUT = 15.0
"""Seconds for the whole request (connect, send, answer). The ATS only records a status."""
EXCERPT = 200
"""Characters of the ATS's answer kept in the error."""
USER_AGENT = "milo-voice ATS connector"


class CallbackFailed(MiloError):
    """The ATS did not take a result: `status` is its HTTP status (None when no answer came),
    `excerpt` the start of its answer or the network error."""

    def __init__(self, provider: str, status: int | None, excerpt: str) -> None:
        self.provider, self.status, self.excerpt = provider, status, excerpt
        said = f"answered {status}" if status is not None else "did not answer"
        super().__init__(f"{provider} callback {said}: {excerpt}")

    @property
    def retryable(self) -> bool:
        """True for no answer, 408, 429 and 5xx; a 4xx means the request itself must change."""
        return self.status is None or self.status >= 500 or self.status in (408, 429)


def _request(provider: str, body: dict[str, Any], auth: str) -> tuple[str, dict[str, str], bytes | None]:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if provider == GREENHOUSE:
        headers["Authorization"] = basic_auth_header(auth)
        if body:
            raise ValueError("the Greenhouse PATCH takes no parameters; expected an empty body")
        return "PATCH", headers, None
    headers["Authorization"] = bearer_header(auth)
    headers["Content-Type"] = "application/json"
    return "PUT", headers, json.dumps(body, separators=(",", ":")).encode("utf-8")


async def post_result(client: httpx.AsyncClient, provider: str, url: str, body: dict[str, Any], auth: str,
                      *, seconds: float = CALLBACK_TIMEOUT) -> None:
    """Send one result to `url` (the order's callback URL). `auth` is the organisation's
    Greenhouse API key, or the bearer token Workable issued for the integration. Returns on 2xx;
    raises CallbackFailed otherwise (network errors and running past `seconds` included)."""
    if provider not in PROVIDERS:
        raise ValueError(f"ATS provider {provider!r}; expected one of {', '.join(PROVIDERS)}")
    if not auth:
        raise ValueError(f"{provider} callback needs its credential; got an empty one")
    method, headers, content = _request(provider, body, auth)
    host = urlsplit(url).hostname or "?"
    started = time.monotonic()
    try:
        async with asyncio.timeout(seconds):
            response = await client.request(method, url, headers=headers, content=content, timeout=seconds)
    except (TimeoutError, httpx.HTTPError) as exc:
        log.warning("ats.callback.unreachable", extra={"provider": provider, "host": host,
                                                       "error": type(exc).__name__})
        raise CallbackFailed(provider, None, f"{type(exc).__name__}: {exc}"[:EXCERPT]) from exc
    elapsed = round(time.monotonic() - started, 3)
    if not response.is_success:
        log.warning("ats.callback.refused", extra={"provider": provider, "host": host,
                                                   "status": response.status_code, "elapsed_s": elapsed})
        raise CallbackFailed(provider, response.status_code, response.text[:EXCERPT].strip())
    log.info("ats.callback.sent", extra={"provider": provider, "host": host, "method": method,
                                         "status": response.status_code, "elapsed_s": elapsed})

