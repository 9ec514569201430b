"""The retention job as `milo-voice serve` runs it: one background thread that sweeps once at start,
then every `interval` seconds (`MILO_RETENTION_INTERVAL_S`, 3600). The sweep's database and file
work stays off the server's event loop; a failed round is logged and the next one retries, the
thread (and the server) carry on. The sweep itself carries the clock (`RetentionSweep(now=...)`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class RetentionWorker:
    sweep: Callable[[], object]
    """One round (`RetentionSweep.run`)."""
    interval: float = 3600.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the round under way (if any)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> bool:
        """One round; False when it failed (logged with its traceback, retried next round)."""
        try:
            self.sweep()
        except Exception:  # a bad round must not end the worker or the server
            log.exception("retention.round_failed", extra={"retry_in_s": self.interval})
            return False
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval)
