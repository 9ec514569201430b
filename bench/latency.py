"""Latency benchmark: simulated interviews over the real pipeline, in real time.

Runs `simulate` over the answers in ../shared/data/speech/answers (three answers per interview,
one per question, no follow-ups), then prints p50/p90 of dead air, end-of-turn delay, ASR
finalisation, planner first sentence, TTS first audio, the system's own latency, ASR compute per
second of speech, and the stored transcript's word error rate next to a whole-answer offline
decode with the same model. Also times TTS on new and cached sentences. Writes JSON to bench/out/.

    .venv/bin/python bench/latency.py                # all 21 answers (~20 min)
    .venv/bin/python bench/latency.py --limit 6      # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

for _pool in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")

import jiwer  # noqa: E402

from milo_voice.calls.engines import Runtime, load_runtime  # noqa: E402
from milo_voice.calls.latency import Latencies, percentile, table  # noqa: E402
from milo_voice.calls.session_store import SessionStore  # noqa: E402
from milo_voice.calls.simulate import load_answers, simulate  # noqa: E402
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question  # noqa: E402
from milo_voice.dialogue.speaker import clauses  # noqa: E402
from milo_voice.media.asr import as_float  # noqa: E402
from milo_voice.media.pcm import read_wav  # noqa: E402
from milo_voice.settings import Settings  # noqa: E402
from milo_voice.store.db import create_engine, migrate  # noqa: E402
from milo_voice.workspace.interviews import Interviews  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SPEECH = REPO.parent / "shared" / "data" / "speech"
NEW_SENTENCES = [
    "That sounds like a demanding project; how did you keep the team aligned?",
    "Interesting, what would you do differently if you started it again today?",
    "Could you walk me through the first week after you joined that company?",
    "What tools did you rely on most when the deadline moved forward?",
    "How did the customer react when you explained the delay to them?",
    "Which part of that work are you proudest of, and why?",
    "What did your manager say about the way you handled the escalation?",
    "How do you usually prioritise when two urgent requests arrive together?",
]


def manifest() -> dict[str, dict[str, object]]:
    lines = (SPEECH / "manifest.jsonl").read_text().splitlines()
    return {json.loads(line)["id"]: json.loads(line) for line in lines if line}


def words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower()).split())


def script(n: int, tag: str) -> InterviewScript:
    prompts = [
        "Tell me about a project you are proud of.",
        "How do you handle a difficult customer?",
        "What did you learn in your last role?",
    ]
    return InterviewScript(
        title=f"bench {tag}",
        questions=tuple(
            Question(prompts[i % 3], AnswerShape.EXPLANATION, max_follow_ups=0) for i in range(n)
        ),
    )


async def run_interviews(settings: Settings, runtime: Runtime, store: SessionStore, ids: list[str],
                         per: int) -> tuple[Latencies, list[dict[str, object]], dict[str, float], float]:
    lat = Latencies()
    rows: list[dict[str, object]] = []
    cpu = {"total": 0.0, "live": 0.0, "stored": 0.0}
    speech = 0.0
    entries = manifest()
    for start in range(0, len(ids), per):
        group = ids[start : start + per]
        answers = load_answers([SPEECH / "answers" / f"{a}.wav" for a in group], SPEECH / "manifest.jsonl")
        tag = uuid.uuid4().hex[:6]
        interview_id = Interviews(store.engine).add_script(script(len(group), tag), slug=f"bench-{tag}")
        result = await simulate(settings, runtime, store, answers, interview_id=interview_id)
        lat.extend(result.latencies)
        events = store.events(result.session_id)
        end = next(e for e in reversed(events) if e.name == "session_end")
        cpu["total"] += float(end.data["asr_cpu_s"])
        cpu["live"] += sum(float(e.data["asr_cpu_s"]) for e in events if e.name == "asr_final")
        cpu["stored"] += sum(float(e.data["asr_cpu_s"]) for e in events if e.name == "transcript_stored")
        speech += float(end.data["speech_s"])
        for position, answer_id in enumerate(group):  # an answer split by a cut-off has several turns
            turns = [t for t in result.turns if t.speaker == "candidate" and t.question_index == position]
            rows.append({
                "id": answer_id,
                "stored": " ".join(result.transcripts.get(t.index, t.text) for t in turns),
                "live": " ".join(t.live_text for t in turns),
                "reference": entries[answer_id]["transcript"],
                "kind": entries[answer_id]["transcript_kind"],
            })
        print(f"  interview {group}: completed={result.completed} "
              f"talk_over={result.latencies.talk_over}", file=sys.stderr)
    return lat, rows, cpu, speech


def offline_decodes(runtime: Runtime, ids: list[str]) -> dict[str, str]:
    """Whole-answer decode of each file with the same model and settings as the stored transcript."""
    entries = manifest()
    out = {}
    for answer_id in ids:
        samples = read_wav(SPEECH / "answers" / f"{answer_id}.wav")
        end = int((float(entries[answer_id]["speech_end_s"]) + 0.3) * 16000)
        out[answer_id] = runtime.asr.decode(as_float(samples[:end])).text
    return out


TTS_ROUNDS = 3
"""Rounds over NEW_SENTENCES: one round's median moves by 50 ms or more between runs."""


