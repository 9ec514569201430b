"""Rate limits on the candidate's privacy page (issue 20 item 3): data downloads and erasure emails.

A download builds a ZIP with every recording of the candidate (CPU, disk); an erasure request sends an
email to the address on file. Both are bounded per candidate link and per client address, in memory
and per process, on the app's clock, like the other public limits (`public_limits.py`, whose sliding
window this reuses; addresses keyed as there: IPv4, or an IPv6 /64). A refused request is not counted.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from milo_voice.workspace.login_throttle import address_key
from milo_voice.workspace.public_limits import SlidingWindow

DOWNLOADS_PER_CANDIDATE = 5
"""Downloads of one candidate's data within `WINDOW_S`."""
ERASURE_EMAILS_PER_CANDIDATE = 3
"""Confirmation emails one candidate may ask for within `WINDOW_S`."""
PER_ADDRESS = 20
"""Downloads and erasure requests together from one client address within `WINDOW_S`."""
WINDOW_S = 3600.0


@dataclass(frozen=True, slots=True)
class Wait:
    reason: str
    """download_candidate, email_candidate or address."""
    retry_after: int
    """Whole seconds (the Retry-After header)."""


class PrivacyLimits:
    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self.downloads = SlidingWindow(DOWNLOADS_PER_CANDIDATE, WINDOW_S)
        self.emails = SlidingWindow(ERASURE_EMAILS_PER_CANDIDATE, WINDOW_S)
        self.addresses = SlidingWindow(PER_ADDRESS, WINDOW_S)
        self._lock = threading.Lock()

    def download(self, candidate_id: int, host: str) -> Wait | None:
        """Check and count one download; a `Wait` when refused."""
        return self._take(self.downloads, "download_candidate", str(candidate_id), host)

    def erasure_email(self, candidate_id: int, host: str) -> Wait | None:
        """Check and count one erasure request (one confirmation email)."""
        return self._take(self.emails, "email_candidate", str(candidate_id), host)

    def _take(self, window: SlidingWindow, reason: str, key: str, host: str) -> Wait | None:
        address = address_key(host) or "unknown"
        with self._lock:
            now = self.now()
            waits = [(reason, window.wait(key, now)), ("address", self.addresses.wait(address, now))]
            which, longest = max(waits, key=lambda pair: pair[1])
            if longest > 0:
                return Wait(which, max(1, math.ceil(longest)))
            window.record(key, now)
            self.addresses.record(address, now)
        return None
