"""Capacity benchmark: N concurrent phone interviews over the Twilio Media Streams websocket.

Starts `milo-voice`'s app in a subprocess (real models, SQLite, loopback uvicorn), then for
N = 1, 2, 3, ... runs N fake-Twilio calls at once (real speech from ../shared/data/speech, mu-law
in real time, marks echoed, `clear` honoured), each a two-question interview. Per N it reports:
whether every call completed; outbound audio gaps the callers heard (playout that fell behind real
time; silences the server made on purpose, where it sent `clear` because the caller made a sound, are
counted apart as hushes); inbound lag (how far the server's processing fell behind the call's own
timeline, from the stored timing events); p50/p90 dead air (true end of the caller's speech -> first
interviewer audio heard, on the caller's clock); server CPU (cores busy, and CPU-s per call, with its
ASR child processes) and RSS per call. A round is "sustained" when every
call completed, no outbound gap exceeded 100 ms, inbound lag stayed under 0.5 s, and p90 dead
air was within 1.2x the single-call figure. Stops at the first round that is not, or at --max.

    .venv/bin/python bench/capacity.py --max 8

The fake callers run in this process, on the same machine: their CPU counts against the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

for _pool in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")

import httpx  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
SPEECH = REPO.parent / "shared" / "data" / "speech"

from fakes.twilio_caller import TICK, CallerAnswer, CallLog, FakeTwilioCall  # noqa: E402

from milo_voice.calls.phone.numbers import PhoneStore  # noqa: E402
from milo_voice.calls.session_store import SessionStore  # noqa: E402
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question  # noqa: E402
from milo_voice.media.pcm import read_wav  # noqa: E402
from milo_voice.settings import Settings  # noqa: E402
from milo_voice.store.db import create_engine, migrate  # noqa: E402
from milo_voice.workspace.candidates import Candidates  # noqa: E402
from milo_voice.workspace.interviews import Interviews  # noqa: E402

NUMBER = "+15005550006"
ANSWERS = ["librispeech_367_a03", "librispeech_3331_a02"]
"""Every caller gives these two answers, so each round's dead air compares with the single call's."""
SCRIPT = InterviewScript(
    title="Capacity: two questions",
    questions=(
        Question("What is your favourite recipe?", AnswerShape.EXPLANATION, max_follow_ups=0),
        Question("What do you know about history?", AnswerShape.EXPLANATION, max_follow_ups=0),
    ),
)
MAX_GAP = 0.1
MAX_LAG = 0.5
DEAD_AIR_RATIO = 1.2
STAGGER = 0.37
"""Seconds between call starts within a round, so calls do not move in lockstep."""



BENCH_ENV = {**os.environ, "MILO_LOG_LEVEL": "WARNING", "MILO_TWILIO_ALLOW_UNSIGNED": "true",
             "MILO_MAX_LIVE_CALLS": "1000"}  # the bench finds the limit itself: no refusals at the door
"""The benches' own loopback server: quiet, and its fake Twilio caller does not sign (development only)."""

def serve(args: argparse.Namespace) -> None:
    """The server process: the real app with eagerly loaded models."""
    import uvicorn

    from milo_voice.calls.engines import LazyRuntime, load_runtime
    from milo_voice.calls.phone.call import prerender_notice
    from milo_voice.web.app import create_app

    settings = Settings.from_env(os.environ).with_overrides(  # BENCH_ENV: unsigned webhooks, no door limit
        database_url=args.db, recordings_dir=Path(args.rec), models_dir=REPO / "models", port=args.port,
        public_url=f"http://127.0.0.1:{args.port}")
    store = SessionStore(create_engine(settings.database_url))
    loaded = load_runtime(settings)
    prerender_notice(settings, loaded)  # as `serve` does: the first call does not render it
    app = create_app(settings, store.engine, LazyRuntime(settings, loaded))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")


