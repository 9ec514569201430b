"""Login throttling: failed sign-ins counted per account and per client address, then a cooling period.

Pure and clock-driven (`now` returns seconds); no storage, no HTTP. The login page asks `check`
before it verifies a password (a refused attempt never reaches the password check, so even the
right password is refused during a lock), reports each wrong password with `failed`, and a
success with `succeeded` (which clears the account's count, not the address's: one valid account
must not reset an attacker's address).

Counts live in memory, per process. Several server processes each keep their own counts, so an
attacker spread over N processes gets at most N times the limits below; that is still a fixed
bound (N x 10 guesses per account every cooling period) instead of the unbounded rate of a server
without throttling, and a restart forgets the counts (a restart is not something an attacker can
trigger from outside). Memory is bounded: at most `max_keys` entries per kind, stale ones dropped.
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

ACCOUNT_FAILURES = 10
"""Wrong passwords per account within `WINDOW_S` before the account is locked (the 11th is refused)."""
ADDRESS_FAILURES = 30
"""Wrong passwords from one client address (an IPv6 /64) within `WINDOW_S` before it is locked."""
WINDOW_S = 60.0
"""The sliding window the failures are counted in (seconds)."""
COOLDOWN_S = 300.0
"""How long a locked account or address is refused (seconds): at most 10 guesses per account in
about six minutes, some 2,400 a day, instead of the ~570,000 a day the probe managed."""
MAX_KEYS = 50_000
"""Most accounts (and, separately, addresses) remembered; beyond it the stalest unlocked entry goes."""
IPV6_PREFIX = 64
"""IPv6 clients are counted by network: one host commonly holds a whole /64."""

Reason = Literal["account", "address"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an attempt is refused, and in how many whole seconds to try again (`Retry-After`)."""

    reason: Reason
    retry_after: int


@dataclass(slots=True)
class _Count:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


def account_key(email: str) -> str:
    """The account a login names: its email as stored (trimmed, lower-cased)."""
    return email.strip().lower()[:320]


def address_key(host: str) -> str:
    """The client address a login came from: an IPv4 address, an IPv6 /64, or the host as given."""
    try:
        address = ipaddress.ip_address(host.strip())
    except ValueError:
        return host.strip()[:100] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


class _Counter:
    """Failures of one kind of key (accounts or addresses) in a sliding window, and their locks."""

    def __init__(self, limit: int, window: float, cooldown: float, max_keys: int) -> None:
        self.limit, self.window, self.cooldown, self.max_keys = limit, window, cooldown, max_keys
        self.counts: OrderedDict[str, _Count] = OrderedDict()

    def locked(self, key: str, now: float) -> float:
        """Seconds left of the key's lock (0 when not locked)."""
        count = self.counts.get(key)
        return max(0.0, count.locked_until - now) if count is not None else 0.0

    def fail(self, key: str, now: float) -> float:
        """Count a failure; the seconds of the lock it starts (0 when it starts none)."""
        count = self.counts.pop(key, None) or _Count()
        self.counts[key] = count  # most recently used last
        while count.failures and count.failures[0] <= now - self.window:
            count.failures.popleft()
        count.failures.append(now)
        self._trim(now)
        if len(count.failures) >= self.limit and count.locked_until <= now:
            count.locked_until = now + self.cooldown
            count.failures.clear()  # after the cooling period the account starts afresh
            return self.cooldown
        return 0.0

    def clear(self, key: str) -> None:
        self.counts.pop(key, None)

    def _trim(self, now: float) -> None:
        if len(self.counts) <= self.max_keys:
            return
        for key in [k for k, c in self.counts.items() if self._stale(c, now)]:
            del self.counts[key]
        unlocked = [k for k, c in self.counts.items() if c.locked_until <= now]
        for key in unlocked[: len(self.counts) - self.max_keys]:
            del self.counts[key]  # the least recently failed unlocked keys first

    def _stale(self, count: _Count, now: float) -> bool:
        recent = bool(count.failures) and count.failures[-1] > now - self.window
        return not recent and count.locked_until <= now


class LoginThrottle:
    """Failed logins per account and per client address; refuses both kinds once over their limit."""

    def __init__(
        self,
        now: Callable[[], float],
        *,
        account_failures: int = ACCOUNT_FAILURES,
        address_failures: int = ADDRESS_FAILURES,
        window_s: float = WINDOW_S,
        cooldown_s: float = COOLDOWN_S,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.now = now
        self.accounts = _Counter(account_failures, window_s, cooldown_s, max_keys)
        self.addresses = _Counter(address_failures, window_s, cooldown_s, max_keys)
        self._lock = threading.Lock()

    def check(self, email: str, host: str) -> Refusal | None:
        """None if this login may be tried now, else why not and for how long."""
        now = self.now()
        with self._lock:
            account = self.accounts.locked(account_key(email), now)
            address = self.addresses.locked(address_key(host), now)
        if account <= 0 and address <= 0:
            return None
        reason: Reason = "account" if account >= address else "address"
        return Refusal(reason, max(1, math.ceil(max(account, address))))

    def failed(self, email: str, host: str) -> Refusal | None:
        """Count a wrong password; the lock it starts, if it starts one (the next attempt is refused)."""
        now = self.now()
        with self._lock:
            account = self.accounts.fail(account_key(email), now)
            address = self.addresses.fail(address_key(host), now)
        if account <= 0 and address <= 0:
            return None
        reason: Reason = "account" if account >= address else "address"
        return Refusal(reason, max(1, math.ceil(max(account, address))))

    def succeeded(self, email: str) -> None:
        """The right password: the account's count starts again (the address's does not)."""
        with self._lock:
            self.accounts.clear(account_key(email))
