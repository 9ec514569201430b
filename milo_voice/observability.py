"""The process's Prometheus metrics: one registry, the metrics every room reports to, and the text a
scrape of `/metrics` gets (docs/deploy.md lists them and what to alert on).

A leaf: it imports nothing of milo_voice, so any room may count what it does. Labels are small
fixed sets (channel, pool, job kind and status): never a candidate, a link, a number or a name.
The exposition format is written by `prometheus_client`, the maintained client library, not by
hand: it escapes label values, names histogram buckets and counters the way scrapers expect, and
carries the process collector (CPU seconds, resident memory, open files) for free.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

CONTENT_TYPE = CONTENT_TYPE_LATEST
REGISTRY = CollectorRegistry()
"""This process's metrics (not prometheus_client's global registry: nothing else writes here)."""
ProcessCollector(registry=REGISTRY)

CHANNELS = ("web", "phone")
POOLS = ("asr", "tts", "turn")
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds a job waits for a free worker of its pool: near zero on a healthy node."""
REPLY_BUCKETS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0)
"""Seconds around the turn-taking's waits (1.55 s of silence ends a finished answer)."""

LIVE_CALLS = Gauge(
    "milo_live_calls", "Interviews live on this node, by channel", ["channel"], registry=REGISTRY
)
CALLS_REFUSED = Counter(
    "milo_calls_refused_total",
    "New calls refused (node full or draining)",
    ["channel", "reason"],
    registry=REGISTRY,
)
MAX_LIVE_CALLS = Gauge(
    "milo_max_live_calls", "MILO_MAX_LIVE_CALLS: live calls this node takes", registry=REGISTRY
)
DRAINING = Gauge("milo_draining", "1 while the node drains (takes no new calls)", registry=REGISTRY)
POOL_WAIT = Histogram(
    "milo_pool_wait_seconds",
    "Wait of a job for a free worker of a model pool",
    ["pool"],
    buckets=WAIT_BUCKETS,
    registry=REGISTRY,
)
DEAD_AIR = Histogram(
    "milo_dead_air_seconds",
    "Candidate's last speech -> first interviewer audio after their turn ended",
    ["channel"],
    buckets=REPLY_BUCKETS,
    registry=REGISTRY,
)
SYSTEM_LATENCY = Histogram(
    "milo_system_latency_seconds",
    "End-of-turn decision -> first interviewer audio frame out (what the system adds)",
    ["channel"],
    buckets=REPLY_BUCKETS,
    registry=REGISTRY,
)
JOB_FAILURES = Counter(
    "milo_job_failures_total", "Background jobs that failed for good, by kind", ["kind"], registry=REGISTRY
)
MESSAGES_SENT = Counter(
    "milo_messages_sent_total",
    "Candidate messages handed to a provider, by channel",
    ["channel"],
    registry=REGISTRY,
)
MESSAGES_FAILED = Counter(
    "milo_messages_failed_total",
    "Candidate messages that failed for good, by channel",
    ["channel"],
    registry=REGISTRY,
)

for _channel in CHANNELS:  # every series exists from the start (a rate over a missing series is empty)
    LIVE_CALLS.labels(_channel)
for _pool in POOLS:
    POOL_WAIT.labels(_pool)


def timed_start(pool: str) -> Callable[[], None]:
    """Call when a job is queued; call what it returns when the job starts: its wait is observed."""
    queued = time.monotonic()
    return lambda: POOL_WAIT.labels(pool).observe(time.monotonic() - queued)


JobCounts = Iterable[tuple[str, str, int]]
"""(kind, status, count) rows of the job table, read at scrape time."""


class _Scrape:
    """The registry plus what is read at scrape time (the job table's depth)."""

    def __init__(self, jobs: JobCounts) -> None:
        self.jobs = jobs

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        depth = GaugeMetricFamily(
            "milo_jobs", "Background jobs in the job table, by kind and status", labels=["kind", "status"]
        )
        for kind, status, count in self.jobs:
            depth.add_metric([kind, status], count)
        yield depth


def render(jobs: JobCounts = ()) -> bytes:
    """The text exposition of every metric, with the job table's depth as given."""
    return generate_latest(_Scrape(jobs))  # type: ignore[arg-type]