# -- process measurements (Linux /proc) ------------------------------------------------------


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """CPU seconds of the server and of its child processes (MILO_ASR_PROCESSES) while they run."""
    total = 0.0
    for proc in [pid, *descendants(pid)]:
        try:
            fields = _stat(proc)
        except OSError:
            continue  # it ended meanwhile
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of the server and its child processes."""
    total = 0.0
    for proc in [pid, *descendants(pid)]:
        try:
            lines = Path(f"/proc/{proc}/status").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) / 1024 for line in lines if line.startswith("VmRSS:"))
    return total


# -- one round -----------------------------------------------------------------------------------


@dataclass
class Round:
    n: int
    completed: int
    max_gap: float
    gaps: int
    hushes: int
    """Silences the server made on purpose: it cleared the caller's buffer (the candidate may be
    speaking again; docs/phone.md), so they are not playout falling behind."""
    max_lag: float
    dead_air: list[float]
    cpu_cores: float
    cpu_per_call: float
    rss_per_call: float
    client_late_p99: float
    wall: float

    def sustained(self, single_p90: float | None) -> bool:
        p90 = percentile(self.dead_air, 90)
        ok_air = single_p90 is None or (p90 is not None and p90 <= DEAD_AIR_RATIO * single_p90)
        return self.completed == self.n and self.max_gap <= MAX_GAP and self.max_lag <= MAX_LAG and ok_air


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def playout_gaps(log: CallLog) -> tuple[list[float], int]:
    """The caller's gaps that are playout falling behind, and how many others were hushes: a `clear`
    from the server arrived inside the silence (the interviewer stopped because the caller made a
    sound; the frames not played are sent again when it goes on)."""
    played, hushed = [], 0
    for end, gap in zip(log.gap_ends, log.gaps, strict=True):
        start = end - gap - 2 * TICK
        if any(start <= at <= end for at in log.clears):
            hushed += 1
        else:
            played.append(gap)
    return played, hushed


def dead_air(log: CallLog) -> list[float]:
    """For each answer: true end of speech -> first interviewer audio the caller heard after it."""
    out = []
    for answer in log.answers:
        after = [t for t, _ in log.heard if t >= answer.speech_end]
        if after:
            out.append(after[0] - answer.speech_end)
    return out


FRAME_EVENTS = {"speech_start", "speech_end", "eot_decided"}
"""Events emitted while an inbound frame is processed: their wall time vs media time shows the lag."""


def inbound_lag(store: SessionStore, session_id: int) -> float:
    """How far frame processing fell behind the call's own clock at worst: the spread of
    (wall time - media time) over the events emitted while frames are processed. A session that
    keeps real time has a constant offset (spread ~0); one that falls behind, a growing one."""
    offsets = [e.mono - e.media_time for e in store.events(session_id) if e.name in FRAME_EVENTS]
    return max(offsets) - min(offsets) if offsets else 0.0


async def one_call(base: str, ws: str, caller: str, answers: list[CallerAnswer], delay: float) -> CallLog:
    await asyncio.sleep(delay)
    form = {"CallSid": f"CA{caller[1:]}", "From": caller, "To": NUMBER, "Direction": "inbound"}
    async with httpx.AsyncClient() as client:
        twiml = (await client.post(f"{base}/phone/voice", data=form)).text
    ticket = twiml.split('name="ticket" value="')[1].split('"')[0]
    fake = FakeTwilioCall(f"{ws}/phone/stream", parameters={"ticket": ticket}, answers=answers,
                          max_duration=240, call_sid=f"CA{caller[1:]}")
    return await fake.run()


def run_round(n: int, pid: int, base: str, ws: str, store: SessionStore, interview_id: int,
              answers: dict[str, CallerAnswer], trace: Path | None = None) -> Round:
    callers = []
    for i in range(n):
        number = f"+1415555{n:02d}{i:02d}"
        Candidates(store.engine).enrol(interview_id=interview_id, name=f"Caller {n}.{i}", phone=number)
        callers.append((number, [answers[a] for a in ANSWERS]))
    rss0, cpu0, t0 = rss_mb(pid), cpu_seconds(pid), time.monotonic()
    peak = [rss0]

    async def go() -> list[CallLog]:
        async def sample() -> None:
            while True:
                peak[0] = max(peak[0], rss_mb(pid))
                await asyncio.sleep(1.0)

        sampler = asyncio.ensure_future(sample())
        try:
            return list(await asyncio.gather(*(
                one_call(base, ws, number, parts, i * STAGGER) for i, (number, parts) in enumerate(callers))))
        finally:
            sampler.cancel()

    logs = asyncio.run(go())
    wall = time.monotonic() - t0
    time.sleep(3.0)  # the server finishes storing transcripts after the callers hang up
    cpu = cpu_seconds(pid) - cpu0
    if trace is not None:
        trace.write_text(json.dumps(_trace(logs, callers, store), indent=1))
    phones = PhoneStore(store.engine)
    completed, lags = 0, []
    for number, _ in callers:
        sessions = [c for c in _calls_from(phones, store, number)]
        for session_id in sessions:
            row = store.get_session(session_id)
            completed += int(row is not None and row.status == "completed")
            lags.append(inbound_lag(store, session_id))
    split = [playout_gaps(log) for log in logs]
    gaps = [g for played, _ in split for g in played]
    hushes = sum(hushed for _, hushed in split)
    late = sorted(x for log in logs for x in log.late_ticks) or [0.0]
    return Round(
        n=n, completed=completed, max_gap=max(gaps, default=0.0), gaps=len(gaps), hushes=hushes,
        max_lag=max(lags, default=0.0),
        dead_air=[d for log in logs for d in dead_air(log)], cpu_cores=cpu / wall, cpu_per_call=cpu / n,
        rss_per_call=(peak[0] - rss0) / n, client_late_p99=late[int(0.99 * (len(late) - 1))], wall=wall,
    )


def _trace(logs: list[CallLog], callers: list[tuple[str, list[CallerAnswer]]],
           store: SessionStore) -> list[dict[str, object]]:
    """Per call: each gap the caller heard (its end on the call's clock, its length) and the session's
    timing events (media time = the call's clock, as the caller's frames carry it)."""
    phones = PhoneStore(store.engine)
    out: list[dict[str, object]] = []
    for log, (number, _) in zip(logs, callers, strict=True):
        events = [(round(e.media_time, 3), e.name, e.data) for sid in _calls_from(phones, store, number)
                  for e in store.events(sid)]
        out.append({"caller": number, "gaps": list(zip(log.gap_ends, log.gaps, strict=True)),
                    "answers": [(a.start, a.speech_end) for a in log.answers], "events": events})
    return out


def _calls_from(phones: PhoneStore, store: SessionStore, number: str) -> list[int]:
    from sqlmodel import Session, select

    from milo_voice.store.tables import PhoneCall

    with Session(store.engine) as session:
        rows = session.exec(select(PhoneCall.session_id).where(PhoneCall.from_number == number)).all()
    return [r for r in rows if r is not None]


def fmt(value: float | None, scale: float = 1000.0) -> str:
    return "-" if value is None else f"{value * scale:.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max", type=int, default=8, help="largest N to try (default 8)")
    parser.add_argument("--rounds", help="only these N, comma-separated, all run (e.g. 1,12,16; start "
                        "with 1: the single call every round's dead air is compared with)")
    parser.add_argument("--trace", action="store_true", help="write each round's gaps and session events "
                        "to trace-N.json beside the results")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--rec", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return 0
    (REPO / "bench" / "out").mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="capacity-", dir=REPO / "bench" / "out"))
    db = f"sqlite:///{tmp / 'bench.db'}"
    migrate(db)
    store = SessionStore(create_engine(db))
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="capacity")
    PhoneStore(store.engine).add_number(NUMBER, interview_id)
    lines = (SPEECH / "manifest.jsonl").read_text().splitlines()
    manifest = {json.loads(line)["id"]: json.loads(line) for line in lines if line.strip()}
    answers = {a: CallerAnswer(read_wav(SPEECH / manifest[a]["audio"]), float(manifest[a]["speech_end_s"]))
               for a in ANSWERS}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--db", db, "--rec", str(tmp / "rec"),
                               "--port", str(port)], env=BENCH_ENV)
    base, ws = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("server did not start") from None
                time.sleep(0.5)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
              f"server pid {server.pid}, idle RSS {rss_mb(server.pid):.0f} MB", flush=True)
        rounds: list[Round] = []
        single_p90: float | None = None
        best = 0
        chosen = [int(n) for n in args.rounds.split(",")] if args.rounds else range(1, args.max + 1)
        for n in chosen:
            result = run_round(n, server.pid, base, ws, store, interview_id, answers,
                               trace=tmp / f"trace-{n}.json" if args.trace else None)
            rounds.append(result)
            if single_p90 is None:
                single_p90 = percentile(result.dead_air, 90)
            ok = result.sustained(single_p90)
            print(f"N={n}: completed {result.completed}/{n}, max gap {fmt(result.max_gap)} ms, "
                  f"lag {fmt(result.max_lag)} ms, dead air p90 {fmt(percentile(result.dead_air, 90))} ms, "
                  f"{'sustained' if ok else 'NOT sustained'}", flush=True)
            if not ok and not args.rounds:
                break
            best = max(best, n) if ok else best
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
    print()
    print("  N  done  gaps  max gap ms  hushes  lag ms  dead air p50/p90 ms  CPU cores  CPU-s/call"
          "  RSS MB/call  client late p99 ms")
    for r in rounds:
        print(f"{r.n:3d}  {r.completed:2d}/{r.n:<2d} {r.gaps:5d}  {fmt(r.max_gap):>10}  {r.hushes:6d}  "
              f"{fmt(r.max_lag):>6}  "
              f"{fmt(percentile(r.dead_air, 50)):>8} / {fmt(percentile(r.dead_air, 90)):<8}  "
              f"{r.cpu_cores:9.2f}  "
              f"{r.cpu_per_call:10.1f}  {r.rss_per_call:11.0f}  {fmt(r.client_late_p99):>18}")
    print(f"\nlargest N sustained: {best}")
    out = tmp / "capacity.json"
    out.write_text(json.dumps([{**r.__dict__, "dead_air": r.dead_air} for r in rounds], indent=1))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
