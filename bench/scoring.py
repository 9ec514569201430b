"""Agreement of the offline scorer (and optionally an LLM) with human graders, on every graded set we have.

For each set (SemEval-2013 Task 7 per corpus and test set, never pooled; plus any set given with --data
in the same JSONL format, e.g. Powergrading and DT-Grade, see docs/scoring.md) it prints:

- r: Pearson correlation of the scorer's calibrated chance of full marks with the human mean grade;
- full->Bad: of the answers humans gave full marks, the share banded Bad (goal <= 10%);
- zero->Great: of the answers humans gave the lowest grade, the share banded Great (goal <= 10%);
- the precision of each band (Great: share with full marks; Bad: share graded zero), and the share
  flagged "needs review";
- 95% confidence intervals from resampling whole questions (1,000 bootstrap draws, fixed seed).

Each item is a one-criterion rubric whose full-marks anchor is the reference answer (the best
reading over several references). Bands are the product's: score 1-5 from the chance, then the
default Great >= 75 / Good >= 50 thresholds on 0-100.

    .venv/bin/python bench/scoring.py                          # SemEval + /work/heldout_scoring/*/items.jsonl
    .venv/bin/python bench/scoring.py --data path/items.jsonl  # another set
    .venv/bin/python bench/scoring.py --fit                    # refit the calibration on SemEval
    .venv/bin/python bench/scoring.py --llm http://127.0.0.1:8080/v1 --llm-model NAME --limit 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from milo_voice.scoring import meaning  # noqa: E402
from milo_voice.scoring.llm import LlmScorer  # noqa: E402
from milo_voice.scoring.meaning import Reading, reader_for, score_of  # noqa: E402
from milo_voice.scoring.rubric import Bands, Criterion, QuestionRubric  # noqa: E402
from milo_voice.scoring.scorer import QuestionInput  # noqa: E402
from milo_voice.scoring.sentences import quote_pieces  # noqa: E402

SEMEVAL = REPO.parent / "shared" / "data" / "scoring" / "semeval2013_task7" / "items.jsonl"
HELD_OUT = Path("/work/heldout_scoring")
DRAWS = 1000
BANDS = Bands()


def load(path: Path) -> dict[str, list[dict[str, Any]]]:
    cells: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in path.read_text().splitlines():
        item = json.loads(line)
        cells[f"{item['corpus']} / {item['test_set']}"].append(item)
    return cells


def references(item: dict[str, Any]) -> list[str]:
    raw = item.get("reference_answers_all") or []
    refs = [r["text"] if isinstance(r, dict) else str(r) for r in raw]
    return [r for r in refs or [item["reference_answer"]] if r.strip()]


def grade(item: dict[str, Any]) -> float:
    """The human mean on 0..1."""
    lo, hi = item["scale"]
    return (float(item["human_mean"]) - lo) / (hi - lo)


def band_of(score: int) -> str:
    return BANDS.band((score - 1) * 25.0)


def offline_rows(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[float]]:
    reader = reader_for((REPO / "models").resolve())
    rows, times = [], []
    for item in items:
        started = time.perf_counter()
        reading: Reading = reader.best(quote_pieces(item["answer"]) or [item["answer"]], references(item),
                                       item["question"])  # fmt: skip
        times.append((time.perf_counter() - started) * 1000)
        score = score_of(reading.chance)
        features = (reading.words.value, reading.meaning or 0.0, reading.points or 0.0)
        review = bool(reading.review_reason)
        rows.append({"value": reading.chance, "band": band_of(score), "review": review, "features": features})
    return rows, times


async def llm_rows(items: list[dict[str, Any]], scorer: LlmScorer) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        anchors = {1: "Wrong, contradictory or unrelated.", 3: "Partly right.", 5: references(item)[0]}
        criterion = Criterion(id="correct", name="The answer is correct and complete", anchors=anchors)
        question = QuestionInput(
            0, item["question"], QuestionRubric(criteria=(criterion,)), (item["answer"],)
        )
        judgement = (await scorer.judge(question))[0]
        score = judgement.score or 1
        rows.append({"value": (score - 1) / 4, "band": band_of(score), "review": judgement.score is None})
    return rows


def arrays(items: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    return {
        "grade": np.array([grade(i) for i in items]),
        "value": np.array([r["value"] for r in rows], dtype=float),
        "band": np.array([r["band"] for r in rows]),
        "review": np.array([r["review"] for r in rows], dtype=bool),
    }


def metrics(a: dict[str, np.ndarray], pick: np.ndarray | None = None) -> dict[str, float]:
    grades, values, bands, review = (
        a[k] if pick is None else a[k][pick] for k in ("grade", "value", "band", "review")
    )
    full, zero = grades >= 0.999, grades <= 0.001
    great, bad = bands == "great", bands == "bad"

    def share(mask: np.ndarray, of: np.ndarray) -> float:
        return float(mask[of].mean()) if of.any() else float("nan")

    r = float(np.corrcoef(values, grades)[0, 1]) if values.std() > 0 and grades.std() > 0 else float("nan")
    return {
        "r": r,
        "full_bad": share(bad, full),
        "zero_great": share(great, zero),
        "great_precision": share(full, great),
        "bad_precision": share(zero, bad),
        "review": float(review.mean()),
        "wrong_flagged": share(wrong := (great & ~full) | (bad & ~zero), review),
        "wrong_unflagged": share(wrong, ~review),
    }


def intervals(items: list[dict[str, Any]], a: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """95% bootstrap intervals, resampling whole questions."""
    by_question: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        by_question[str(item["question_id"])].append(index)
    groups = [np.array(g) for g in by_question.values()]
    rng = np.random.default_rng(19)
    draws: dict[str, list[float]] = defaultdict(list)
    for _ in range(DRAWS):
        pick = np.concatenate([groups[g] for g in rng.integers(0, len(groups), len(groups))])
        for key, value in metrics(a, pick).items():
            if not np.isnan(value):
                draws[key].append(value)
    return {k: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) for k, v in draws.items()}


def report(name: str, scorer: str, items: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    a = arrays(items, rows)
    point, ci = metrics(a), intervals(items, a)

    def cell(key: str, pct: bool) -> str:
        lo, hi = ci.get(key, (float("nan"), float("nan")))
        f = (lambda x: f"{100 * x:.0f}%") if pct else (lambda x: f"{x:.2f}")
        return f"{f(point[key])} [{f(lo)}-{f(hi)}]"

    print(
        f"{name:40} {scorer:7} {len(items):5d}  r {cell('r', False):18} "
        f"full->Bad {cell('full_bad', True):15} zero->Great {cell('zero_great', True):15} "
        f"Great prec {cell('great_precision', True):15} Bad prec {cell('bad_precision', True):15} "
        f"review {100 * point['review']:.0f}% (band wrong: flagged {100 * point['wrong_flagged']:.0f}%, "
        f"not {100 * point['wrong_unflagged']:.0f}%)"
    )
    return {"set": name, "scorer": scorer, "n": len(items), **point, "ci": ci}


def fit(features: np.ndarray, labels: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Logistic regression by Newton's method (small ridge), intercept first."""
    x = np.c_[np.ones(len(features)), features]
    w = np.zeros(x.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-x @ w))
        g = x.T @ (p - labels) / len(labels) + l2 * np.r_[0, w[1:]]
        h = (x * (p * (1 - p))[:, None]).T @ x / len(labels) + l2 * np.eye(len(w))
        w -= np.linalg.solve(h, g)
    return w


