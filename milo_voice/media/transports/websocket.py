"""The smallest websocket a transport needs: text in, text out, close with a reason.

Transports in `media/` take this protocol so they never import a web framework; `web/` adapts
Starlette's `WebSocket` to it, tests and benchmarks can adapt a `websockets` connection.
"""

from __future__ import annotations

from typing import Protocol


class MessageSocket(Protocol):
    async def receive(self) -> str | bytes | None:
        """The next message; None once the peer has gone (closed or dropped)."""
        ...

    async def send(self, text: str) -> None:
        """Send one text message; raises `TransportClosed` if the peer has gone."""
        ...

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close with a status code and a short human-readable reason; idempotent."""
        ...
