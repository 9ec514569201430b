"""One BLAS thread in each process that serves calls.

numpy's OpenBLAS starts a thread per core and, after a matrix product, keeps them spinning for a
while in case more work comes. The media path's products are small (the mel filter bank of Whisper's
and Smart Turn's features, Piper's vocoder glue), so the extra threads save a millisecond of wall time
and spend tens of milliseconds of CPU that the next model needs: measured on a 2-core machine,
Smart Turn's `predict` cost 187 ms of CPU for 96 ms of wall time with OpenBLAS's default threads, and
108 ms for 108 ms with one. The models' own runtimes (CTranslate2, onnxruntime) keep their own
thread settings (`MILO_ASR_THREADS`; one intra-op thread for Smart Turn).

`threadpoolctl` (maintained by the scikit-learn developers) sets the limit in a running process,
whichever BLAS numpy was built with, so it holds even where numpy was imported before the setting.
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits

BLAS_THREADS = 1
_limiter: object | None = None
"""Kept so that the limit is never restored while the process runs."""


def one_blas_thread() -> None:
    """Limit this process's BLAS libraries to BLAS_THREADS threads (idempotent)."""
    global _limiter
    if _limiter is None:
        _limiter = threadpool_limits(limits=BLAS_THREADS, user_api="blas")
