"""bench/ingest_batch.py at a small size: a ZIP of 4 resumes read by the real reader into a batch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ingest_batch.py"


def test_the_batch_bench_reads_every_resume_and_reports_its_rate() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--resumes", "4"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "4 resumes in one ZIP" in done.stdout and "4 review rows (0 unreadable)" in done.stdout
