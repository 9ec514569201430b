"""uvicorn for `milo-voice serve`, with SIGTERM draining the node instead of stopping it at once.

The first SIGTERM begins the drain (`calls/capacity.py`): `/readyz` answers 503, new browser
calls get 503 and phone calls hear that the line is busy, while the live calls go on. Once none
is left, or `MILO_DRAIN_TIMEOUT_S` has passed (then the live calls are ended as a hang-up ends
them: each session stores its end and finalises its recording), uvicorn shuts down and `serve`
returns 0. A second SIGTERM, or SIGINT at any time, stops the server at once (uvicorn's own
handling, as before draining existed). Each step is logged with the seconds since the drain began.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import time
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from milo_voice.calls.capacity import Capacity

log = logging.getLogger(__name__)

POLL_S = 0.25
"""Seconds between two looks at the live calls while draining."""
PROGRESS_EVERY_S = 30.0
"""Seconds between two progress lines in the log while draining."""
END_WAIT_S = 30.0
"""Seconds the calls ended at the deadline get to store their end before the server stops anyway."""
GRACEFUL_SHUTDOWN_S = 15
"""Seconds uvicorn then waits for open connections and tasks (uvicorn's timeout_graceful_shutdown)."""


class DrainingServer(uvicorn.Server):
    """A `uvicorn.Server` whose first SIGTERM drains `capacity` before shutting down."""

    def __init__(self, config: uvicorn.Config, capacity: Capacity) -> None:
        super().__init__(config)
        self.capacity = capacity
        self.loop: asyncio.AbstractEventLoop | None = None
        self.drain_task: asyncio.Task[None] | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Called in the signal handler (main thread, between two steps of the event loop)."""
        if sig == signal.SIGTERM and self.capacity.drain.may_accept() and not self.should_exit and self.loop:
            self.loop.call_soon_threadsafe(self._start_drain)  # not re-raised at exit: serve returns 0
            return
        if not self.capacity.drain.may_accept():
            log.warning(
                "serve.drain_abandoned",
                extra={"signal": signal.Signals(sig).name, "live_calls": self.capacity.total},
            )
        super().handle_exit(sig, frame)

    def _start_drain(self) -> None:
        if self.drain_task is None:
            self.drain_task = asyncio.ensure_future(self.drain())

    async def drain(self) -> None:
        """Take no new call; wait for the live ones (to the deadline, then end them); then stop."""
        node, began = self.capacity, time.monotonic()
        if not node.begin_drain(began):
            return
        log.info(
            "serve.drain_started",
            extra={"live_calls": node.total, "timeout_s": node.drain.timeout_s, "signal": "SIGTERM"},
        )
        next_progress = began + PROGRESS_EVERY_S
        while not node.drain.done(time.monotonic(), node.total):
            if self.should_exit:  # a second signal: uvicorn stops now
                return
            await asyncio.sleep(POLL_S)
            now = time.monotonic()
            if now >= next_progress:
                next_progress = now + PROGRESS_EVERY_S
                log.info(
                    "serve.draining",
                    extra={
                        "live_calls": node.total,
                        "elapsed_s": round(now - began, 1),
                        "remaining_s": round(node.drain.remaining(now), 1),
                    },
                )
        if node.drain.ended_because == "deadline":
            ended = await node.end_all()
            log.warning(
                "serve.drain_deadline",
                extra={"calls_ended": ended, "elapsed_s": round(time.monotonic() - began, 1)},
            )
            for _ in range(int(END_WAIT_S / POLL_S)):  # their sessions store their end meanwhile
                if not node.total:
                    break
                await asyncio.sleep(POLL_S)
        log.info(
            "serve.drain_done",
            extra={
                "because": node.drain.ended_because,
                "live_calls": node.total,
                "elapsed_s": round(time.monotonic() - began, 1),
            },
        )
        self.should_exit = True


def run(app: Starlette, capacity: Capacity, *, host: str, port: int) -> None:
    """Serve `app` until a signal stops it (SIGTERM: after the drain)."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S
    )
    DrainingServer(config, capacity).run()
