"""How much a Twilio stream may misbehave, and the message budget that detects a flood.

`MessageBudget` is a token bucket, pure and clock-driven: each message costs one token, tokens
come back at `max_rate` per second up to `burst`, and a message with no token left is a flood.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """How much a stream may misbehave, and how outbound audio is paced."""

    mark_every: int = 5
    """Outbound frames per mark (5 = 100 ms): the resolution of "what was heard"."""
    lead: float = 0.1
    """Seconds of audio sent ahead of real time: covers network jitter, bounds what `clear` must drop."""
    max_rate: float = 200.0
    """Messages per second a caller may send on average (Twilio: 50 media + a few marks/dtmf)."""
    burst: int = 400
    """Messages a caller may send at once above `max_rate` (a network hiccup delivers a backlog)."""
    max_bad_messages: int = 20
    """Malformed messages skipped before the stream is closed as not-Twilio."""
    handshake_timeout: float = 10.0
    """Seconds to wait for `start` after the websocket opened."""
    max_backlog: int = 500
    """Inbound frames buffered for a consumer that is behind (10 s); older ones are dropped."""
    max_gap_fill: float = 1.0
    """Longest silence (s) inserted where Twilio's timestamps show lost media."""


class MessageBudget:
    """A token bucket over the time each message arrived (seconds of any monotonic clock)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.at = 0.0

    def take(self, now: float) -> bool:
        """Spend one token for a message arriving at `now`; False when the bucket was empty."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        self.tokens -= 1.0
        return self.tokens >= 0.0
