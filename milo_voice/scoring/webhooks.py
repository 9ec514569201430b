"""Signed webhooks: `interview.started`, `interview.completed`, `report.available`.

Each delivery POSTs one JSON body with these headers:

- `X-Milo-Event`: the event name; `X-Milo-Delivery`: the delivery id (stable across retries),
- `X-Milo-Timestamp`: Unix seconds when this attempt was signed,
- `X-Milo-Signature`: `sha256=` + hex HMAC-SHA256, keyed with the endpoint's secret, over
  `"<timestamp>." + body`. The timestamp is inside the MAC so a captured request cannot be replayed
  later with a fresh timestamp; receivers should refuse timestamps older than a few minutes.

Deliveries run as durable jobs (`jobs.py`): a non-2xx answer or a network error is retried with
exponential backoff, and every attempt is written to the delivery log. The endpoint's host is
resolved again before each attempt (`webhook_targets.py`): a URL that now reaches a loopback, private,
link-local or reserved address is not sent to; that delivery fails at once, with the reason, and
is not retried (DNS that does not answer is retried like a receiver that is down).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn

import httpx

from milo_voice.scoring.jobs import JobQueue
from milo_voice.scoring.store import ScoringStore
from milo_voice.scoring.webhook_targets import check_target, pinned
from milo_voice.store.tables import Job

log = logging.getLogger(__name__)

EVENTS = ("interview.started", "interview.completed", "report.available", "candidate.erased")
JOB_KIND = "webhook"
SIGNATURE_HEADER = "X-Milo-Signature"
TIMESTAMP_HEADER = "X-Milo-Timestamp"
EVENT_HEADER = "X-Milo-Event"
DELIVERY_HEADER = "X-Milo-Delivery"
DEFAULT_TOLERANCE = 300.0
"""Seconds a receiver should accept between the timestamp header and its own clock."""


class DeliveryFailed(Exception):
    """The receiver did not take the delivery (network error or non-2xx answer); retry later."""


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    *,
    signature: str,
    timestamp: str,
    tolerance: float = DEFAULT_TOLERANCE,
    now: Callable[[], float] = time.time,
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs(now() - stamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), signature)


def publish(store: ScoringStore, jobs: JobQueue, event: str, data: dict[str, Any]) -> list[int]:
    """Log one delivery per subscribed endpoint and queue it; returns the delivery ids."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}; expected one of {EVENTS}")
    body = json.dumps(
        {"event": event, "created_at": datetime.now(UTC).isoformat(), "data": data},
        sort_keys=True,
        separators=(",", ":"),
    )
    ids = []
    for endpoint in store.endpoints_for(event):
        if endpoint.id is None:
            continue
        delivery_id = store.add_delivery(endpoint.id, event, body)
        jobs.enqueue(JOB_KIND, {"delivery_id": delivery_id})
        ids.append(delivery_id)
    log.info("webhook.published", extra={"event": event, "deliveries": len(ids)})
    return ids


async def deliver(
    store: ScoringStore,
    job: Job,
    *,
    final: bool,
    request_timeout: float,
    allow_private: bool = False,
    now: Callable[[], float] = time.time,
) -> None:
    """One attempt at the delivery named by `job`; raises `DeliveryFailed` if it did not get through.
    A target refused by `check_target` fails the delivery for good (no retry); `allow_private` is
    `MILO_WEBHOOK_ALLOW_PRIVATE_TARGETS`."""
    delivery_id = int(job.payload["delivery_id"])
    delivery = store.delivery(delivery_id)
    if delivery is None:
        return  # its endpoint was deleted (cascade): nothing left to send
    endpoint = store.endpoint(delivery.endpoint_id)
    if endpoint is None or not endpoint.active:
        store.record_attempt(delivery_id, status="failed", response_status=None, error="endpoint inactive")
        return
    target = await asyncio.to_thread(check_target, endpoint.url, allow_private=allow_private)
    if target.refused:
        store.record_attempt(delivery_id, status="failed", response_status=None,
                             error=f"refused: {target.refused}"[:500])
        log.warning("webhook.target_refused",
                    extra={"delivery_id": delivery_id, "endpoint_id": endpoint.id, "reason": target.refused})
        return
    if target.unresolved:
        _retry_later(store, delivery_id, final, target.unresolved)
    body = delivery.body.encode()
    stamp = int(now())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "milo-voice-webhooks",
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery_id),
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign(endpoint.secret, stamp, body),
    }
    status: int | None = None
    try:
        async with httpx.AsyncClient(timeout=request_timeout, follow_redirects=False) as client:
            request = pinned(endpoint.url, target.address)
            response = await client.post(request.url, content=body, headers=headers | request.headers,
                                         extensions=request.extensions)
        status = response.status_code
        error = None if 200 <= status < 300 else f"HTTP {status}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    if error is None:
        store.record_attempt(delivery_id, status="delivered", response_status=status, error=None)
        log.info("webhook.delivered", extra={"delivery_id": delivery_id, "status": status})
        return
    _retry_later(store, delivery_id, final, error, status)


def _retry_later(
    store: ScoringStore, delivery_id: int, final: bool, error: str, status: int | None = None
) -> NoReturn:
    """Log a failed attempt and raise `DeliveryFailed`, so the job is retried (unless it was the last)."""
    store.record_attempt(
        delivery_id, status="failed" if final else "pending", response_status=status, error=error
    )
    log.info("webhook.attempt_failed", extra={"delivery_id": delivery_id, "final": final, "status": status})
    raise DeliveryFailed(error)
