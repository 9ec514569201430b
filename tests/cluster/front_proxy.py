"""The reverse proxy in front of several nodes, for the tests: plain HTTP on 127.0.0.1, each request to the
first node (in the order given) that accepts the connection, as nginx's `proxy_next_upstream error` does.
It sets X-Forwarded-For and relays status, headers and body. No websockets (the phone tests talk to
the nodes' stream URLs directly, as Twilio does)."""

from __future__ import annotations

import httpx
from fakes.loopback import ServerThread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class FrontProxy:
    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = list(upstreams)
        self.served_by: list[tuple[str, str]] = []
        """(path, upstream) of every request relayed."""
        self.server = ServerThread(Starlette(routes=[
            Route("/{path:path}", self._relay, methods=["GET", "POST", "HEAD", "PUT", "DELETE"])]))
        self.base = self.server.base_url

    def start(self) -> FrontProxy:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    async def _relay(self, request: Request) -> Response:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        headers["x-forwarded-for"] = request.client.host if request.client else "127.0.0.1"
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        for upstream in self.upstreams:
            try:
                async with httpx.AsyncClient(timeout=30) as http:
                    answer = await http.request(request.method, upstream + target, content=body,
                                                headers=headers)
            except httpx.ConnectError:
                continue  # that node is down: the next one
            self.served_by.append((request.url.path, upstream))
            relayed = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
            return Response(answer.content, status_code=answer.status_code, headers=relayed)
        return Response("no node answers", status_code=502)