def refit(cells: dict[str, list[dict[str, Any]]], rows: dict[str, list[dict[str, Any]]]) -> None:
    names = sorted(cells)
    x = np.array([r["features"] for n in names for r in rows[n]])
    y = np.array([float(grade(i) >= 0.999) for n in names for i in cells[n]])
    for label, cols in (("FULL", [0, 1, 2]), ("WORDS_ONLY", [0]), ("MEANING_ONLY", [1, 2])):
        print(f"{label} = {tuple(round(float(c), 2) for c in fit(x[:, cols], y))}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, action="append", default=[], help="more graded sets (JSONL)")
    parser.add_argument("--fit", action="store_true", help="print the calibration refitted on SemEval")
    parser.add_argument("--llm", default="", help="OpenAI-compatible base URL: also bench an LLM scorer")
    parser.add_argument("--llm-model", default="local")
    parser.add_argument("--json-mode", default="json_schema", choices=("json_schema", "json_object"))
    parser.add_argument("--limit", type=int, default=0, help="at most this many items per set (LLM runs)")
    parser.add_argument("--review-gap", type=float, default=meaning.REVIEW_GAP, help="try another review gap")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "scoring.json")
    args = parser.parse_args()
    meaning.REVIEW_GAP = args.review_gap
    sets = {name: items for name, items in load(SEMEVAL).items()}
    semeval = set(sets)
    for path in args.data or sorted(HELD_OUT.glob("*/items.jsonl")):
        sets.update(load(path))
    results, rows, all_times = [], {}, []
    for name in sorted(sets):
        items = sets[name][: args.limit] if args.limit else sets[name]
        rows[name], times = offline_rows(items)
        all_times += times
        results.append(report(name, "offline", items, rows[name]))
        if args.llm:
            scorer = LlmScorer(base_url=args.llm, model=args.llm_model, json_mode=args.json_mode)
            results.append(report(name, "llm", items, asyncio.run(llm_rows(items, scorer))))
    timing = _timing(all_times)
    print(f"offline: {timing['median_ms']:.1f} ms median, {timing['p95_ms']:.1f} ms p95 per answer "
          f"({len(all_times)} answers, one thread)")  # fmt: skip
    if args.fit:
        refit({n: sets[n] for n in semeval}, rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"results": results, "timing": timing}, indent=2))
    print(f"wrote {args.out}")
    return 0


def _timing(times: Sequence[float]) -> dict[str, float]:
    ordered = sorted(times)
    pick: Callable[[float], float] = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"median_ms": statistics.median(ordered), "p95_ms": pick(0.95), "max_ms": ordered[-1]}


if __name__ == "__main__":
    raise SystemExit(main())
