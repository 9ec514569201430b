"""Turn-taking benchmark: cut-offs by pause length, dead air, false-end recoveries, lost words.

Modes over every answer in ../shared/data/speech/answers (answers with labelled mid-answer
pauses; `holds` in its manifest, joined where only a noise burst in an inserted pause's filler
separates two of them: `pauses`, in bench/turns_score.py):

    .venv/bin/python bench/turns.py --sweep            # decision replay: many settings, trade-off PNG
    .venv/bin/python bench/turns.py --channel file     # the real pipeline in real time (= --realtime)
    .venv/bin/python bench/turns.py --channel phone    # the real app, a fake Twilio caller, real time

`--limit N` (first N speakers) or `--speakers a,b` runs a channel on fewer speakers, `--one-interview
N` plays the first N answers as one interview (one candidate, many voices: the rhythm, when on,
learns across them); `--rescore
CALLS` scores a channel's saved calls again (bench/out/turns-phone-*/calls.json, turns-*-calls.json).

`--sweep` first runs the real evidence extractors once per answer, exactly as a session does at
each pause (webrtcvad + noise gate + segmenter edges, Smart Turn v3.2 on the audio so far, the
live Whisper decode prompted with the text so far), caches them in bench/out/turn_evidence.json,
then replays the pure `TurnPolicy` frame by frame for each setting (evidence arrives
`EVIDENCE_DELAY` after the pause starts; a cut-off lets the answer go on, as the session's
false-end recovery does). Speakers keep their `Rhythm` across their answers, in manifest order,
as one candidate does across an interview. It draws talk-over rate against median dead air for
a plain silence threshold and for the policy, with the defaults marked
(bench/out/turns_tradeoff.png).

`--channel file` (formerly `--realtime`, still accepted) runs one simulated interview per speaker
(their answers in order, one per question) through the real pipeline (VAD, Smart Turn, ASR,
planner, Piper, recorder) in real time and reports, per pause bucket, the holds in which the
interviewer became audible; dead air p50/p90; the system's own latency; false-end recoveries and
how soon the interviewer fell silent after the candidate resumed; and the stored transcript's
words against the reference (missed) and words stored under the wrong question (misattributed).

Every `--channel` also scores what the candidate *heard* (bench/turns_wire.py,
bench/turns_score.py): interviewer audio inside each labelled pause by length and kind, how long
each talk-over stayed audible after the candidate resumed, dead air to the first audible reply
frame, and a plain silence threshold at the same median dead air on the same run's VAD edges;
channels side by side, JSON in bench/out/turns_wire_<channel>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import re
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

for _pool in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")

import numpy as np  # noqa: E402
from turns_score import BUCKETS, COLUMNS, SPEECH, buckets, manifest, pauses  # noqa: E402

from milo_voice.calls.engines import Runtime, load_runtime  # noqa: E402
from milo_voice.calls.latency import percentile  # noqa: E402
from milo_voice.dialogue import events as ev  # noqa: E402
from milo_voice.dialogue.answer import Answer  # noqa: E402
from milo_voice.dialogue.script import MIN_WORDS, AnswerShape, InterviewScript, Question  # noqa: E402
from milo_voice.dialogue.turn_policy import Decision, Rhythm, TurnParams, TurnPolicy  # noqa: E402
from milo_voice.media.asr import as_float  # noqa: E402
from milo_voice.media.pcm import frames, read_wav  # noqa: E402
from milo_voice.media.types import FRAME_SECONDS, SAMPLE_RATE  # noqa: E402
from milo_voice.media.vad import FrameVad, SpeechEdge, SpeechSegmenter  # noqa: E402
from milo_voice.settings import Settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
EVIDENCE = OUT / "turn_evidence.json"
EVIDENCE_DELAY = 0.3
"""Seconds after a pause starts until its live decode and Smart Turn verdict are in (measured
in sessions: decode of a few seconds of new audio ~0.2 s, Smart Turn ~0.05 s, on 2 cores)."""
SYSTEM_LATENCY = 0.03
"""Added to replayed dead air: the realtime mode measures it (p50 20-50 ms: the reply is ready)."""
EXPECTED_WORDS = MIN_WORDS[AnswerShape.EXPLANATION]


# -- evidence -----------------------------------------------------------------------------------
async def extract(runtime: Runtime, entry: dict[str, Any],
                  samples: np.ndarray | None = None) -> dict[str, Any]:
    """Edges, and at each pause the Smart Turn verdict and the live text, for one answer (its
    recording, or `samples`: the same recording as another channel delivers it)."""
    if samples is None:
        samples = read_wav(SPEECH / entry["audio"])
    params = TurnParams()
    vad, segmenter = FrameVad(), SpeechSegmenter()
    pauses: list[dict[str, Any]] = []
    found: dict[float, float] = {}
    engines = runtime.engines
    answer = Answer(
        listening_since=0.0, params=params, asr=engines.asr,
        detector=engines.detector, detector_executor=engines.detector_executor,
        on_probability=lambda p, at: found.__setitem__(round(at, 3), p),
    )
    edges: list[tuple[bool, float]] = []
    for chunk in frames(samples):
        answer.append(chunk)
        edge = segmenter.push(vad.is_speech(chunk.pcm), chunk.start)
        if edge is None:
            continue
        edges.append((edge.speaking, round(edge.at, 3)))
        answer.on_edge(edge)
        if not edge.speaking and answer.last_speech_end == edge.at:
            await answer.settle()
            pauses.append({"at": round(edge.at, 3), "p": found.get(round(edge.at, 3)),
                           "text": answer.live.text})
    return {"id": entry["id"], "speaker": entry["speaker"], "edges": edges, "pauses": pauses}


async def build_evidence(settings: Settings) -> list[dict[str, Any]]:
    runtime = load_runtime(settings)
    try:
        out = []
        for entry in manifest():
            started = time.perf_counter()
            out.append(await extract(runtime, entry))
            print(f"  evidence {entry['id']}: {len(out[-1]['pauses'])} pauses "
                  f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)
        return out
    finally:
        runtime.close()


# -- decision replay ----------------------------------------------------------------------------
@dataclasses.dataclass(slots=True)
class Outcome:
    cuts: dict[str, int] = dataclasses.field(default_factory=lambda: defaultdict(int))
    holds: dict[str, int] = dataclasses.field(default_factory=lambda: defaultdict(int))
    cuts_by_where: dict[str, list[int]] = dataclasses.field(
        default_factory=lambda: defaultdict(lambda: [0, 0]))
    dead_air: list[float] = dataclasses.field(default_factory=list)
    answers_cut: int = 0

    def rate(self, name: str | None = None) -> float:
        if name is None:  # every hold once (the goal bucket overlaps the others)
            total = sum(self.holds[n] for _, _, n in BUCKETS)
            return sum(self.cuts[n] for _, _, n in BUCKETS) / total if total else 0.0
        return self.cuts[name] / self.holds[name] if self.holds[name] else 0.0


def replay(evidence: list[dict[str, Any]], params: TurnParams, *, use_text: bool = True,
           use_turn: bool = True, use_rhythm: bool = True) -> Outcome:
    """Run the pure policy over cached evidence; count cut-offs per hold and dead air per answer."""
    entries = {e["id"]: e for e in manifest()}
    out = Outcome()
    rhythms: dict[str, Rhythm] = defaultdict(Rhythm)
    for item in evidence:
        entry = entries[item["id"]]
        holds = pauses(entry)
        where = {round(p["at_s"], 1): p["where"] for p in entry["inserted_pauses"]}
        for start, end in holds:
            for name in buckets(end - start):
                out.holds[name] += 1
        if not use_rhythm:
            params = dataclasses.replace(params, rhythm_min_pauses=10**6)
        policy = TurnPolicy(params, listening_since=0.0, expected_words=EXPECTED_WORDS if use_text else 0,
                            rhythm=rhythms[item["speaker"]])
        edges = list(item["edges"])
        pending = [(p["at"] + EVIDENCE_DELAY, p) for p in item["pauses"]]
        cut_holds: set[int] = set()
        answered = False
        speech_end = float(entry["speech_end_s"])
        duration = float(entry["duration_s"])
        now, ei, pi, waiting = 0.0, 0, 0, False
        while now < duration and not answered:
            now += FRAME_SECONDS
            while ei < len(edges) and edges[ei][1] <= now:
                speaking, at = edges[ei]
                policy.on_edge(SpeechEdge(speaking, at))
                waiting = waiting and not speaking
                ei += 1
            while pi < len(pending) and pending[pi][0] <= now:
                pause = pending[pi][1]
                if use_turn and pause["p"] is not None:
                    policy.on_turn_probability(pause["p"], pause_started=pause["at"])
                if use_text:
                    policy.on_text(pause["text"])
                pi += 1
            if waiting or policy.decide(now) is not Decision.END_OF_TURN:
                continue
            if now >= speech_end:
                out.dead_air.append(now - speech_end + SYSTEM_LATENCY)
                answered = True
                continue
            waiting = True  # a cut-off: the candidate resumes, the same answer goes on
            hold = next((i for i, (a, b) in enumerate(holds) if a - 0.3 <= now <= b + 0.3), None)
            if hold is not None and hold not in cut_holds:
                cut_holds.add(hold)
                a, b = holds[hold]
                for name in buckets(b - a):
                    out.cuts[name] += 1
        if cut_holds:
            out.answers_cut += 1
        for i, (a, b) in enumerate(holds):
            kind = where.get(round(a, 1)) or next((w for at, w in where.items() if a - 0.2 <= at <= b), None)
            if kind is not None:
                out.cuts_by_where[kind][1] += 1
                out.cuts_by_where[kind][0] += int(i in cut_holds)
        if not answered:
            out.dead_air.append(duration - speech_end)
    return out


def silence_only(seconds: float) -> TurnParams:
    return TurnParams(min_silence=seconds, unsure_silence=seconds, max_silence=seconds,
                      closing_silence=min(seconds, 0.9), rhythm_cap=seconds)


def sweep(evidence: list[dict[str, Any]], defaults: TurnParams) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for seconds in (0.7, 1.0, 1.3, 1.5, 1.7, 2.0, 2.3, 2.6, 3.0, 3.5, 4.0):
        o = replay(evidence, silence_only(seconds), use_text=False, use_turn=False, use_rhythm=False)
        rows.append(_row("silence", {"silence": seconds}, o))
    for min_s in (1.2, 1.4, 1.5, 1.6):
        for unsure in (1.6, 1.8, 2.1, 2.5):
            for max_s in (3.0, 3.5, 4.0):
                for cap in (0.0, 1.8, 2.1, 2.4, 3.0):
                    if not min_s <= unsure <= max_s or cap > max_s:
                        continue
                    params = dataclasses.replace(defaults, min_silence=min_s, unsure_silence=unsure,
                                                 max_silence=max_s, rhythm_cap=max(cap, min_s))
                    o = replay(evidence, params, use_rhythm=cap > 0)
                    rows.append(_row("policy", {"min": min_s, "unsure": unsure, "max": max_s,
                                                "rhythm_cap": cap}, o))
    chosen = replay(evidence, defaults)
    ablations = {
        "defaults": _row("defaults", {}, chosen),
        "no text": _row("ablation", {}, replay(evidence, defaults, use_text=False)),
        "no smart turn": _row("ablation", {}, replay(evidence, defaults, use_turn=False)),
        "no rhythm": _row("ablation", {}, replay(evidence, defaults, use_rhythm=False)),
    }
    return {"rows": rows, "ablations": ablations,
            "by_where": {k: v for k, v in sorted(chosen.cuts_by_where.items())}}


def _row(kind: str, setting: dict[str, float], o: Outcome) -> dict[str, Any]:
    return {
        "kind": kind, **setting,
        "cut_all": round(o.rate(), 4),
        **{f"cut {name}": round(o.rate(name), 4) for name in COLUMNS},
        "holds": dict(o.holds),
        "answers_cut": o.answers_cut,
        "dead_air_p50": round(percentile(o.dead_air, 50) or 0, 3),
        "dead_air_p90": round(percentile(o.dead_air, 90) or 0, 3),
    }


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    silence = [r for r in result["rows"] if r["kind"] == "silence"]
    ax.plot([r["dead_air_p50"] for r in silence], [100 * r["cut_all"] for r in silence], "o-",
            color="#888", label="plain silence threshold (webrtcvad + gate)")
    for r in silence:
        ax.annotate(f"{r['silence']:g}s", (r["dead_air_p50"], 100 * r["cut_all"]), fontsize=7,
                    textcoords="offset points", xytext=(3, 3), color="#666")
    policy = [r for r in result["rows"] if r["kind"] == "policy"]
    ax.scatter([r["dead_air_p50"] for r in policy], [100 * r["cut_all"] for r in policy], s=12,
               color="#3b7dd8", alpha=0.6, label="milo policy settings (sweep)")
    d = result["ablations"]["defaults"]
    ax.scatter([d["dead_air_p50"]], [100 * d["cut_all"]], s=120, marker="*", color="#d83b3b",
               zorder=5, label="milo defaults")
    ax.set_xlabel("median dead air after the true end of an answer (s)")
    ax.set_ylabel("holds cut off (% of all mid-answer pauses)")
    ax.set_title("Turn-taking trade-off on shared/data/speech (21 answers, real evidence)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


# -- real time --------------------------------------------------------------------------------
def norm_words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def speaker_groups(limit: int | None = None,
                   names: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Each speaker's answers in manifest order (one interview per speaker): all of them, the first
    `limit` speakers, or the `names` given."""
    by_speaker: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in manifest():
        by_speaker[entry["speaker"]].append(entry)
    if names:
        unknown = [n for n in names if n not in by_speaker]
        if unknown:
            raise SystemExit(f"unknown speakers {unknown}; known: {', '.join(by_speaker)}")
        return {n: by_speaker[n] for n in names}
    return dict(list(by_speaker.items())[:limit] if limit else by_speaker)


