"""The login throttle on a fake clock: failures per account and per address in a sliding window, a
cooling period with Retry-After, a success clearing only the account, and bounded memory."""

from __future__ import annotations

import pytest

from milo_voice.workspace.login_throttle import (
    ACCOUNT_FAILURES,
    ADDRESS_FAILURES,
    COOLDOWN_S,
    WINDOW_S,
    LoginThrottle,
    Refusal,
    address_key,
)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def throttle(clock: FakeClock) -> LoginThrottle:
    return LoginThrottle(clock)


def fail(throttle: LoginThrottle, times: int, email: str = "ada@example.com", host: str = "10.0.0.1") -> None:
    for _ in range(times):
        assert throttle.check(email, host) is None
        throttle.failed(email, host)


def test_the_constants_are_the_documented_ones() -> None:
    assert (ACCOUNT_FAILURES, ADDRESS_FAILURES, WINDOW_S, COOLDOWN_S) == (10, 30, 60.0, 300.0)


def test_the_eleventh_attempt_in_a_minute_is_refused_for_the_cooling_period(
    throttle: LoginThrottle, clock: FakeClock
) -> None:
    for _ in range(ACCOUNT_FAILURES - 1):
        assert throttle.check("ada@example.com", "10.0.0.1") is None
        assert throttle.failed("ada@example.com", "10.0.0.1") is None
        clock.advance(1.0)
    assert throttle.failed("ada@example.com", "10.0.0.1") == Refusal("account", int(COOLDOWN_S))
    assert throttle.check("ada@example.com", "10.0.0.1") == Refusal("account", 300)
    clock.advance(120.4)
    # the email is normalised, and the lock holds from any address
    assert throttle.check("ADA@example.com ", "10.9.9.9") == Refusal("account", 180)
    clock.advance(180.0)
    assert throttle.check("ada@example.com", "10.0.0.1") is None
    fail(throttle, ACCOUNT_FAILURES - 1)  # after the lock the count starts afresh
    assert throttle.check("ada@example.com", "10.0.0.1") is None


def test_failures_older_than_the_window_do_not_count(throttle: LoginThrottle, clock: FakeClock) -> None:
    for _ in range(ACCOUNT_FAILURES * 3):
        assert throttle.check("ada@example.com", "10.0.0.1") is None
        throttle.failed("ada@example.com", "10.0.0.1")
        clock.advance(WINDOW_S / (ACCOUNT_FAILURES - 1) + 0.01)  # nine failures a minute never lock


def test_a_success_clears_the_account_but_not_the_address(throttle: LoginThrottle) -> None:
    fail(throttle, ACCOUNT_FAILURES - 1)
    throttle.succeeded("ada@example.com")
    fail(throttle, ACCOUNT_FAILURES - 1)
    assert throttle.check("ada@example.com", "10.0.0.1") is None
    for n in range(ADDRESS_FAILURES - 2 * (ACCOUNT_FAILURES - 1)):
        fail(throttle, 1, email=f"other{n}@example.com")
    assert throttle.check("ada@example.com", "10.0.0.1") == Refusal("address", 300)


def test_an_address_is_locked_after_thirty_failures_across_accounts(
    throttle: LoginThrottle, clock: FakeClock
) -> None:
    for n in range(ADDRESS_FAILURES - 1):
        fail(throttle, 1, email=f"user{n}@example.com")
    assert throttle.failed("last@example.com", "10.0.0.1") == Refusal("address", 300)
    refused = throttle.check("new@example.com", "10.0.0.1")
    assert refused == Refusal("address", 300)
    assert throttle.check("new@example.com", "10.0.0.2") is None  # another address may still try
    clock.advance(COOLDOWN_S)
    assert throttle.check("new@example.com", "10.0.0.1") is None


def test_an_ipv6_client_is_counted_by_its_slash_64() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key(" 192.0.2.7") == "192.0.2.7"
    assert address_key("testclient") == "testclient" and address_key("") == "unknown"


def test_retry_after_is_whole_seconds_and_never_zero(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock, account_failures=1, cooldown_s=2.5)
    assert throttle.failed("a@example.com", "h") == Refusal("account", 3)
    clock.advance(2.4)
    assert throttle.check("a@example.com", "h") == Refusal("account", 1)
    clock.advance(0.2)
    assert throttle.check("a@example.com", "h") is None


def test_memory_is_bounded_and_locked_accounts_are_kept(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock, account_failures=2, address_failures=10_000, max_keys=50)
    fail(throttle, 2, email="victim@example.com")
    assert throttle.check("victim@example.com", "h") is not None
    for n in range(500):
        throttle.failed(f"spray{n}@example.com", f"10.1.{n // 250}.{n % 250}")
    assert len(throttle.accounts.counts) <= 51 and len(throttle.addresses.counts) <= 51
    assert throttle.check("victim@example.com", "elsewhere") is not None  # flooding does not unlock it
    clock.advance(WINDOW_S + 1)
    throttle.failed("one-more@example.com", "h")
    assert len(throttle.accounts.counts) <= 51
