"""The media path's processes run numpy's BLAS on one thread (media/blas_threads.py)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import numpy, threadpoolctl
from milo_voice.media.blas_threads import one_blas_thread
before = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
one_blas_thread()
one_blas_thread()
after = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
print(before, after)
"""


def test_one_blas_thread_limits_every_blas_pool_of_the_process_to_one_thread() -> None:
    env = {"OPENBLAS_NUM_THREADS": "2", "PATH": "/usr/bin:/bin"}  # two threads, whatever this machine has
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    before, after = done.stdout.strip().split("] [")
    assert "2" in before  # numpy's BLAS started with two threads
    assert after.strip("[]") and set(after.strip("[]").split(", ")) == {"1"}
