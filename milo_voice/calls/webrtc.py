"""The live browser calls of this process: the registry by link, and running one call to its end.

A call starts with its link's first offer (`web/rtc.py`); while it lives, another offer from the
same link swaps the peer in place and the same session goes on. The call waits for its peer,
runs the interview on the `WebRtcTransport`, records the camera, sends captions of the lines the
candidate heard, and leaves the registry when it ends. Knows nothing of HTTP.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from milo_voice.calls.engines import Runtime
from milo_voice.calls.run import run_session
from milo_voice.calls.session_store import SessionStore
from milo_voice.calls.takeover import Takeover
from milo_voice.media.transports.webrtc import WebRtcTransport
from milo_voice.settings import Settings
from milo_voice.store.tables import Speaker

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 30.0
"""Seconds a new call's peer gets to connect (ICE + DTLS) before the call is dropped, sessionless."""
CAPTION_POLL = 1.0
"""Seconds between looks for newly heard interviewer lines to send as captions."""


@dataclass(slots=True)
class LiveCall:
    """One candidate's browser call on this process."""

    token: str
    candidate_id: int
    interview_id: int
    transport: WebRtcTransport
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    session_id: int | None = None
    task: asyncio.Task[None] | None = None
    captions_sent: int = 0
    """Turns already looked at for captions (by index)."""
    helpers: set[asyncio.Task[Any]] = field(default_factory=set)
    takeover: Takeover | None = None
    """A dead node's live session this call goes on with (`calls/takeover.py`), else a new session."""

    def spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self.helpers.add(task)
        task.add_done_callback(self.helpers.discard)


class LiveCalls:
    """The live browser calls of this process, by candidate token."""

    def __init__(self) -> None:
        self.by_token: dict[str, LiveCall] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, token: str) -> asyncio.Lock:
        return self._locks.setdefault(token, asyncio.Lock())

    def live(self, token: str) -> LiveCall | None:
        call = self.by_token.get(token)
        return call if call is not None and not call.transport.closed else None

    def drop(self, call: LiveCall) -> None:
        if self.by_token.get(call.token) is call:
            del self.by_token[call.token]
            self._locks.pop(call.token, None)


def wire(call: LiveCall) -> None:
    """Connect the transport's callbacks to the page: state, captions, end button."""
    transport = call.transport

    def on_peer(state: str) -> None:
        if state == "connected":
            call.connected.set()
            transport.send_control({"type": "state", "speaking": False})

    def on_control(message: dict[str, Any]) -> None:
        if message.get("type") == "end":
            log.info("rtc.ended_by_candidate", extra={"candidate_id": call.candidate_id})
            call.spawn(transport.close())

    transport.on_peer = on_peer
    transport.on_control = on_control
    transport.on_speaking = lambda speaking: transport.send_control({"type": "state", "speaking": speaking})


async def run_call(calls: LiveCalls, call: LiveCall, *, settings: Settings,
                   runtime: Callable[[], Awaitable[Runtime]], store: SessionStore) -> None:
    """Wait for the peer, then run the interview on this call to its end; then drop it from `calls`."""
    try:
        try:
            await asyncio.wait_for(call.connected.wait(), CONNECT_TIMEOUT)
        except TimeoutError:
            log.warning("rtc.connect_timeout", extra={"candidate_id": call.candidate_id})
            await call.transport.close()
            return
        engines = await runtime()
        captions = asyncio.ensure_future(_send_captions(store, call))
        try:
            outcome = await run_session(
                settings, engines, store, call.transport,
                candidate_id=call.candidate_id, interview_id=call.interview_id, channel="webrtc",
                on_started=_on_started(store, call), takeover=call.takeover,
            )
        finally:
            captions.cancel()
        log.info("rtc.session_over", extra={"session_id": outcome.session_id, "status": outcome.status,
                                            "peers": call.transport.peers})
    except Exception:  # task root: one call's failure must not touch another's
        log.exception("rtc.call_failed", extra={"candidate_id": call.candidate_id})
        await call.transport.close()
    finally:
        calls.drop(call)


def _on_started(store: SessionStore, call: LiveCall) -> Callable[[int], None]:
    def started(session_id: int) -> None:
        call.session_id = session_id
        call.spawn(_record_video(store, call, session_id))

    return started


async def _record_video(store: SessionStore, call: LiveCall, session_id: int) -> None:
    """The camera, if on, is recorded into the session's recording folder (camera-<n>.webm)."""
    row = await asyncio.to_thread(store.get_session, session_id)
    if row is not None:
        call.transport.record_video(Path(row.recording_dir))


async def _send_captions(store: SessionStore, call: LiveCall) -> None:
    """Send each interviewer line to the page once it has been played (the stored, heard text), and a ping
    every second: a page that hears nothing for a few seconds knows the node is gone and reconnects."""
    skip_earlier = call.takeover is not None  # the lines the dead node's page showed are not shown again
    while True:
        await asyncio.sleep(CAPTION_POLL)
        call.transport.send_control({"type": "ping"})
        if call.session_id is None:
            continue
        if skip_earlier:
            skip_earlier = False
            earlier = await asyncio.to_thread(store.turns, call.session_id)
            call.captions_sent = earlier[-1].index + 1 if earlier else 0
            continue
            continue
        turns = await asyncio.to_thread(store.turns, call.session_id)
        for turn in turns:
            if turn.index >= call.captions_sent and turn.speaker == Speaker.INTERVIEWER.value:
                call.transport.send_control({"type": "caption", "text": turn.text})
        if turns:
            call.captions_sent = max(call.captions_sent, turns[-1].index + 1)
