"""Webhook endpoints as admins manage them, and the delivery log they read.

The scoring area owns sending (`scoring/webhooks.py`: signing, retries, the `webhook_delivery`
rows); this repository adds what a settings page needs: every endpoint with its delivery counts,
enable / disable, delete, and a page of one endpoint's log with the time of the next retry (read
from the delivery's queued job). The webhook tables have one writer, `ScoringStore`: the changes
made here are checked here and written there. A URL whose host is (or resolves to) a non-public
address is refused when saved (`check_reachable`), and again before each delivery.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlmodel import col, func, select

from milo_voice.scoring.store import ScoringStore
from milo_voice.scoring.webhook_targets import check_target
from milo_voice.scoring.webhooks import EVENTS, JOB_KIND, new_secret
from milo_voice.store.repo import Invalid, NotFound, Repo
from milo_voice.store.tables import Job, JobStatus, WebhookDelivery, WebhookEndpoint

MAX_URL = 2000
PAGE_SIZE = 50


def check_url(raw: str) -> str:
    """An absolute http(s) URL with a host; anything else (`javascript:`, `file:`, relative) is refused."""
    url = raw.strip()
    if not url:
        raise Invalid("Enter the URL that should receive the events.")
    if len(url) > MAX_URL:
        raise Invalid(f"The URL is longer than {MAX_URL} characters.")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise Invalid("The URL must not contain spaces or control characters.")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise Invalid("The URL must start with http:// or https:// (other schemes are refused).")
    if not parts.hostname:
        raise Invalid("The URL has no host name.")
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise Invalid("The URL's port is not a number.") from None
    return url


def check_reachable(url: str, *, allow_private: bool) -> None:
    """`Invalid` when the URL's host is (or resolves to) a loopback, private, link-local or other
    non-public address, or does not resolve; unless `allow_private`."""
    target = check_target(url, allow_private=allow_private)
    if target.refused:
        raise Invalid(f"This URL is refused: {target.refused}.")
    if target.unresolved:
        raise Invalid(f"This URL cannot be used: {target.unresolved}. Check the host name.")


def check_events(chosen: Iterable[str]) -> list[str]:
    """The chosen events, in `EVENTS` order; at least one, each a known one."""
    wanted = set(chosen)
    unknown = wanted - set(EVENTS)
    if unknown:
        raise Invalid(
            f"Unknown event(s): {', '.join(sorted(unknown))}; expected some of {', '.join(EVENTS)}."
        )
    if not wanted:
        raise Invalid("Choose at least one event.")
    return [e for e in EVENTS if e in wanted]


@dataclass(frozen=True, slots=True)
class EndpointSummary:
    endpoint: WebhookEndpoint
    delivered: int
    failed: int
    pending: int
    last_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    delivery: WebhookDelivery
    next_retry: datetime | None
    """When the queued job will try again (pending deliveries only)."""


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    rows: list[DeliveryRow]
    total: int
    page: int
    pages: int


class WebhookAdmin(Repo):
    def endpoints(self) -> list[EndpointSummary]:
        """Every endpoint, newest first, with how its deliveries went."""
        with self.unit() as session:
            endpoints = list(session.exec(select(WebhookEndpoint).order_by(col(WebhookEndpoint.id).desc())))
            counts = session.exec(
                select(
                    WebhookDelivery.endpoint_id,
                    WebhookDelivery.status,
                    func.count(col(WebhookDelivery.id)),
                    func.max(col(WebhookDelivery.created_at)),
                ).group_by(col(WebhookDelivery.endpoint_id), col(WebhookDelivery.status))
            ).all()
        by_endpoint: dict[int, dict[str, int]] = {}
        last: dict[int, datetime] = {}
        for endpoint_id, status, count, newest in counts:
            by_endpoint.setdefault(endpoint_id, {})[status] = int(count)
            if newest is not None and (endpoint_id not in last or newest > last[endpoint_id]):
                last[endpoint_id] = newest
        out = []
        for e in endpoints:
            n = by_endpoint.get(e.id or 0, {})
            out.append(
                EndpointSummary(
                    e, n.get("delivered", 0), n.get("failed", 0), n.get("pending", 0), last.get(e.id or 0)
                )
            )
        return out

    def get(self, endpoint_id: int) -> WebhookEndpoint:
        with self.unit() as session:
            row = session.get(WebhookEndpoint, endpoint_id)
        if row is None:
            raise NotFound(f"webhook endpoint {endpoint_id} does not exist")
        return row

    def create(
        self, url: str, events: Iterable[str], *, allow_private: bool = False
    ) -> tuple[WebhookEndpoint, str]:
        """A new active endpoint with a server-made secret; returns it and the secret (shown once).
        Blocking: resolves the URL's host (`check_target`; `allow_private` is the operator's setting)."""
        secret = new_secret()
        checked_url, checked_events = check_url(url), check_events(events)
        check_reachable(checked_url, allow_private=allow_private)
        return self._scoring().add_endpoint(checked_url, secret, checked_events), secret

    def set_active(self, endpoint_id: int, active: bool) -> None:
        self._scoring().set_endpoint_active(endpoint_id, active)

    def delete(self, endpoint_id: int) -> None:
        """The endpoint and its log; queued retries find no delivery and stop (`webhooks.deliver`)."""
        self._scoring().delete_endpoint(endpoint_id)

    def _scoring(self) -> ScoringStore:
        return ScoringStore(self.engine, now=self.now)

    def deliveries(self, endpoint_id: int, *, page: int = 1, size: int = PAGE_SIZE) -> DeliveryPage:
        """One page of the endpoint's log, newest first, each pending one with its next retry."""
        with self.unit() as session:
            where = WebhookDelivery.endpoint_id == endpoint_id
            total = int(session.exec(select(func.count(col(WebhookDelivery.id))).where(where)).one())
            pages = max((total + size - 1) // size, 1)
            page = min(max(page, 1), pages)
            rows = list(
                session.exec(
                    select(WebhookDelivery)
                    .where(where)
                    .order_by(col(WebhookDelivery.id).desc())
                    .offset((page - 1) * size)
                    .limit(size)
                )
            )
            waiting = [r.id for r in rows if r.status == "pending"]
            retries: dict[int, datetime] = {}
            if waiting:
                jobs = session.exec(
                    select(Job).where(Job.kind == JOB_KIND, Job.status == JobStatus.QUEUED.value)
                )
                for job in jobs:
                    delivery_id = job.payload.get("delivery_id")
                    if isinstance(delivery_id, int) and delivery_id in waiting:
                        retries[delivery_id] = job.run_after
        return DeliveryPage([DeliveryRow(r, retries.get(r.id or 0)) for r in rows], total, page, pages)
