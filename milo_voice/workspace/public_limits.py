"""Rate limits on the public candidate endpoints: sign-ups through a share link, WebRTC offers, and
live browser calls, counted per client address (and sign-ups also per link).

Pure and clock-driven (`now` returns seconds); no storage, no HTTP. The share page asks
`signup_check` before it reads the form and `signup` (check and count, atomically) just before it
creates the candidate; the offer endpoint asks `offer` before anything else (before the link is even
looked up) and `start_call` before it builds a new call's transport, and `end_call` when that call
is over. A refused request is not counted.

Client addresses are keyed as the login throttle keys them (`login_throttle.address_key`: an IPv4
address, an IPv6 /64). Counts live in memory, per process, like the login throttle's: N server
processes allow at most N times the limits below, and a restart forgets them. Memory is bounded:
at most `max_keys` keys per window, stale ones dropped first.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from milo_voice.workspace.login_throttle import address_key

SIGNUPS_PER_ADDRESS = 5
"""Candidates one client address may create through share links within `SIGNUP_ADDRESS_WINDOW_S`."""
SIGNUP_ADDRESS_WINDOW_S = 600.0
"""The sliding window of `SIGNUPS_PER_ADDRESS` (10 minutes)."""
SIGNUPS_PER_LINK = 200
"""Candidates one share link may create, from all addresses together, within `SIGNUP_LINK_WINDOW_S`."""
SIGNUP_LINK_WINDOW_S = 3600.0
"""The sliding window of `SIGNUPS_PER_LINK` (an hour)."""
OFFERS_PER_ADDRESS = 10
"""WebRTC offers (call starts and reconnects, any link) from one client address within `OFFER_WINDOW_S`."""
OFFER_WINDOW_S = 60.0
"""The sliding window of `OFFERS_PER_ADDRESS` (a minute)."""
LIVE_CALLS_PER_ADDRESS = 2
"""Live browser calls (on different links) one client address may hold at once on this process."""
LIVE_RETRY_S = 30
"""The Retry-After of a refusal for too many live calls (no window: a call ends when it ends)."""
MAX_KEYS = 50_000
"""Most keys remembered per window; beyond it stale keys go, then the least recently counted."""

Reason = Literal["signup_address", "signup_link", "offer_address", "live_calls"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is refused, and in how many whole seconds to try again (`Retry-After`)."""

    reason: Reason
    retry_after: int


class SlidingWindow:
    """At most `limit` events per key in any `window` seconds."""

    def __init__(self, limit: int, window: float, max_keys: int = MAX_KEYS) -> None:
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self.events: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, key: str, now: float) -> float:
        """Seconds until one more event of `key` is allowed (0: allowed now)."""
        events = self.events.get(key)
        if events is None:
            return 0.0
        self._prune(events, now)
        if len(events) < self.limit:
            return 0.0
        return max(0.0, events[len(events) - self.limit] + self.window - now)

    def record(self, key: str, now: float) -> None:
        events = self.events.pop(key, None) or deque()
        self.events[key] = events  # most recently counted last
        self._prune(events, now)
        events.append(now)
        self._trim(now)

    def _prune(self, events: deque[float], now: float) -> None:
        while events and events[0] <= now - self.window:
            events.popleft()

    def _trim(self, now: float) -> None:
        if len(self.events) <= self.max_keys:
            return
        for key in [k for k, e in self.events.items() if not e or e[-1] <= now - self.window]:
            del self.events[key]
        for key in list(self.events)[: max(0, len(self.events) - self.max_keys)]:
            del self.events[key]


def _refusal(waits: list[tuple[Reason, float]]) -> Refusal | None:
    """The refusal of the longest non-zero wait, or None when nothing waits."""
    reason, longest = max(waits, key=lambda pair: pair[1])
    return Refusal(reason, max(1, math.ceil(longest))) if longest > 0 else None


class PublicLimits:
    """The limits of the public candidate endpoints, on one clock; thread-safe."""

    def __init__(
        self,
        now: Callable[[], float],
        *,
        signups_per_address: int = SIGNUPS_PER_ADDRESS,
        signup_address_window_s: float = SIGNUP_ADDRESS_WINDOW_S,
        signups_per_link: int = SIGNUPS_PER_LINK,
        signup_link_window_s: float = SIGNUP_LINK_WINDOW_S,
        offers_per_address: int = OFFERS_PER_ADDRESS,
        offer_window_s: float = OFFER_WINDOW_S,
        live_calls_per_address: int = LIVE_CALLS_PER_ADDRESS,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.now = now
        self.signup_addresses = SlidingWindow(signups_per_address, signup_address_window_s, max_keys)
        self.signup_links = SlidingWindow(signups_per_link, signup_link_window_s, max_keys)
        self.offers = SlidingWindow(offers_per_address, offer_window_s, max_keys)
        self.live_calls_per_address = live_calls_per_address
        self.live: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def _signup_waits(self, address: str, link: str, now: float) -> list[tuple[Reason, float]]:
        return [
            ("signup_address", self.signup_addresses.wait(address, now)),
            ("signup_link", self.signup_links.wait(link, now)),
        ]

    def signup_check(self, host: str, link: str) -> Refusal | None:
        """Would a sign-up from `host` through `link` be refused now? (Counts nothing.)"""
        now, address = self.now(), address_key(host)
        with self._lock:
            return _refusal(self._signup_waits(address, link, now))

    def signup(self, host: str, link: str) -> Refusal | None:
        """A sign-up from `host` through `link`: counted and None if allowed, else the refusal."""
        now, address = self.now(), address_key(host)
        with self._lock:
            refusal = _refusal(self._signup_waits(address, link, now))
            if refusal is None:
                self.signup_addresses.record(address, now)
                self.signup_links.record(link, now)
        return refusal

    def offer(self, host: str) -> Refusal | None:
        """A WebRTC offer from `host`: counted and None if allowed, else the refusal."""
        now, address = self.now(), address_key(host)
        with self._lock:
            refusal = _refusal([("offer_address", self.offers.wait(address, now))])
            if refusal is None:
                self.offers.record(address, now)
        return refusal

    def start_call(self, host: str, token: str) -> Refusal | None:
        """Reserve a live call on `token` for `host`; refused when the address holds too many already."""
        address = address_key(host)
        with self._lock:
            calls = self.live.setdefault(address, set())
            if token not in calls and len(calls) >= self.live_calls_per_address:
                return Refusal("live_calls", LIVE_RETRY_S)
            calls.add(token)
        return None

    def end_call(self, host: str, token: str) -> None:
        """The call on `token` is over (or never started): its place is free again."""
        address = address_key(host)
        with self._lock:
            calls = self.live.get(address)
            if calls is not None:
                calls.discard(token)
                if not calls:
                    del self.live[address]

    def live_calls(self, host: str) -> int:
        with self._lock:
            return len(self.live.get(address_key(host), ()))
