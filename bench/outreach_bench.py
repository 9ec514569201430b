"""Outreach benchmark: plan and dispatch the messages due for N candidates (default 10,000) against
the loopback SMTP server (aiosmtpd) and the loopback Twilio REST API, then report the time to
plan, messages per second by channel, the memory used, and whether every message arrived once.

Each run: a fresh, migrated SQLite database in a temporary folder; N candidates bulk-inserted over
four interviews (seeding is timed apart, it is not what is measured), each with an email and a
distinct valid New York mobile-format number (+1 212 2xx xxxx). Half were added 1 h before the
bench's clock (their invitation is due), half 25 h before it (the 24 h not-started reminder is
due); SMS invitations are on, so each candidate has one email and one SMS due. The clock is fixed
(`NOW`: Tuesday 8 December 2026, 12:00 in New York, the company's zone), so quiet hours defer
nothing unless the policy says so; every verdict is counted and reported.

The outreach worker is built as `milo-voice serve` builds it (`compose.worker_from`: the SMTP and
Twilio channels from the settings, the guardrails `Rules` with the company zone America/New_York
and each candidate's contact preferences, the unsubscribe and status-callback links), then:

- plan: one `planner.plan(outbox, config, NOW)`; wall seconds, candidates/s, messages planned/s;
- dispatch: `dispatch.dispatch_due` at `NOW`, `worker.batch` rows a round, until a round finds
  nothing due; messages/s overall and by channel (a channel's sends plus its share, by messages
  handled, of the channel-independent outbox and policy work; `send/s` is the hand-over alone);
- re-plan: `plan` once more (nothing new to schedule): what each worker tick costs at this size;
- memory: the process's peak RSS (`resource.getrusage`) and the peak RSS within plan and within
  dispatch (Linux: VmHWM after resetting it through /proc/self/clear_refs); tracemalloc's peak
  during plan and during dispatch in a separate traced run (`--no-traced-run` skips it), since
  tracing slows Python down and its times would not be the ones reported;
- exactly once: every Message-ID the SMTP server received and every message Twilio took, against
  the outbox rows marked sent (their provider ids); a lost, duplicated or unrecorded message is
  printed loudly and the exit status is 1.

The SMTP and Twilio fakes run in a child process (`--serve-fakes`), so their CPU and memory are
not counted as the dispatcher's, as a real provider's would not be. The Twilio fake's listening
socket is bound so that its connections do without Nagle's algorithm (`without_nagle`): as
tests/fakes binds it, every answer waits ~40 ms for a delayed ACK, a cost of the fake, not of
the SMS channel (`--fake-as-is` measures with it). Logging is not configured, so the worker's
per-message INFO records are dropped cheaply (a server logs them as JSON).

    .venv/bin/python bench/outreach_bench.py                           # 10,000 candidates, one run
    .venv/bin/python bench/outreach_bench.py --candidates 10000 --runs 3
    .venv/bin/python bench/outreach_bench.py --candidates 200 --runs 1 --json /tmp/outreach.json

Writes JSON to bench/out/outreach-<YYYYmmdd-HHMMSS>.json unless --json says where.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlmodel import Session, col, func, select

from milo_voice.dialogue.script import demo_script
from milo_voice.outreach.compose import worker_from
from milo_voice.outreach.dispatch import Dispatched, dispatch_due
from milo_voice.outreach.planner import plan
from milo_voice.outreach.types import Channel, ChannelName, Receipt, Rendered, Verdict
from milo_voice.outreach.worker import COUNTS, OutreachWorker
from milo_voice.settings import Secret, Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.store.tables import Candidate, CandidateStatus, MessageStatus, OutreachMessage
from milo_voice.workspace.candidates import new_token
from milo_voice.workspace.interviews import Interviews

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
NOW = datetime(2026, 12, 8, 17, 0, tzinfo=UTC)
"""Tuesday 8 December 2026, 12:00 in New York (EST, UTC-5): inside every candidate's window."""
ZONE = "America/New_York"
AGES = (timedelta(hours=1), timedelta(hours=25))
"""How long before `NOW` candidates were added, alternately: invitation due / 24 h reminder due."""
INTERVIEWS = 4
ACCOUNT, TOKEN, SENDER = "AC" + "b" * 32, "bench-auth-token", "+15005550006"
CHANNELS = (ChannelName.EMAIL, ChannelName.SMS)
MiB = 1024 * 1024