async def realtime(settings: Settings, by_speaker: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The file channel: one simulated interview per speaker in real time (see the module doc)."""
    import jiwer
    from turns_wire import HeardCall, event_dicts, heard_file_transports, save_calls, summarise_calls

    from milo_voice.calls.session_store import SessionStore
    from milo_voice.calls.simulate import load_answers, simulate
    from milo_voice.store.db import create_engine, migrate
    from milo_voice.workspace.interviews import Interviews

    db = OUT / f"turns-{uuid.uuid4().hex[:6]}.db"
    migrate(f"sqlite:///{db}")
    store = SessionStore(create_engine(f"sqlite:///{db}"))
    runtime = load_runtime(settings)
    holds: dict[str, int] = defaultdict(int)
    cuts: dict[str, int] = defaultdict(int)
    dead_air: list[float] = []
    system: list[float] = []
    silent_after: list[float] = []
    false_ends = barge_ins = 0
    refs: list[str] = []
    hyps: list[str] = []
    total_words = 0
    ids: list[str] = []
    wrong_question: dict[str, int] = defaultdict(int)
    cut_detail: list[dict[str, Any]] = []
    calls: list[HeardCall] = []
    try:
        for speaker, group in by_speaker.items():
            answers = load_answers([SPEECH / e["audio"] for e in group], SPEECH / "manifest.jsonl")
            tag = uuid.uuid4().hex[:6]
            script = InterviewScript(title=f"turns {tag}", questions=tuple(
                Question(f"Question number {i + 1}, please tell me about it.", AnswerShape.EXPLANATION,
                         max_follow_ups=0) for i in range(len(group))))
            interview_id = Interviews(store.engine).add_script(script, slug=f"turns-{tag}")
            started = time.perf_counter()
            with heard_file_transports() as made:
                result = await simulate(settings, runtime, store, answers, interview_id=interview_id)
            events = store.events(result.session_id)
            calls.append(HeardCall("file", speaker, group, made[-1].heard,
                                   [(a.start, a.speech_end) for a in result.answers], result.duration_s,
                                   event_dicts(events), result.session_id, result.completed,
                                   round(time.perf_counter() - started, 1)))
            frames_out = [float(e.data["at"]) for e in events if e.name == ev.AUDIO_OUT_FIRST_FRAME]
            stops = [e for e in events if e.name in (ev.FALSE_END, ev.BARGE_IN)]
            silenced = [e for e in events if e.name == ev.DUCK and e.data.get("gain") == 0.0]
            false_ends += sum(1 for e in stops if e.name == ev.FALSE_END)
            barge_ins += sum(1 for e in stops if e.name == ev.BARGE_IN)
            system += result.latencies.system
            dead_air += result.latencies.dead_air
            for entry, played in zip(group, result.answers, strict=False):
                for a, b in pauses(entry):
                    for name in buckets(b - a):
                        holds[name] += 1
                    lo, hi = played.start + a, played.start + b
                    if any(lo + 0.05 <= at <= hi + 0.2 for at in frames_out):
                        for name in buckets(b - a):
                            cuts[name] += 1
                        cut_detail.append(cut_record(entry, a, b, lo, events))
                        resumed = hi
                        # silent from the first of: the mute at the onset, the stop (+ one ramp frame)
                        quiet = [e.media_time for e in (*stops, *silenced) if e.media_time >= resumed - 0.05]
                        if quiet:
                            silent_after.append(min(quiet) + FRAME_SECONDS - resumed)
                        onsets = [e.data["at"] for e in events if e.name == ev.SPEECH_START
                                  and resumed - 0.1 <= e.data["at"] <= resumed + 1]
                        cut_detail[-1].update(
                            silent_after_s=round(min(quiet) + FRAME_SECONDS - resumed, 3) if quiet else None,
                            onset_after_s=round(onsets[0] - resumed, 3) if onsets else None)
            owner = attribute(result.turns, group, result.answers)
            for position, entry in enumerate(group):
                mine = [t for t in result.turns if owner.get(t.index) == position]
                text = " ".join(result.transcripts.get(t.index, t.text) for t in mine)
                ids.append(entry["id"])
                refs.append(" ".join(norm_words(entry["transcript"])))
                hyps.append(" ".join(norm_words(text)))
                for t in mine:
                    n = len(norm_words(result.transcripts.get(t.index, t.text)))
                    total_words += n
                    if t.question_index != position:
                        wrong_question[entry["id"]] += n
            print(f"  {speaker}: {len(group)} answers, completed={result.completed}", file=sys.stderr)
        save_calls(OUT / f"{db.stem}-calls.json", calls)
        offline = [offline_decode(runtime, entry) for group in by_speaker.values() for entry in group]
    finally:
        runtime.close()
    measures = jiwer.process_words(refs, hyps)
    baseline = jiwer.process_words(refs, offline)
    per_answer = [
        {"answer": i, "missed": jiwer.process_words(r, h).deletions,
         "missed_offline": jiwer.process_words(r, o).deletions, "misattributed": wrong_question[i]}
        for i, r, h, o in zip(ids, refs, hyps, offline, strict=True)
    ]
    return {
        "holds": dict(holds), "cuts": dict(cuts),
        "cut_rate": {k: round(cuts[k] / holds[k], 3) if holds[k] else 0 for k in holds},
        "dead_air_p50": percentile(dead_air, 50), "dead_air_p90": percentile(dead_air, 90),
        "system_p50": percentile(system, 50), "system_p90": percentile(system, 90),
        "false_ends": false_ends, "barge_ins": barge_ins,
        "silent_after_resume_p50": percentile(silent_after, 50),
        "silent_after_resume_max": max(silent_after) if silent_after else None,
        "wer_vs_transcripts": round(measures.wer, 4),
        "missed_words": measures.deletions, "reference_words": sum(len(r.split()) for r in refs),
        "misattributed_words": sum(wrong_question.values()), "stored_words": total_words,
        "missed_words_offline_decode": baseline.deletions,
        "per_answer": per_answer, "cut_detail": cut_detail, "wire": summarise_calls(calls),
    }


def attribute(turns: list[Any], group: list[dict[str, Any]], played: list[Any]) -> dict[int, int]:
    """Which answer each stored candidate answer belongs to: the one whose true speech it overlaps
    most. (Not where it starts: room noise can open a stored answer before the candidate speaks.)"""
    spans = [(p.start + e["speech_start_s"], p.start + e["speech_end_s"])
             for e, p in zip(group, played, strict=False)]
    owner: dict[int, int] = {}
    for t in turns:
        if t.speaker != "candidate" or t.kind != "answer":
            continue
        overlap = [min(t.end_s, b) - max(t.start_s, a) for a, b in spans]
        if overlap and max(overlap) > 0:
            owner[t.index] = overlap.index(max(overlap))
    return owner


def offline_decode(runtime: Runtime, entry: dict[str, Any]) -> str:
    """The answer's speech decoded whole, offline (the words ASR alone misses are the baseline)."""
    samples = read_wav(SPEECH / entry["audio"])
    lo = max(0, int((entry["speech_start_s"] - 0.3) * SAMPLE_RATE))
    hi = int((entry["speech_end_s"] + 0.3) * SAMPLE_RATE)
    return " ".join(norm_words(runtime.asr.decode(as_float(samples[lo:hi])).text))


def cut_record(entry: dict[str, Any], a: float, b: float, lo: float, events: list[Any]) -> dict[str, Any]:
    """Why a hold was cut: its labelled pause kind and the evidence the decision saw."""
    where = [p["where"] for p in entry.get("inserted_pauses", []) if a - 0.3 <= p["at_s"] <= b]
    hi = lo + (b - a)
    decided = [e for e in events if e.name == ev.EOT_DECIDED and lo - 0.5 <= e.media_time <= hi + 0.2]
    probs = [e.data for e in events
             if e.name == ev.TURN_PROB and lo - 0.5 <= float(e.data["pause_at"]) <= lo + 0.3]
    return {
        "answer": entry["id"], "hold": [a, b], "seconds": round(b - a, 2),
        "where": where[0] if where else "natural",
        "decision": decided[-1].data if decided else None,
        "decided_after_s": round(decided[-1].media_time - lo, 3) if decided else None,
        "smart_turn": probs,
    }


def fmt(v: float | None, scale: float = 1000) -> str:
    return "-" if v is None else f"{v * scale:.0f}"


def print_sweep(result: dict[str, Any]) -> None:
    header = f"{'setting':<34}{'cut all':>8}" + "".join(f"{n:>8}" for n in COLUMNS)
    print(header + f"{'ans cut':>8}{'air p50':>9}{'air p90':>9}")
    show = [r for r in result["rows"] if r["kind"] == "silence"] + list(result["ablations"].values())
    names = [f"silence {r['silence']:g} s" for r in show if r["kind"] == "silence"]
    names += list(result["ablations"].keys())
    for name, r in zip(names, show, strict=True):
        print(f"{name:<34}{100 * r['cut_all']:>7.1f}%" + "".join(
            f"{100 * r[f'cut {n}']:>7.0f}%" for n in COLUMNS)
            + f"{r['answers_cut']:>8}{fmt(r['dead_air_p50']):>9}{fmt(r['dead_air_p90']):>9}")
    print("defaults, cut-offs by inserted pause kind:")
    for where, (cut, n) in result["by_where"].items():
        print(f"  {where:<45}{cut:>3} of {n}")
    print(f"plot: {OUT / 'turns_tradeoff.png'}")


def print_realtime(r: dict[str, Any], seconds: float) -> None:
    print(f"realtime ({seconds:.0f} s):")
    for name in COLUMNS:
        print(f"  holds {name:<6} cut {r['cuts'].get(name, 0):>3} of {r['holds'].get(name, 0):>3}")
    print(f"  dead air p50 {fmt(r['dead_air_p50'])} ms, p90 {fmt(r['dead_air_p90'])} ms; "
          f"system p50 {fmt(r['system_p50'])} ms, p90 {fmt(r['system_p90'])} ms")
    print(f"  false-end recoveries {r['false_ends']}, barge-ins {r['barge_ins']}; silent after resume "
          f"p50 {fmt(r['silent_after_resume_p50'])} ms, max {fmt(r['silent_after_resume_max'])} ms")
    print(f"  words: WER {100 * r['wer_vs_transcripts']:.1f}% vs transcripts, missed "
          f"{r['missed_words']} of {r['reference_words']} (a whole-answer offline decode misses "
          f"{r['missed_words_offline_decode']}), misattributed {r['misattributed_words']} "
          f"of {r['stored_words']}")
    for a in r["per_answer"]:
        if a["missed"] > a["missed_offline"] or a["misattributed"]:
            print(f"  words {a['answer']}: missed {a['missed']} (offline decode {a['missed_offline']}), "
                  f"stored under another question {a['misattributed']}")
    for cut in r["cut_detail"]:
        d = cut["decision"] or {}
        print(f"  cut {cut['answer']} hold {cut['seconds']:.2f} s ({cut['where']}): decided after "
              f"{cut['decided_after_s']} s, limit {d.get('limit')}, p {d.get('p')}, cue {d.get('cue')}, "
              f"undecoded {d.get('undecoded_s')} s, text '...{d.get('tail', '')}'; silent "
              f"{cut['silent_after_s']} s after resuming (VAD onset +{cut['onset_after_s']} s)")


def run_channel(channel: str, settings: Settings, groups: dict[str, list[dict[str, Any]]],
                machine: str, rescore: Path | None = None) -> dict[str, Any] | None:
    """Run one channel over `groups` (or score the calls saved in `rescore` again); its wire figures
    (None for a channel not built yet)."""
    import turns_wire

    if channel in turns_wire.NOT_YET:
        print(f"{channel}: {turns_wire.NOT_YET[channel]}")
        return None
    started = time.perf_counter()
    if rescore is not None:
        calls = turns_wire.load_calls(rescore)
        groups = {c.speaker: c.entries for c in calls}
        wire = turns_wire.summarise_calls(calls)
    elif channel == "file":
        r = asyncio.run(realtime(settings, groups))
        (OUT / "turns_realtime.json").write_text(json.dumps(r, indent=1))
        print_realtime(r, time.perf_counter() - started)
        wire = r["wire"]
    else:
        wire = turns_wire.summarise_calls(getattr(turns_wire, f"run_{channel}")(groups, settings))
    wall = time.perf_counter() - started
    if rescore is not None:  # the calls' own time
        wall = sum(c["wall_s"] for c in json.loads(rescore.read_text()))
    result = {"channel": channel, "date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine,
              "speakers": list(groups), "wall_s": round(wall, 1), **wire}
    if rescore is not None:
        result["rescored"] = str(rescore)
    path = turns_wire.save(channel, result)
    print(f"{channel}: talk-overs with the decision that caused them (answer time, s):")
    for line in turns_wire.talk_over_lines(result):
        print(line)
    print(f"{channel}: {path}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sweep", action="store_true", help="decision replay over many settings + PNG")
    parser.add_argument("--channel", action="append", choices=("phone", "file", "webrtc"),
                        help="run the answers in real time through this transport (repeatable); "
                             "prints what the candidate heard, channels side by side")
    parser.add_argument("--realtime", action="store_true", help="the same as --channel file")
    parser.add_argument("--limit", type=int, help="only the first N speakers (manifest order)")
    parser.add_argument("--speakers", help="only these speakers (comma-separated ids)")
    parser.add_argument("--one-interview", type=int, metavar="N",
                        help="the first N answers (manifest order, several speakers) as one interview, "
                             "as the outside measurement played them")
    parser.add_argument("--rescore", type=Path, help="score a run's saved calls (its calls.json) again")
    parser.add_argument("--refresh", action="store_true", help="recompute the cached evidence")
    args = parser.parse_args(argv)
    if args.rescore and (not args.channel or len(args.channel) != 1):
        parser.error("--rescore needs the one --channel the calls were made on")
    channels = list(dict.fromkeys((args.channel or []) + (["file"] if args.realtime else [])))
    OUT.mkdir(parents=True, exist_ok=True)
    settings = Settings.from_env(os.environ).with_overrides(
        database_url=f"sqlite:///{OUT / 'turns.db'}", recordings_dir=OUT / "recordings")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    print(f"machine: {machine}")
    defaults = TurnParams()
    if args.sweep or not channels:
        if args.refresh or not EVIDENCE.exists():
            EVIDENCE.write_text(json.dumps(asyncio.run(build_evidence(settings))))
        evidence = json.loads(EVIDENCE.read_text())
        result = sweep(evidence, defaults)
        (OUT / "turns_sweep.json").write_text(json.dumps(result, indent=1))
        plot(result, OUT / "turns_tradeoff.png")
        print_sweep(result)
    if channels:
        import turns_wire

        groups = speaker_groups(args.limit, args.speakers.split(",") if args.speakers else None)
        if args.one_interview:
            groups = {f"first-{args.one_interview}": manifest()[: args.one_interview]}
        fresh = {c: r for c in channels
                 if (r := run_channel(c, settings, groups, machine, args.rescore)) is not None}
        print("\nwhat the candidate heard (channels not run now: their last saved run):")
        print(turns_wire.side_by_side(fresh))
    return 0


if __name__ == "__main__":
    sys.exit(main())
