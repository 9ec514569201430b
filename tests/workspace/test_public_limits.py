"""The public candidate endpoints' limits (`workspace/public_limits.py`) on a fake clock."""

from __future__ import annotations

from milo_voice.workspace.public_limits import (
    LIVE_CALLS_PER_ADDRESS,
    LIVE_RETRY_S,
    OFFER_WINDOW_S,
    OFFERS_PER_ADDRESS,
    SIGNUP_ADDRESS_WINDOW_S,
    SIGNUP_LINK_WINDOW_S,
    SIGNUPS_PER_ADDRESS,
    PublicLimits,
    Refusal,
    SlidingWindow,
)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def test_the_documented_constants() -> None:
    assert (SIGNUPS_PER_ADDRESS, SIGNUP_ADDRESS_WINDOW_S) == (5, 600.0)
    assert (OFFERS_PER_ADDRESS, OFFER_WINDOW_S, LIVE_CALLS_PER_ADDRESS) == (10, 60.0, 2)


def test_the_sixth_signup_from_one_address_waits_for_the_oldest_to_leave_the_window() -> None:
    clock = FakeClock()
    limits = PublicLimits(clock)
    for _ in range(SIGNUPS_PER_ADDRESS):
        assert limits.signup("203.0.113.7", "interview:1") is None
        clock.t += 60
    assert limits.signup_check("203.0.113.7", "interview:2") == Refusal("signup_address", 300)
    assert limits.signup("203.0.113.7", "interview:1") == Refusal("signup_address", 300)
    assert limits.signup("203.0.113.8", "interview:1") is None  # another address
    clock.t += 300  # the first sign-up leaves the window; one place is free
    assert limits.signup("203.0.113.7", "interview:1") is None
    assert limits.signup("203.0.113.7", "interview:1") == Refusal("signup_address", 60)


def test_refused_and_checked_signups_are_not_counted() -> None:
    clock = FakeClock()
    limits = PublicLimits(clock, signups_per_address=2)
    for _ in range(2):
        assert limits.signup("198.51.100.1", "l") is None
    for _ in range(50):
        assert limits.signup("198.51.100.1", "l") is not None
        assert limits.signup_check("198.51.100.2", "l") is None
    clock.t += SIGNUP_ADDRESS_WINDOW_S
    assert limits.signup("198.51.100.1", "l") is None


def test_a_link_is_limited_across_addresses_and_a_refusal_counts_nothing() -> None:
    clock = FakeClock()
    limits = PublicLimits(clock, signups_per_link=3)
    for n in range(3):
        assert limits.signup(f"192.0.2.{n}", "interview:9") is None
    refusal = limits.signup("192.0.2.50", "interview:9")
    assert refusal == Refusal("signup_link", int(SIGNUP_LINK_WINDOW_S))
    assert limits.signup("192.0.2.50", "interview:10") is None  # other links are open
    assert limits.signup_addresses.wait("192.0.2.50", clock.t) == 0  # the refused one was not counted


def test_ipv6_clients_are_counted_by_their_slash_64() -> None:
    limits = PublicLimits(FakeClock(), signups_per_address=1)
    assert limits.signup("2001:db8:1:2::1", "l") is None
    assert limits.signup("2001:db8:1:2:ffff::9", "l") is not None
    assert limits.signup("2001:db8:1:3::1", "l") is None


def test_offers_are_limited_per_address_per_minute() -> None:
    clock = FakeClock()
    limits = PublicLimits(clock)
    for _ in range(OFFERS_PER_ADDRESS):
        assert limits.offer("10.0.0.1") is None
    assert limits.offer("10.0.0.1") == Refusal("offer_address", int(OFFER_WINDOW_S))
    assert limits.offer("10.0.0.2") is None
    clock.t += OFFER_WINDOW_S - 1
    assert limits.offer("10.0.0.1") == Refusal("offer_address", 1)
    clock.t += 1
    assert limits.offer("10.0.0.1") is None


def test_live_calls_per_address_are_capped_and_freed_when_they_end() -> None:
    limits = PublicLimits(FakeClock())
    assert limits.start_call("10.0.0.1", "a") is None and limits.start_call("10.0.0.1", "b") is None
    assert limits.start_call("10.0.0.1", "a") is None  # the same link again: not a new call
    assert limits.start_call("10.0.0.1", "c") == Refusal("live_calls", LIVE_RETRY_S)
    assert limits.start_call("10.0.0.2", "c") is None
    limits.end_call("10.0.0.1", "a")
    limits.end_call("10.0.0.1", "unknown")  # harmless
    assert limits.live_calls("10.0.0.1") == 1
    assert limits.start_call("10.0.0.1", "c") is None
    for token in ("b", "c"):
        limits.end_call("10.0.0.1", token)
    assert limits.live == {"10.0.0.2": {"c"}}


def test_memory_is_bounded_stale_keys_first() -> None:
    window = SlidingWindow(limit=1, window=10.0, max_keys=3)
    window.record("old", 0.0)
    for n, key in enumerate(("a", "b", "c")):
        window.record(key, 20.0 + n)
    assert list(window.events) == ["a", "b", "c"]  # "old" was stale
    window.record("d", 30.0)
    assert list(window.events) == ["b", "c", "d"] and window.wait("d", 30.0) == 10.0