# -- the fake providers, in a child process ----------------------------------------------------


def without_nagle(twilio: Any) -> None:
    """Bind the Twilio fake's listening socket with `IPPROTO_TCP`, so asyncio turns Nagle off on the
    connections it accepts, as it does for a server uvicorn binds itself (`milo-voice serve`) and as
    Twilio's own servers answer. `tests/fakes/loopback.py` binds it with protocol 0, for which
    asyncio's `_set_nodelay` does nothing: uvicorn writes a response's headers and body in two
    sends, and the body waits for the client's delayed ACK, ~40 ms per request, a cost of the fake
    that would pass for the SMS channel's (`--fake-as-is` keeps it, to see it)."""
    server = twilio.server
    server._sock.close()
    server._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    server._sock.bind(("127.0.0.1", 0))
    server.port = int(server._sock.getsockname()[1])
    server.base_url = f"http://127.0.0.1:{server.port}"


def serve_fakes(as_is: bool) -> int:
    """The child: the SMTP and Twilio fakes on loopback; prints their addresses as one JSON line, then
    answers each "report" line on stdin with what they received; stops at the end of stdin."""
    sys.path.insert(0, str(REPO / "tests"))
    from email.parser import BytesHeaderParser

    from fakes.smtp_server import FakeSmtpServer
    from fakes.twilio_rest import FakeTwilioRest

    twilio_fake = FakeTwilioRest(ACCOUNT, TOKEN)
    if not as_is:
        without_nagle(twilio_fake)
    with FakeSmtpServer() as smtp, twilio_fake as twilio:
        print(json.dumps({"smtp_port": smtp.port, "twilio_url": twilio.base_url}), flush=True)
        for line in sys.stdin:
            if line.strip() != "report":
                continue
            parser = BytesHeaderParser()
            emails = [[str(parser.parsebytes(r.data)["Message-ID"] or ""), ",".join(r.rcpt_tos)]
                      for r in list(smtp.received)]
            texts = [[m["sid"], m["to"], m["body"]] for m in list(twilio.messages)]
            print(json.dumps({"emails": emails, "texts": texts}), flush=True)
    return 0


class Fakes:
    """The child process serving the fakes, seen from the bench."""

    def __init__(self, *, as_is: bool = False) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve-fakes",
             *(["--fake-as-is"] if as_is else [])], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        started = self._line()
        self.smtp_port: int = started["smtp_port"]
        self.twilio_url: str = started["twilio_url"]

    def _line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fake providers' process ended (exit status {self.process.poll()})")
        return dict(json.loads(line))

    def received(self) -> dict[str, Any]:
        """{"emails": [[Message-ID, recipient]...], "texts": [[sid, to, body]...]}"""
        assert self.process.stdin is not None
        self.process.stdin.write("report\n")
        self.process.stdin.flush()
        return self._line()

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()

    def __enter__(self) -> Fakes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- measuring -----------------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Stopwatch:
    """Seconds and calls by step, from wrappers put around the parts the worker calls."""

    seconds: dict[str, float] = field(default_factory=lambda: collections.defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: collections.defaultdict(int))

    def wrap(self, name: str, fn: F) -> F:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
                self.calls[name] += 1

        return timed  # type: ignore[return-value]

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


class TimedChannel:
    """A channel whose hand-overs are timed (the worker still holds, and closes, the real one)."""

    def __init__(self, channel: Channel, watch: Stopwatch) -> None:
        self.inner, self.name = channel, channel.name
        self.send: Callable[[Rendered], Receipt] = watch.wrap(f"send:{channel.name}", channel.send)


