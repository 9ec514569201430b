"""What the candidate hears, channel by channel: the harness behind `bench/turns.py --channel`.

    .venv/bin/python bench/turns.py --channel phone --limit 3     # first 3 speakers, manifest order
    .venv/bin/python bench/turns.py --channel phone --speakers librispeech_367,librispeech_2414
    .venv/bin/python bench/turns.py --channel phone               # all 21 answers, ~17 min
    .venv/bin/python bench/turns.py --channel file                # = --realtime, plus this table

- phone: the real app in a subprocess on 127.0.0.1 (real tiny.en, Smart Turn, Piper, SQLite; as
  bench/capacity.py starts it, stopped by its PID at the end). Per speaker, one interview with one
  question per answer and one call from the fake Twilio (tests/fakes/twilio_caller.py: 8 kHz
  mu-law, 20 ms frames in real time, marks echoed after playout, `clear` drops its buffer) that
  plays the speaker's answers in manifest order. Calls run one after another.
- file: bench/turns.py's realtime mode (`simulate` over `FileTransport`); the frames that
  transport plays are what the candidate heard.
- webrtc: the same app and interviews, and one browser call per speaker from an aiortc peer
  (bench/turns_webrtc.py): POST /api/rtc/{token}/offer and the control data channel as the page
  does, Opus at 48 kHz in 20 ms frames in real time, the fake Twilio caller's answer rules; every
  received interviewer frame logged at its arrival. The session's events are moved onto the call's
  clock by finding each answer in the session's recording.

Every channel is scored the same way from what the caller heard (bench/turns_score.py): the
interviewer audible inside a labelled pause, per pause length and kind; how long each talk-over
stayed audible after the candidate resumed; dead air to the first audible reply frame; and a plain
silence threshold on the same run's VAD edges (the server's `speech_start`/`speech_end` events)
at the same median dead air. The server's end-of-turn evidence is attached to each talk-over.
The table puts the channels side by side: a channel not run now is read from its last JSON in
bench/out/ (labelled with its date and speakers). Timing figures depend on the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

for _pool in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")

import httpx  # noqa: E402
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
OUT = REPO / "bench" / "out"
CHANNELS = ("phone", "file", "webrtc")
NOT_YET: dict[str, str] = {}
"""Channels not built yet, with the reason."""

from fakes.twilio_caller import CallerAnswer, FakeTwilioCall  # noqa: E402
from turns_score import (  # noqa: E402
    COLUMNS,
    FRAME,
    GOAL,
    LONG,
    SPEECH,
    STOP_GOAL,
    UNFINISHED,
    AnswerScore,
    RuleInput,
    audible_runs,
    frame_dbfs,
    labelled_pauses,
    manifest,
    score_answer,
    summarise,
)

from milo_voice.dialogue import events as ev  # noqa: E402
from milo_voice.media import mulaw  # noqa: E402
from milo_voice.media.pcm import read_wav  # noqa: E402
from milo_voice.media.transports.file import FileTransport  # noqa: E402
from milo_voice.media.types import AudioChunk  # noqa: E402
from milo_voice.settings import Settings  # noqa: E402

QUESTION = "Question number {n}, please tell me about it."
"""The interview's questions (as in the realtime mode): one per answer, no follow-ups."""


@dataclass(slots=True)
class HeardCall:
    """One call as the candidate lived it: what they heard and when they answered (call time, s),
    and the server's timing events for the same call."""

    channel: str
    speaker: str
    entries: list[dict[str, Any]]
    heard: list[tuple[float, float]]
    """(call time, dBFS) of every frame of interviewer audio played to the candidate."""
    answers: list[tuple[float, float]]
    """(start, true end of speech) of each answer played, in call time."""
    end: float
    """Call time the call ended."""
    events: list[dict[str, Any]] = field(default_factory=list)
    """The session's timing events: name, t (media time), data."""
    session_id: int | None = None
    completed: bool = False
    wall_s: float = 0.0



