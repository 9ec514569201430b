"""Resume-screen benchmark: `screen_resume` (offline) over every PDF of a folder, against two rubrics.

Each PDF of the folder (default ../shared/data/resumes, `--dir`) is read as intake reads an upload
(`read_document`, pypdf plain text; not timed), then screened against a software-engineer rubric
(a scored criterion: Python, SQL, web services; a pass/fail CS degree; a "Python" dealbreaker;
pass score 50) and a veterinarian rubric (one scored criterion, pass score 50). Per resume and
rubric it prints the score, the decision (pass / fail / person: a recruiter decides / knocked out),
the number of evidence quotes, and whether every quote is a verbatim span of the resume's text
(whitespace collapsed). Time per resume: each screen is repeated `--repeats` times (default 5) in one
event loop; a resume's time is the median of its repeats; the median and p90 over the resumes are
printed per rubric, with the machine. A scanned resume (no text) returns at once and is timed too.

    .venv/bin/python bench/resume_screen.py
    .venv/bin/python bench/resume_screen.py --dir /path/to/resumes --repeats 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from milo_voice.intake.document_text import UnreadableDocument, read_document
from milo_voice.scoring.rubric import Criterion, CriterionKind, QuestionRubric
from milo_voice.stages.resume_screen import MAX_CHARS, screen_resume
from milo_voice.stages.types import ResumeSpec, StageOutcome, StageSpec
from milo_voice.store.tables import StageKind

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "resumes"
SOFTWARE = StageSpec(kind=StageKind.RESUME, pass_score=50, resume=ResumeSpec(
    requirements="Backend software engineer: Python, SQL, web services.",
    rubric=QuestionRubric(criteria=(
        Criterion(id="stack", name="Python, SQL and web services",
                  anchors={1: "no programming experience",
                           5: "builds web services and REST APIs in Python with SQL databases"}),
        Criterion(id="degree", name="Computer science degree", kind=CriterionKind.PASS_FAIL,
                  anchors={5: "a degree in computer science"}),
        Criterion(id="python", name="Knows Python", kind=CriterionKind.DEALBREAKER, required_answer="Python"),
    )),
))
VETERINARY = StageSpec(kind=StageKind.RESUME, pass_score=50, resume=ResumeSpec(
    requirements="Veterinarian for a small-animal clinic.",
    rubric=QuestionRubric(criteria=(
        Criterion(id="vet", name="Veterinary medicine",
                  anchors={1: "no animal care", 5: "doctor of veterinary medicine treating animals"}),
    )),
))
RUBRICS = {"software engineer": SOFTWARE, "veterinarian": VETERINARY}


def texts(folder: Path) -> dict[str, str]:
    """Resume text by file name, read as intake reads an upload ("" when unreadable or scanned)."""
    found: dict[str, str] = {}
    for path in sorted(folder.glob("*.pdf")):
        try:
            found[path.name] = read_document(path.read_bytes(), path.name).text
        except UnreadableDocument:
            found[path.name] = ""
    return found


def decision(outcome: StageOutcome) -> str:
    if outcome.knocked_out:
        return "knocked out"
    return {True: "pass", False: "fail", None: "person"}[outcome.passed]


def verbatim(outcome: StageOutcome, text: str) -> bool:
    flat = " ".join(text[:MAX_CHARS].split())
    return all(e.quote and e.quote in flat for e in outcome.evidence)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (`share` in 0..1)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


async def bench(resumes: dict[str, str], repeats: int) -> int:
    bad = 0
    for title, spec in RUBRICS.items():
        print(f"\n{title} (pass score {spec.pass_score}):")
        print(f"  {'resume':16} {'chars':>6} {'score':>6} {'decision':12} {'quotes':>6} {'verbatim':8} "
              f"{'ms':>6}")
        times: list[float] = []
        for name, text in resumes.items():
            runs: list[float] = []
            for _ in range(repeats):
                start = time.perf_counter()
                outcome = await screen_resume(text, spec)
                runs.append((time.perf_counter() - start) * 1000)
            ms = statistics.median(runs)
            times.append(ms)
            same = verbatim(outcome, text)
            bad += not same
            score = "-" if outcome.score is None else f"{outcome.score:g}"
            print(f"  {name:16} {len(text):>6} {score:>6} {decision(outcome):12} {len(outcome.evidence):>6} "
                  f"{'yes' if same else 'NO':8} {ms:>6.2f}")
        print(f"  ms per resume: median {statistics.median(times):.2f}, p90 {percentile(times, 0.9):.2f}, "
              f"max {max(times):.2f} ({len(times)} resumes, median of {repeats} repeats each)")
    return bad


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=DATA)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    resumes = texts(args.dir)
    if not resumes:
        print(f"no PDF in {args.dir}", file=sys.stderr)
        return 2
    print(f"resume screen (offline scorer): {len(resumes)} PDFs in {args.dir}; {platform.platform()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    bad = asyncio.run(bench(resumes, max(1, args.repeats)))
    print(f"\nquotes not verbatim: {bad} screen(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