def rss_mib() -> float:
    """The process's peak RSS so far (getrusage: KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float | None:
    """The process's RSS now (Linux: VmRSS); None elsewhere."""
    with suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


@contextmanager
def phase_peak_rss() -> Iterator[dict[str, float | None]]:
    """The peak RSS within the block (VmHWM reset at its start; None where /proc cannot do that)."""
    out: dict[str, float | None] = {"peak_rss_mib": None}
    try:
        Path("/proc/self/clear_refs").write_text("5")
        resettable = True
    except OSError:
        resettable = False
    yield out
    if resettable:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                out["peak_rss_mib"] = int(line.split()[1]) / 1024


@contextmanager
def traced(on: bool) -> Iterator[dict[str, float | None]]:
    """tracemalloc's peak within the block (MiB above what was allocated at its start), when `on`."""
    out: dict[str, float | None] = {"tracemalloc_peak_mib": None}
    if not on:
        yield out
        return
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    try:
        yield out
    finally:
        out["tracemalloc_peak_mib"] = (tracemalloc.get_traced_memory()[1] - base) / MiB
        tracemalloc.stop()


# -- one run -------------------------------------------------------------------------------------


def phone(i: int) -> str:
    """A distinct valid US number for candidate i: +1 212 2xx xxxx (New York; up to 800,000)."""
    return f"+1212{200 + i // 10_000:03d}{i % 10_000:04d}"


def seed(url: str, n: int) -> float:
    """N candidates over `INTERVIEWS` interviews in one bulk insert; returns the seconds it took."""
    start = time.perf_counter()
    engine = create_engine(url)
    try:
        interviews = Interviews(engine, now=lambda: NOW - timedelta(days=2))
        ids = [interviews.add_script(demo_script(), slug=f"bench-{k + 1}") for k in range(INTERVIEWS)]
        rows = [{
            "interview_id": ids[i % len(ids)], "name": f"Candidate {i}", "email": f"candidate{i}@example.com",
            "phone": phone(i), "token": new_token(), "status": CandidateStatus.NEW.value,
            "created_at": NOW - AGES[i % len(AGES)], "source": "bulk", "retakes_granted": 0,
        } for i in range(n)]
        with engine.begin() as connection:
            connection.execute(insert(Candidate), rows)
    finally:
        engine.dispose()
    return time.perf_counter() - start


def build_worker(url: str, fakes: Fakes) -> OutreachWorker:
    settings = Settings(
        database_url=url, public_url="http://jobs.bench.test",
        smtp_host="127.0.0.1", smtp_port=fakes.smtp_port, smtp_security="none",
        smtp_from="jobs@bench.test", smtp_from_name="Bench Hiring",
        twilio_account_sid=ACCOUNT, twilio_auth_token=Secret(TOKEN), twilio_api_url=fakes.twilio_url,
        sms_from=SENDER, sms_invitations=True, company_name="Bench Co", company_time_zone=ZONE)
    worker = worker_from(settings, create_engine(url))
    if worker is None or set(worker.channels) != set(CHANNELS):
        raise RuntimeError("the worker was not built with both channels")
    worker.outbox.now = lambda: NOW
    return worker


def outbox_counts(worker: OutreachWorker) -> dict[str, dict[str, int]]:
    """Rows by channel and status, straight from the table."""
    out: dict[str, dict[str, int]] = {c.value: {} for c in CHANNELS}
    with Session(worker.outbox.engine) as session:
        query = (select(OutreachMessage.channel, OutreachMessage.status, func.count())
                 .group_by(col(OutreachMessage.channel), col(OutreachMessage.status)))
        for channel, status, count in session.exec(query):
            out.setdefault(channel, {})[status] = count
    return out