BENCH_ENV = {**os.environ, "MILO_LOG_LEVEL": "WARNING", "MILO_TWILIO_ALLOW_UNSIGNED": "true"}
"""The benches' own loopback server: quiet, and its fake Twilio caller does not sign (development only)."""

def event_dicts(rows: list[Any]) -> list[dict[str, Any]]:
    return [{"name": r.name, "t": float(r.media_time), "data": dict(r.data or {})} for r in rows]


def named(events: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    return [e for e in events if e["name"] in names]


# -- scoring one call -------------------------------------------------------------------------
def score_call(call: HeardCall) -> tuple[list[AnswerScore], list[RuleInput], list[dict[str, Any]]]:
    """Scores and silence-rule inputs per answer played, and one detail record per answer."""
    runs = audible_runs(call.heard)
    edges = [(e["name"] == ev.SPEECH_START, float(e["data"]["at"])) for e in call.events
             if e["name"] in (ev.SPEECH_START, ev.SPEECH_END)]
    scores, rules, details = [], [], []
    for i, (entry, (start, _)) in enumerate(zip(call.entries, call.answers, strict=False)):
        window_end = call.answers[i + 1][0] if i + 1 < len(call.answers) else call.end
        rel = [(round(s - start, 3), round(e - start, 3)) for s, e in runs if e > start and s < window_end]
        pause_list = labelled_pauses(entry)
        score = score_answer(entry["id"], pause_list, rel, speech_start=float(entry["speech_start_s"]),
                             speech_end=float(entry["speech_end_s"]), window_end=window_end - start)
        scores.append(score)
        mine = tuple((s, round(at - start, 3)) for s, at in edges if start <= at < window_end)
        rules.append(RuleInput(entry["id"], tuple(pause_list), mine, float(entry["speech_end_s"]),
                               window_end - start))
        details.append(answer_detail(call, entry, start, score))
    return scores, rules, details


def answer_detail(call: HeardCall, entry: dict[str, Any], start: float, score: AnswerScore) -> dict[str, Any]:
    """Why each talk-over happened and how it stopped, from the server's events (answer time), and
    the dead air split into the policy's wait and the way to the ear."""
    events = [{**e, "t": round(e["t"] - start, 3)} for e in call.events]
    overs = []
    for t in score.talk_overs:
        pause = score.pauses[t.pause] if t.pause is not None else None
        since = pause.start if pause is not None else t.start - 4.0
        resumed = pause.end if pause is not None else t.start
        decided = [e for e in named(events, ev.EOT_DECIDED) if since - 0.5 <= e["t"] <= t.start + 0.05]
        stops = [e for e in named(events, ev.FALSE_END, ev.BARGE_IN) if e["t"] >= t.start - 0.05]
        mutes = [e for e in named(events, ev.DUCK) if e["t"] >= t.start - 0.05]
        onsets = [e["data"]["at"] - start for e in named(events, ev.SPEECH_START)
                  if e["data"]["at"] - start >= resumed - 0.3]
        d = decided[-1] if decided else None
        overs.append({
            "pause": [pause.start, pause.end] if pause else None, "kind": pause.kind if pause else "speech",
            "seconds": round(pause.seconds, 2) if pause else None,
            "heard": [t.start, t.end],
            "heard_after_pause_start_s": round(t.start - since, 3) if pause else None,
            "audible_after_resume_s": t.after_resume,
            "decided_after_pause_start_s": round(d["t"] - since, 3) if d and pause else None,
            "decision_to_ear_s": round(t.start - d["t"], 3) if d else None,
            "decision": d["data"] if d else None,
            "vad_onset_after_resume_s": round(onsets[0] - resumed, 3) if onsets else None,
            "first_duck": ({"t_after_resume": round(mutes[0]["t"] - resumed, 3), **mutes[0]["data"]}
                           if mutes else None),
            "stop": ({"name": stops[0]["name"], "t_after_resume": round(stops[0]["t"] - resumed, 3)}
                     if stops else None),
        })
    speech_end = float(entry["speech_end_s"])
    reply_at = speech_end + score.dead_air if score.dead_air is not None else None
    eots = [e for e in named(events, ev.EOT_DECIDED)
            if reply_at is not None and speech_end - 0.5 <= e["t"] <= reply_at + 0.05]
    eot = eots[-1] if eots else None
    return {
        "answer": entry["id"], "speaker": call.speaker, "start": round(start, 3),
        "dead_air_s": score.dead_air,
        "eot_after_speech_end_s": round(eot["t"] - speech_end, 3) if eot else None,
        "eot_to_ear_s": round(reply_at - eot["t"], 3) if eot and reply_at is not None else None,
        "eot": eot["data"] if eot else None,
        "pauses": [[p.start, p.end, p.kind] for p in score.pauses],
        "talked": sorted(score.talked), "lead_in_runs": score.lead_in, "talk_overs": overs,
    }


def summarise_calls(calls: list[HeardCall]) -> dict[str, Any]:
    scores: list[AnswerScore] = []
    rules: list[RuleInput] = []
    details: list[dict[str, Any]] = []
    for call in calls:
        s, r, d = score_call(call)
        scores += s
        rules += r
        details += d
    played = sum(len(c.answers) for c in calls)
    expected = sum(len(c.entries) for c in calls)
    return {
        "summary": {**summarise(scores, rules), "answers_not_played": expected - played,
                    "calls_completed": sum(1 for c in calls if c.completed), "calls": len(calls)},
        "answers": details,
    }


# -- the phone channel ---------------------------------------------------------------------------
def serve(args: argparse.Namespace) -> None:
    """The server process: the real app with eagerly loaded models (as bench/capacity.py's)."""
    import uvicorn

    from milo_voice.calls.engines import LazyRuntime, load_runtime
    from milo_voice.calls.session_store import SessionStore
    from milo_voice.store.db import create_engine
    from milo_voice.web.app import create_app

    settings = Settings.from_env(os.environ).with_overrides(
        database_url=args.db, recordings_dir=Path(args.rec), models_dir=REPO / "models", port=args.port,
        public_url=f"http://127.0.0.1:{args.port}")
    store = SessionStore(create_engine(settings.database_url))
    app = create_app(settings, store.engine, LazyRuntime(settings, load_runtime(settings)))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")


@contextlib.contextmanager
def app_server(db: str, rec: Path) -> Iterator[str]:
    """Start the app in a subprocess on a free loopback port; yields its base URL; stops it by PID."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--db", db, "--rec", str(rec),
                               "--port", str(port)], env=BENCH_ENV)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the app did not start")
            time.sleep(0.5)
        print(f"  app pid {server.pid} on {base}", file=sys.stderr, flush=True)
        yield base
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)


def run_phone(groups: dict[str, list[dict[str, Any]]], settings: Settings) -> list[HeardCall]:
    """One fake-Twilio call per speaker against the real app, one after another."""
    from milo_voice.calls.phone.numbers import PhoneStore
    from milo_voice.calls.session_store import SessionStore
    from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
    from milo_voice.store.db import create_engine, migrate
    from milo_voice.workspace.candidates import Candidates
    from milo_voice.workspace.interviews import Interviews

    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="turns-phone-", dir=OUT))
    db = f"sqlite:///{tmp / 'bench.db'}"
    migrate(db)
    store = SessionStore(create_engine(db))
    phones = PhoneStore(store.engine)
    plan = []
    for k, (speaker, group) in enumerate(groups.items()):
        script = InterviewScript(title=f"turns phone {speaker}", questions=tuple(
            Question(QUESTION.format(n=i + 1), AnswerShape.EXPLANATION, max_follow_ups=0)
            for i in range(len(group))))
        interview_id = Interviews(store.engine).add_script(script, slug=f"turns-phone-{k}")
        number, caller = f"+1415555{300 + k:04d}", f"+1415555{100 + k:04d}"
        phones.add_number(number, interview_id)
        Candidates(store.engine).enrol(interview_id=interview_id, name=speaker, phone=caller)
        plan.append((speaker, group, number, caller))
    calls = []
    with app_server(db, tmp / "rec") as base:
        ws = base.replace("http://", "ws://")
        for k, (speaker, group, number, caller) in enumerate(plan):
            started = time.perf_counter()
            sid = f"CA{k:032d}"
            form = {"CallSid": sid, "From": caller, "To": number, "Direction": "inbound",
                    "CallStatus": "ringing"}
            twiml = httpx.post(f"{base}/phone/voice", data=form, timeout=30).text
            ticket = twiml.split('name="ticket" value="')[1].split('"')[0]
            answers = [CallerAnswer(read_wav(SPEECH / e["audio"]), float(e["speech_end_s"])) for e in group]
            limit = sum(float(e["duration_s"]) + 40 for e in group) + 60
            fake = FakeTwilioCall(f"{ws}/phone/stream", parameters={"ticket": ticket}, answers=answers,
                                  human_delay=settings.human_delay, max_duration=limit, call_sid=sid)
            log = asyncio.run(fake.run())
            row = phones.call_by_ticket(ticket)
            session_id = row.session_id if row is not None else None
            status = ""
            for _ in range(300):  # the server finishes storing after the caller's socket closed
                session = store.get_session(session_id) if session_id is not None else None
                status = session.status if session is not None else ""
                if status and status != "live":
                    break
                time.sleep(0.1)
            events = phone_events(store, session, answers, [a.start for a in log.answers])
            heard = [(t, frame_dbfs(mulaw.decode(frame))) for t, frame in log.heard]
            played = [(a.start, a.speech_end) for a in log.answers]
            calls.append(HeardCall("phone", speaker, group, heard, played, log.duration, events, session_id,
                                   status == "completed", round(time.perf_counter() - started, 1)))
            print(f"  phone {speaker}: {len(log.answers)} of {len(group)} answers, session {status or '?'}, "
                  f"{log.duration:.0f} s call, clears {len(log.clears)}, gaps {len(log.gaps)}, "
                  f"bad messages {len(log.bad_messages)}", file=sys.stderr, flush=True)
    save_calls(tmp / "calls.json", calls)
    return calls


def phone_events(store: Any, session: Any, answers: list[CallerAnswer],
                 starts: list[float]) -> list[dict[str, Any]]:
    """The session's events on the call's clock. The media clock starts with the interview, after the
    spoken notice and the keypad step (whose audio the server does not keep), so, as for WebRTC, each
    answer is found in the session's recording and the events move by the offset of their answer."""
    import turns_webrtc_clock as clock

    if session is None or session.id is None:
        return []
    path = Path(session.recording_path) if session.recording_path else None
    offsets = clock.align(clock.recorded_candidate(path), answers, starts) if path and path.is_file() else []
    return clock.on_call_time(event_dicts(store.events(session.id)), offsets, 0.0)


def run_webrtc(groups: dict[str, list[dict[str, Any]]], settings: Settings) -> list[HeardCall]:
    """One aiortc browser call per speaker against the real app, one after another (bench/turns_webrtc.py)."""
    import turns_webrtc

    return turns_webrtc.run_webrtc(groups, settings)


def save_calls(path: Path, calls: list[HeardCall]) -> None:
    """The calls for a later `--rescore`: audible runs instead of every frame."""
    out = []
    for call in calls:
        data = asdict(call)
        data["heard_runs"] = audible_runs(call.heard)
        del data["heard"], data["entries"]
        data["answer_ids"] = [e["id"] for e in call.entries]
        out.append(data)
    path.write_text(json.dumps(out))
    print(f"  calls: {path}", file=sys.stderr)


def load_calls(path: Path) -> list[HeardCall]:
    """Calls saved by `save_calls`; each audible run becomes frames at -20 dBFS (so the scoring
    reproduces the saved runs; a new audibility threshold needs a new run)."""
    entries = {e["id"]: e for e in manifest()}
    calls = []
    for data in json.loads(path.read_text()):
        heard = [(round(a + FRAME * k, 3), -20.0) for a, b in data.pop("heard_runs")
                 for k in range(round((b - a) / FRAME))]
        group = [entries[i] for i in data.pop("answer_ids")]
        data["answers"] = [tuple(a) for a in data["answers"]]
        calls.append(HeardCall(entries=group, heard=heard, **data))
    return calls


# -- the file channel ------------------------------------------------------------------------------
class HeardFileTransport(FileTransport):
    """A `FileTransport` that also logs the level of every frame it plays: what the candidate heard."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.heard: list[tuple[float, float]] = []
        self._sink: Callable[[AudioChunk], None] | None = None
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def on_played(self) -> Callable[[AudioChunk], None] | None:
        return self._log_played if self._sink is not None else None

    @on_played.setter
    def on_played(self, sink: Callable[[AudioChunk], None] | None) -> None:
        self._sink = sink

    def _log_played(self, chunk: AudioChunk) -> None:
        self.heard.append((chunk.start, frame_dbfs(np.frombuffer(chunk.pcm, dtype="<i2"))))
        if self._sink is not None:
            self._sink(chunk)


@contextlib.contextmanager
def heard_file_transports() -> Iterator[list[HeardFileTransport]]:
    """`simulate()` builds its own `FileTransport`: inside this block it builds `HeardFileTransport`s
    (listed in the yielded list) instead. Nothing else about the simulation changes."""
    import milo_voice.calls.simulate as simulate_module

    made: list[HeardFileTransport] = []

    def build(*args: Any, **kwargs: Any) -> HeardFileTransport:
        made.append(HeardFileTransport(*args, **kwargs))
        return made[-1]

    original = simulate_module.FileTransport
    simulate_module.FileTransport = build  # type: ignore[misc,assignment]
    try:
        yield made
    finally:
        simulate_module.FileTransport = original  # type: ignore[misc]


# -- reporting ------------------------------------------------------------------------------------
def save(channel: str, result: dict[str, Any]) -> Path:
    path = OUT / f"turns_wire_{channel}.json"
    path.write_text(json.dumps(result, indent=1))
    return path


def saved(channel: str) -> dict[str, Any] | None:
    path = OUT / f"turns_wire_{channel}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _of(row: list[int] | None) -> str:
    return "-" if not row else f"{row[0]} of {row[1]}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}"


def column(r: dict[str, Any], kinds: list[str]) -> list[tuple[str, str]]:
    """One channel's rows of the table: (label, value)."""
    s = r["summary"]
    rule = s.get("silence_rule") or {}
    in_pauses = s["talk_overs"] - s["talk_overs_in_speech"]
    rows = [
        ("speakers / answers / when", f"{len(r['speakers'])} / {s['answers']} / {r['date']}"),
        ("run wall time", f"{r['wall_s']:.0f} s"),
        ("interviewer audible inside the pause:", ""),
    ]
    for name in (*COLUMNS, LONG, UNFINISHED, *kinds, "all"):
        label = f"pauses {name}" if name in (*COLUMNS, LONG) else name.replace("kind: ", "after: ")
        rows.append(("  " + label, _of(s["pauses"].get(name))))
    rows += [
        ("talk-overs / started in speech", f"{s['talk_overs']} / {s['talk_overs_in_speech']}"),
        ("answers talked into", f"{s['answers_talked_into']} of {s['answers']}"),
        ("audible after resume p50 / max ms",
         f"{_ms(s['audible_after_resume_p50'])} / {_ms(s['audible_after_resume_max'])}"),
        (f"  audible > {STOP_GOAL * 1000:.0f} ms after resume", f"{s['stopped_late']} of {in_pauses}"),
        ("dead air p50 / p90 ms", f"{_ms(s['dead_air_p50'])} / {_ms(s['dead_air_p90'])}"),
        ("answers with no reply", str(s["no_reply"])),
        ("plain silence rule, same median dead air:", ""),
        ("  threshold (s, on the run's VAD edges)", f"{rule['threshold']:.2f}" if rule else "-"),
        ("  its dead air p50 / p90 ms",
         f"{_ms(rule.get('dead_air_p50'))} / {_ms(rule.get('dead_air_p90'))}" if rule else "-"),
        (f"  its replies into pauses {LONG}", _of(rule.get("pauses", {}).get(LONG))),
        (f"  its replies into pauses {GOAL}", _of(rule.get("pauses", {}).get(GOAL))),
        (f"  its replies into: {UNFINISHED}", _of(rule.get("pauses", {}).get(UNFINISHED))),
    ]
    return rows


def table(results: dict[str, dict[str, Any] | None]) -> str:
    """The channels side by side (None: not run, with the reason)."""
    kinds = sorted({k for r in results.values() if r is not None
                    for k in r["summary"]["pauses"] if k.startswith("kind: ")})
    columns = {c: dict(column(r, kinds)) for c, r in results.items() if r is not None}
    if not columns:
        return "\n".join(f"{c}: {NOT_YET.get(c, 'not run')}" for c in results)
    labels = [label for label, _ in column(next(r for r in results.values() if r is not None), kinds)]
    width = max(len(label) for label in labels) + 2
    absent = {c: "not yet" if c in NOT_YET else "not run" for c in results}
    cells = {c: [columns[c].get(label, "") if c in columns else absent[c] if label == labels[0] else ""
                 for label in labels] for c in results}
    wide = {c: max(len(c), *(len(x) for x in cells[c])) + 3 for c in results}
    lines = [f"{'':<{width}}" + "".join(f"{c:>{wide[c]}}" for c in results)]
    for k, label in enumerate(labels):
        lines.append(f"{label:<{width}}" + "".join(f"{cells[c][k]:>{wide[c]}}" for c in results))
    lines += [f"{c}: {NOT_YET[c]}" for c, r in results.items() if r is None and c in NOT_YET]
    return "\n".join(lines)


def side_by_side(fresh: dict[str, dict[str, Any]]) -> str:
    """This run's channels, and the others from their last saved JSON."""
    results: dict[str, dict[str, Any] | None] = {}
    for channel in CHANNELS:
        results[channel] = fresh.get(channel) or saved(channel)
    return table(results)


def talk_over_lines(result: dict[str, Any]) -> list[str]:
    """One line per talk-over with the evidence of the decision that caused it."""
    out = []
    for a in result["answers"]:
        for t in a["talk_overs"]:
            d = t["decision"] or {}
            stop = t["stop"] or {}
            duck = t["first_duck"] or {}
            out.append(
                f"  {a['answer']} {t['kind']} {t['seconds']} s pause at {(t['pause'] or ['-'])[0]}: "
                f"decided {t['decided_after_pause_start_s']} s in (limit {d.get('limit')}, p {d.get('p')}, "
                f"cue {d.get('cue')}, words {d.get('words')}, '...{d.get('tail', '')}'), audible "
                f"{t['heard_after_pause_start_s']} s in ({t['decision_to_ear_s']} s after the decision); "
                f"resumed: VAD onset +{t['vad_onset_after_resume_s']} s, first duck "
                f"{duck.get('t_after_resume')} s (gain {duck.get('gain')}), {stop.get('name', 'no stop')} "
                f"{stop.get('t_after_resume', '')} s; audible {t['audible_after_resume_s']} s after resume")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="the app server for bench/turns.py --channel phone")
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--db")
    parser.add_argument("--rec")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if not args.serve:
        parser.error("run bench/turns.py --channel phone (this module only serves the app for it)")
    serve(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
