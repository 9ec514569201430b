"""A real HTTP webhook receiver on 127.0.0.1 (Starlette on a uvicorn thread) for webhook tests.

It answers each request with the next status of its script (the last one repeats), checks the
signature the way a customer's server would, and records what it got.
"""

from __future__ import annotations

from dataclasses import dataclass

from fakes.loopback import ServerThread
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
        self._server = ServerThread(Starlette(routes=[Route("/hook", self._hook, methods=["POST"])]))
        self.url = f"{self._server.base_url}/hook"

    def __enter__(self) -> WebhookReceiver:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

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