def sent_ids(worker: OutreachWorker) -> dict[str, list[str]]:
    """The provider ids of the rows marked sent (or delivered), by channel."""
    out: dict[str, list[str]] = {c.value: [] for c in CHANNELS}
    with Session(worker.outbox.engine) as session:
        query = select(OutreachMessage.channel, OutreachMessage.provider_id).where(
            col(OutreachMessage.status).in_((MessageStatus.SENT.value, MessageStatus.DELIVERED.value)))
        for channel, provider_id in session.exec(query):
            out.setdefault(channel, []).append(provider_id)
    return out


def exactly_once(recorded: Mapping[str, Sequence[str]], received: Mapping[str, Any]) -> dict[str, Any]:
    """Each channel's received messages against the rows marked sent: lost (recorded, never arrived),
    duplicated (arrived more than once), unrecorded (arrived, no row says it was sent)."""
    arrived = {
        ChannelName.EMAIL.value: collections.Counter(m for m, _ in received["emails"]),
        ChannelName.SMS.value: collections.Counter(sid for sid, _, _ in received["texts"]),
    }
    same_text = collections.Counter((to, body) for _, to, body in received["texts"])
    out: dict[str, Any] = {}
    for channel, counter in arrived.items():
        rows = collections.Counter(recorded.get(channel, []))
        lost, unrecorded = sorted(set(rows) - set(counter)), sorted(set(counter) - set(rows))
        duplicated = sorted(k for k, n in (counter + rows).items() if counter[k] > 1 or rows[k] > 1)
        if channel == ChannelName.SMS.value:  # the same text to the same number twice: two sids
            duplicated += [f"{to}: {body[:40]}" for (to, body), n in same_text.items() if n > 1]
        out[channel] = {
            "recorded_sent": sum(rows.values()), "received": sum(counter.values()),
            "lost_count": len(lost), "duplicated_count": len(duplicated), "unrecorded_count": len(unrecorded),
            "examples": {"lost": lost[:5], "duplicated": duplicated[:5], "unrecorded": unrecorded[:5]},
        }
    out["ok"] = all(out[c]["lost_count"] == out[c]["duplicated_count"] == out[c]["unrecorded_count"] == 0
                    and out[c]["recorded_sent"] == out[c]["received"] for c in arrived)
    return out


