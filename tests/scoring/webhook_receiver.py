"""A real HTTP webhook receiver on 127.0.0.1 (Starlette on a uvicorn thread) for webhook tests.

It answers each request with the next status of its script (the last one repeats), checks the
signature the way a customer's server would, and records what it got.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from milo_voice.scoring.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    answered: int


class WebhookReceiver:
    def __init__(self, secret: str, statuses: list[int]) -> None:
        self.secret = secret
        self.statuses = list(statuses)
        self.received: list[Received] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/hook"
        config = uvicorn.Config(
            Starlette(routes=[Route("/hook", self._hook, methods=["POST"])]),
            log_level="warning",
            lifespan="off",
        )
        self._server = _Server(config)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve(sockets=[self._sock])))

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        if not self._server.ready.wait(10):
            raise RuntimeError("webhook receiver did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        ok = verify_signature(
            self.secret,
            body,
            signature=request.headers.get(SIGNATURE_HEADER, ""),
            timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
        )
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if not ok:
            status = 401
        self.received.append(Received(dict(request.headers), body, ok, status))
        return Response(status_code=status)


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()