def tts_times(runtime: Runtime) -> dict[str, list[float]]:
    cache = runtime.tts
    new, cached = [], []
    for sentence in NEW_SENTENCES * TTS_ROUNDS:
        first = clauses(sentence)[0]  # the session synthesises long lines clause by clause
        cache.path_for(first).unlink(missing_ok=True)  # new: not rendered before (no text altered)
        started = time.perf_counter()
        cache.render(first)
        new.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert cache.get(first) is not None
        cached.append(time.perf_counter() - started)
    return {"new": new, "cached": cached}


def wer(pairs: list[tuple[str, str]]) -> float:
    return float(jiwer.wer([words(r) for r, _ in pairs], [words(h) for _, h in pairs]))


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=0, help="use only the first N answers")
    parser.add_argument("--per", type=int, default=3, help="answers per interview")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args()
    ids = [json.loads(line)["id"] for line in (SPEECH / "manifest.jsonl").read_text().splitlines() if line]
    if args.limit:
        ids = ids[: args.limit]
    tmp = REPO / "bench" / "out" / f"run-{uuid.uuid4().hex[:6]}"
    tmp.mkdir(parents=True, exist_ok=True)
    settings = Settings.from_env(os.environ).with_overrides(
        database_url=f"sqlite:///{tmp / 'bench.db'}", recordings_dir=tmp / "rec", models_dir=REPO / "models")
    migrate(settings.database_url)
    store = SessionStore(create_engine(settings.database_url))
    runtime = load_runtime(settings)
    try:
        lat, rows, cpu, speech = await run_interviews(settings, runtime, store, ids, args.per)
        offline = offline_decodes(runtime, ids)
        tts = tts_times(runtime)
    finally:
        runtime.close()
    stored_wer = wer([(str(r["reference"]), str(r["stored"])) for r in rows])
    live_wer = wer([(str(r["reference"]), str(r["live"])) for r in rows])
    offline_wer = wer([(str(r["reference"]), offline[str(r["id"])]) for r in rows])
    summary = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "answers": len(rows),
        "latency_ms": {name: {"n": n, "p50": p50, "p90": p90} for name, n, p50, p90 in table(lat)},
        "talk_over_replies": lat.talk_over,
        "asr_cpu_s_per_speech_s": cpu["total"] / speech if speech else None,
        "asr_cpu_split": {k: v / speech for k, v in cpu.items()} if speech else None,
        "asr_cpu_measured_as": "thread CPU time" if runtime.asr.measures_cpu else "wall x threads",
        "wer": {"stored": stored_wer, "live": live_wer, "offline_whole_answer": offline_wer},
        "tts_ms": {k: {"p50": 1000 * statistics.median(v), "p90": 1000 * (percentile(v, 90) or 0)}
                   for k, v in tts.items()},
    }
    print(f"\nmilo-voice latency benchmark: {summary['answers']} answers, {summary['machine']}")
    print(f"{'metric':<26}{'n':>4}{'p50 ms':>10}{'p90 ms':>10}")
    for name, n, p50, p90 in table(lat):
        fmt = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
        print(f"{name:<26}{n:>4}{fmt(p50):>10}{fmt(p90):>10}")
    for kind, stats in summary["tts_ms"].items():  # type: ignore[union-attr]
        n = len(NEW_SENTENCES) * TTS_ROUNDS
        print(f"{'tts render ' + kind:<26}{n:>4}{stats['p50']:>10.0f}{stats['p90']:>10.0f}")
    print(f"talk-over replies: {lat.talk_over}")
    split = summary["asr_cpu_split"] or {}
    print(f"ASR compute: {summary['asr_cpu_s_per_speech_s']:.3f} CPU-s per second of speech "
          f"(live {split.get('live', 0):.3f}, stored {split.get('stored', 0):.3f}; "
          f"{summary['asr_cpu_measured_as']})")
    print(f"WER stored {stored_wer:.3f}  offline whole-answer {offline_wer:.3f}  live {live_wer:.3f}")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"latency-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(summary, indent=2))
    print(f"JSON: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