def per_decile_rate(rounds: Sequence[tuple[int, float]]) -> tuple[float | None, float | None]:
    """Messages/s over the first and the last tenth of the dispatch rounds (a slowdown as the
    outbox fills up or drains shows here)."""
    if not rounds:
        return None, None
    k = max(1, len(rounds) // 10)
    first, last = rounds[:k], rounds[-k:]
    return (sum(n for n, _ in first) / sum(t for _, t in first),
            sum(n for n, _ in last) / sum(t for _, t in last))


def run_once(n: int, *, trace: bool, fake_as_is: bool = False) -> dict[str, Any]:
    """One fresh database, N candidates, plan + dispatch + re-plan; every figure measured here."""
    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as folder, Fakes(as_is=fake_as_is) as fakes:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate(url)
        seed_s = seed(url, n)
        worker = build_worker(url, fakes)
        try:
            return measure(worker, fakes, n, seed_s, trace=trace)
        finally:
            worker.stop()
            worker.outbox.engine.dispose()


def measure(worker: OutreachWorker, fakes: Fakes, n: int, seed_s: float, *, trace: bool) -> dict[str, Any]:
    watch = Stopwatch()
    outbox = worker.outbox
    for name in ("schedule", "keys", "due", "history", "begin_handover", "get", "mark_sent", "defer",
                 "suppress", "mark_retry", "mark_failed"):
        if callable(getattr(outbox, name, None)):  # timed where it exists
            setattr(outbox, name, watch.wrap(f"outbox.{name}", getattr(outbox, name)))
    rss_before = current_rss_mib()

    with phase_peak_rss() as plan_rss, traced(trace) as plan_mem:
        start = time.perf_counter()
        planned = plan(outbox, worker.config, NOW)
        plan_s = time.perf_counter() - start
    plan_steps = dict(watch.seconds)
    watch.reset()

    by_channel: dict[str, int] = collections.Counter()

    def decide(message: OutreachMessage, history: list[OutreachMessage], now: datetime) -> Verdict:
        by_channel[message.channel] += 1
        return worker.decide(message, history, now)

    timed_decide = watch.wrap("policy", decide)
    timed_links = watch.wrap("links", worker.links)
    channels: dict[ChannelName, Channel] = {
        name: TimedChannel(channel, watch) for name, channel in worker.channels.items()}
    total, rounds = Dispatched(), []
    with phase_peak_rss() as send_rss, traced(trace) as send_mem:
        start = time.perf_counter()
        while True:
            t0 = time.perf_counter()
            done = dispatch_due(outbox, timed_decide, channels, now=NOW, limit=worker.batch,
                                links=timed_links)
            handled = sum(getattr(done, name) for name in COUNTS)
            if handled == 0:
                break
            rounds.append((handled, time.perf_counter() - t0))
            for name in COUNTS:
                setattr(total, name, getattr(total, name) + getattr(done, name))
        dispatch_s = time.perf_counter() - start
    send_steps = dict(watch.seconds)
    watch.reset()

    start = time.perf_counter()
    replanned = plan(outbox, worker.config, NOW)
    replan_s = time.perf_counter() - start

    counts = outbox_counts(worker)
    check = exactly_once(sent_ids(worker), fakes.received())
    rows = sum(n for by_status in counts.values() for n in by_status.values())
    check["planned"], check["rows"] = planned, rows
    if replanned or rows != planned:  # planning twice schedules nothing; each planned message is a row
        check["ok"] = False
        check["planning"] = f"planned {planned}, {rows} rows in the outbox, {replanned} more on re-planning"
    sent = {c.value: counts[c.value].get(MessageStatus.SENT.value, 0) for c in CHANNELS}
    send_s = {c.value: send_steps.get(f"send:{c.value}", 0.0) for c in CHANNELS}
    shared = dispatch_s - sum(send_s.values())
    handled_all = sum(by_channel.values()) or 1
    first, last = per_decile_rate(rounds)
    figures: dict[str, float | int | None] = {
        "candidates": n, "seed_s": seed_s,
        "plan_s": plan_s, "planned": planned, "plan_candidates_per_s": n / plan_s,
        "plan_messages_per_s": planned / plan_s,
        "plan_schedule_s": plan_steps.get("outbox.schedule", 0.0),
        "dispatch_s": dispatch_s, "dispatch_rounds": len(rounds),
        "sent": sum(sent.values()), "msgs_per_s": sum(sent.values()) / dispatch_s,
        "msgs_per_s_first_tenth": first, "msgs_per_s_last_tenth": last,
        "replan_s": replan_s, "replanned": replanned,
        "rss_before_mib": rss_before, "rss_peak_mib": rss_mib(),
        "plan_peak_rss_mib": plan_rss["peak_rss_mib"], "dispatch_peak_rss_mib": send_rss["peak_rss_mib"],
        "plan_tracemalloc_peak_mib": plan_mem["tracemalloc_peak_mib"],
        "dispatch_tracemalloc_peak_mib": send_mem["tracemalloc_peak_mib"],
    }
    for c in CHANNELS:
        share = send_s[c.value] + shared * by_channel[c.value] / handled_all
        figures[f"{c.value}_sent"] = sent[c.value]
        figures[f"{c.value}_msgs_per_s"] = sent[c.value] / share if share else None
        figures[f"{c.value}_send_per_s"] = sent[c.value] / send_s[c.value] if send_s[c.value] else None
        figures[f"{c.value}_send_ms"] = 1000 * send_s[c.value] / sent[c.value] if sent[c.value] else None
    return {
        "figures": figures, "verdicts": {name: getattr(total, name) for name in COUNTS},
        "outbox": counts, "exactly_once": check, "traced": trace,
        "plan_steps_s": plan_steps, "dispatch_steps_s": send_steps,
    }


# -- reporting -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    with suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    memory = None
    with suppress(AttributeError, ValueError, OSError):
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu_count": os.cpu_count(), "cpu": cpu or platform.processor(), "machine": platform.machine(),
            "platform": platform.platform(), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "memory_gib": round(memory, 1) if memory else None}


