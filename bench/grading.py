"""Agreement of the scorers with human graders on SemEval-2013 Task 7 (../shared/data/scoring/).

Per corpus and test set (never pooled), as the data's README asks: the AUC of the scorer's value
for correct vs not correct; accuracy and macro-F1 at the threshold that maximises accuracy on a
fixed 20% split (items whose id hashes below 20%), measured on the other 80%.

Each item becomes a one-criterion rubric whose full-marks anchor is the reference answer (the best
over Beetle's several references). The offline scorer's value is its coverage (its 1-5 score is
1 + round(4 x coverage)); the LLM scorer's value is its 1-5 score.

    .venv/bin/python bench/grading.py                      # offline scorer, all 7,093 items
    .venv/bin/python bench/grading.py --llm-url http://127.0.0.1:8080/v1 --llm-model NAME --limit 100
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from milo_voice.scoring.llm import LlmScorer  # noqa: E402
from milo_voice.scoring.rubric import Criterion, QuestionRubric  # noqa: E402
from milo_voice.scoring.scorer import QuestionInput  # noqa: E402
from milo_voice.scoring.word_match import best_coverage  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "scoring" / "semeval2013_task7" / "items.jsonl"
TFIDF_FLOORS = {
    ("sciEntsBank", "test-unseen-answers"): 0.709,
    ("sciEntsBank", "test-unseen-questions"): 0.729,
    ("sciEntsBank", "test-unseen-domains"): 0.741,
    ("beetle", "test-unseen-answers"): 0.791,
    ("beetle", "test-unseen-questions"): 0.661,
}


def auc(values: Sequence[float], labels: Sequence[bool]) -> float:
    """Mann-Whitney AUC with ties counted half."""
    ranked = sorted(zip(values, labels, strict=True))
    ranks = [0.0] * len(ranked)
    i = 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        for k in range(i, j):
            ranks[k] = (i + j + 1) / 2
        i = j
    pos = sum(1 for _, y in ranked if y)
    neg = len(ranked) - pos
    rank_sum = sum(r for r, (_, y) in zip(ranks, ranked, strict=True) if y)
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg) if pos and neg else float("nan")


def macro_f1(pred: Sequence[bool], gold: Sequence[bool]) -> float:
    scores = []
    for cls in (True, False):
        tp = sum(1 for p, g in zip(pred, gold, strict=True) if p == cls and g == cls)
        fp = sum(1 for p, g in zip(pred, gold, strict=True) if p == cls and g != cls)
        fn = sum(1 for p, g in zip(pred, gold, strict=True) if p != cls and g == cls)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / 2


def in_tuning_split(item_id: str) -> bool:
    return int(hashlib.sha256(item_id.encode()).hexdigest()[:8], 16) % 100 < 20


def threshold_metrics(values: list[float], labels: list[bool], ids: list[str]) -> tuple[float, float, float]:
    tune = [(v, y) for v, y, i in zip(values, labels, ids, strict=True) if in_tuning_split(i)]
    test = [(v, y) for v, y, i in zip(values, labels, ids, strict=True) if not in_tuning_split(i)]
    best_t, best_acc = 0.0, -1.0
    for t in sorted({v for v, _ in tune}):
        acc = sum((v >= t) == y for v, y in tune) / len(tune)
        if acc > best_acc:
            best_t, best_acc = t, acc
    pred = [v >= best_t for v, _ in test]
    gold = [y for _, y in test]
    return best_t, sum(p == g for p, g in zip(pred, gold, strict=True)) / len(test), macro_f1(pred, gold)


def references(item: dict[str, Any]) -> list[str]:
    return [r["text"] for r in item.get("reference_answers_all") or []] or [item["reference_answer"]]


def offline_value(item: dict[str, Any]) -> float:
    return best_coverage(item["answer"], references(item), item["question"]).value


async def llm_values(items: list[dict[str, Any]], scorer: LlmScorer) -> list[float]:
    values = []
    for item in items:
        criterion = Criterion(
            id="correct",
            name="The answer is correct and complete",
            anchors={1: "Wrong, contradictory or unrelated.", 3: "Partly right.", 5: references(item)[0]},
        )
        question = QuestionInput(
            0, item["question"], QuestionRubric(criteria=(criterion,)), (item["answer"],)
        )
        judgement = (await scorer.judge(question))[0]
        values.append(float(judgement.score or 0))
    return values


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--llm-url", default="", help="OpenAI-compatible base URL: also bench the LLM scorer")
    parser.add_argument("--llm-model", default="local")
    parser.add_argument("--json-mode", default="json_schema", choices=("json_schema", "json_object"))
    parser.add_argument("--limit", type=int, default=0, help="at most this many items per cell (LLM runs)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "scoring.json")
    args = parser.parse_args()
    cells: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for line in DATA.read_text().splitlines():
        item = json.loads(line)
        cells[(item["corpus"], item["test_set"])].append(item)
    scorers = ["offline"] + (["llm"] if args.llm_url else [])

    def llm() -> LlmScorer:  # one per event loop: its HTTP client belongs to the loop it runs on
        return LlmScorer(base_url=args.llm_url, model=args.llm_model, json_mode=args.json_mode)

    report = []
    print(f"{'corpus / test set':36} {'scorer':8} {'n':>5} {'AUC':>6} {'floor':>6} {'acc':>6} {'macroF1':>8}")
    for key in sorted(cells):
        items = cells[key][: args.limit] if args.limit else cells[key]
        labels = [i["label_3way"] == "correct" for i in items]
        ids = [i["id"] for i in items]
        for name in scorers:
            if name == "offline":
                values = [offline_value(i) for i in items]
            else:
                values = asyncio.run(llm_values(items, llm()))
            area = auc(values, labels)
            threshold, accuracy, f1 = threshold_metrics(values, labels, ids)
            row = {
                "corpus": key[0],
                "test_set": key[1],
                "scorer": name,
                "n": len(items),
                "auc": round(area, 3),
                "tfidf_floor_auc": TFIDF_FLOORS.get(key),
                "threshold": round(threshold, 3),
                "accuracy": round(accuracy, 3),
                "macro_f1": round(f1, 3),
            }
            report.append(row)
            floor = TFIDF_FLOORS.get(key, float("nan"))
            print(
                f"{key[0] + ' / ' + key[1]:36} {name:8} {len(items):5d} {area:6.3f} {floor:6.3f} "
                f"{accuracy:6.3f} {f1:8.3f}"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
