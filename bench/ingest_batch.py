"""Bulk intake end to end at volume: one ZIP of N resumes (default 500, the dev PDFs repeated under
new names) read by the real background reader into a SQLite batch, as an upload is.

    .venv/bin/python bench/ingest_batch.py [--resumes 500] [--dir ../shared/data/resumes]

Prints resumes per second for the whole batch (unzip, type check, text, OCR of the scanned ones,
fields, storing each file and row), the peak memory of the process, and how the progress counter
moved (how many distinct values the review page could have shown).
"""

from __future__ import annotations

import argparse
import io
import platform
import resource
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from milo_voice.intake import upload_files
from milo_voice.intake.batches import IntakeBatches
from milo_voice.intake.reading import BatchReader
from milo_voice.store.db import create_engine, migrate

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "resumes"


def make_zip(folder: Path, count: int) -> bytes:
    pdfs = sorted(folder.glob("*.pdf"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(count):
            archive.write(pdfs[i % len(pdfs)], f"fair/{i:04d}-{pdfs[i % len(pdfs)].name}")
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resumes", type=int, default=500)
    parser.add_argument("--dir", type=Path, default=DATA)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root, url = Path(tmp) / "uploads", f"sqlite:///{tmp}/milo.db"
        migrate(url)
        batches = IntakeBatches(create_engine(url))
        batch = batches.create("bench", "files", ["fair.zip"], user_id=None)
        path = upload_files.incoming_path(root, batch, 0, "fair.zip")
        path.parent.mkdir(parents=True)
        path.write_bytes(make_zip(args.dir, args.resumes))
        seen: set[int] = set()
        done = threading.Event()

        def watch() -> None:  # what the progress endpoint would answer, polled as the page does
            while not done.is_set():
                seen.add(batches.get(batch).done)
                time.sleep(0.2)

        watcher = threading.Thread(target=watch)
        watcher.start()
        start = time.perf_counter()
        BatchReader(batches, root).read(batch)
        seconds = time.perf_counter() - start
        done.set()
        watcher.join()
        items = batches.items(batch)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.resumes} resumes in one ZIP: {seconds:.1f} s, {args.resumes / seconds:.1f} resumes/s; "
          f"{len(items)} review rows ({sum(1 for i in items if i.problem)} unreadable); "
          f"progress showed {len(seen)} distinct values; peak memory {peak_mb:.0f} MB; "
          f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