def medians(runs: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key in runs[0]["figures"]:
        values = [r["figures"][key] for r in runs if r["figures"][key] is not None]
        out[key] = statistics.median(values) if values else None
    return out


ROWS = [
    ("candidates", "candidates", "{:.0f}"), ("seed_s", "seeding (s, not measured)", "{:.2f}"),
    ("planned", "messages planned", "{:.0f}"), ("plan_s", "plan (s)", "{:.2f}"),
    ("plan_candidates_per_s", "plan: candidates/s", "{:.0f}"),
    ("plan_messages_per_s", "plan: messages scheduled/s", "{:.0f}"),
    ("plan_schedule_s", "plan: in outbox.schedule (s)", "{:.2f}"),
    ("dispatch_s", "dispatch (s)", "{:.2f}"), ("dispatch_rounds", "dispatch rounds", "{:.0f}"),
    ("sent", "messages sent", "{:.0f}"), ("msgs_per_s", "msgs/s, all", "{:.1f}"),
    ("email_msgs_per_s", "msgs/s, email", "{:.1f}"), ("sms_msgs_per_s", "msgs/s, SMS", "{:.1f}"),
    ("email_send_ms", "email hand-over (ms each)", "{:.2f}"),
    ("sms_send_ms", "SMS hand-over (ms each)", "{:.2f}"),
    ("msgs_per_s_first_tenth", "msgs/s, first tenth of rounds", "{:.1f}"),
    ("msgs_per_s_last_tenth", "msgs/s, last tenth of rounds", "{:.1f}"),
    ("replan_s", "re-plan, nothing new (s)", "{:.2f}"),
    ("rss_before_mib", "RSS before plan (MiB)", "{:.0f}"),
    ("rss_peak_mib", "peak RSS, process (MiB)", "{:.0f}"),
    ("plan_peak_rss_mib", "peak RSS in plan (MiB)", "{:.0f}"),
    ("dispatch_peak_rss_mib", "peak RSS in dispatch (MiB)", "{:.0f}"),
    ("plan_tracemalloc_peak_mib", "tracemalloc peak, plan (MiB)", "{:.1f}"),
    ("dispatch_tracemalloc_peak_mib", "tracemalloc peak, dispatch (MiB)", "{:.1f}"),
]


def table(runs: Sequence[dict[str, Any]], median: Mapping[str, float | None],
          traced_run: dict[str, Any] | None) -> str:
    def cell(value: float | int | None, form: str) -> str:
        return "-" if value is None else form.format(value)

    head = ["figure".ljust(34), *(f"run {i + 1}".rjust(10) for i in range(len(runs))), "median".rjust(10)]
    if traced_run is not None:
        head.append("traced".rjust(10))
    lines = ["  ".join(head)]
    for key, label, form in ROWS:
        cells = [label.ljust(34), *(cell(r["figures"][key], form).rjust(10) for r in runs),
                 cell(median[key], form).rjust(10)]
        if traced_run is not None:
            cells.append(cell(traced_run["figures"][key], form).rjust(10))
        lines.append("  ".join(cells))
    return "\n".join(lines)


def report_mismatch(label: str, run: dict[str, Any]) -> bool:
    check = run["exactly_once"]
    if check["ok"]:
        return False
    print(f"\n!!! EXACTLY-ONCE MISMATCH in {label} !!!", file=sys.stderr)
    if "planning" in check:
        print(f"!!! {check['planning']}", file=sys.stderr)
    for channel in CHANNELS:
        c = check[channel.value]
        print(f"!!! {channel.value}: {c['recorded_sent']} rows marked sent, {c['received']} received; "
              f"lost {c['lost_count']}, duplicated {c['duplicated_count']}, "
              f"unrecorded {c['unrecorded_count']}; e.g. {c['examples']}", file=sys.stderr)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=10_000, help="candidates (default 10,000)")
    parser.add_argument("--runs", type=int, default=1,
                        help="timed runs; each figure's median is reported (default 1)")
    parser.add_argument("--json", type=Path,
                        help="where to write the JSON (default bench/out/outreach-<time>.json)")
    parser.add_argument("--no-traced-run", action="store_true",
                        help="skip the extra run under tracemalloc (no tracemalloc peaks)")
    parser.add_argument("--fake-as-is", action="store_true",
                        help="serve the Twilio fake as tests/fakes binds it (Nagle on: ~40 ms a request)")
    parser.add_argument("--serve-fakes", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_fakes:
        return serve_fakes(args.fake_as_is)
    if args.candidates < 1 or args.runs < 1:
        parser.error("--candidates and --runs must be at least 1")
    facts = machine()
    print(f"outreach bench: {args.candidates} candidates, {args.runs} run(s); {facts['cpu_count']} CPUs "
          f"({facts['cpu']}), {facts['platform']}, Python {facts['python']}, SQLite {facts['sqlite']}",
          flush=True)
    runs = []
    for i in range(args.runs):
        runs.append(run_once(args.candidates, trace=False, fake_as_is=args.fake_as_is))
        f = runs[-1]["figures"]
        print(f"run {i + 1}: planned {f['planned']} in {f['plan_s']:.2f} s, sent {f['sent']} in "
              f"{f['dispatch_s']:.2f} s ({f['msgs_per_s']:.0f}/s)", flush=True)
    traced_run = None
    if not args.no_traced_run:
        traced_run = run_once(args.candidates, trace=True, fake_as_is=args.fake_as_is)
        print("traced run (tracemalloc on; its times are not the reported ones): done", flush=True)
    median = medians(runs)
    if traced_run is not None:
        for key in ("plan_tracemalloc_peak_mib", "dispatch_tracemalloc_peak_mib"):
            median[key] = traced_run["figures"][key]
    print()
    print(table(runs, median, traced_run))
    verdicts = {name: sum(r["verdicts"][name] for r in runs) for name in COUNTS}
    print(f"\nverdicts over {len(runs)} run(s): " + ", ".join(f"{k} {v}" for k, v in verdicts.items()))
    print("outbox by channel and status (last run): " + json.dumps(runs[-1]["outbox"]))
    steps = runs[-1]["dispatch_steps_s"]
    print("dispatch time by step (last run, s): "
          + ", ".join(f"{k} {v:.2f}" for k, v in sorted(steps.items(), key=lambda kv: -kv[1])))
    failed = [report_mismatch(f"run {i + 1}", r) for i, r in enumerate(runs)]
    if traced_run is not None:
        failed.append(report_mismatch("the traced run", traced_run))
    if not any(failed):
        total = sum(r["exactly_once"][c.value]["received"] for r in runs for c in CHANNELS)
        print(f"exactly once: every one of {total} messages received once, matching the rows marked sent")
    result = {
        "bench": "outreach", "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": facts,
        "config": {"candidates": args.candidates, "runs": args.runs, "now": NOW.isoformat(), "zone": ZONE,
                   "ages_h": [a.total_seconds() / 3600 for a in AGES], "interviews": INTERVIEWS,
                   "batch": OutreachWorker.batch, "database": "sqlite (file, WAL)",
                   "providers": "aiosmtpd + loopback Twilio REST, in a child process",
                   "twilio_fake_nagle": "on, as tests/fakes binds it" if args.fake_as_is
                   else "off (bound with IPPROTO_TCP)"},
        "median": median, "runs": runs, "traced_run": traced_run,
        "exactly_once": not any(failed),
    }
    out = args.json or OUT / f"outreach-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str))
    print(f"JSON: {out}")
    return 1 if any(failed) else 0


if __name__ == "__main__":
    sys.exit(main())
