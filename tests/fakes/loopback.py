"""A real uvicorn server for an ASGI app on 127.0.0.1 (a port the OS picks), on its own thread.

Used by every fake that must speak a real wire protocol over loopback (LLM servers, webhook
receivers, the app under test for the phone channel). `start` returns once it listens; `stop`
shuts it down and joins the thread.
"""

from __future__ import annotations

import asyncio
import socket
import threading

import uvicorn
from starlette.types import ASGIApp

STOP_TIMEOUT = 10.0


class NotifyingServer(uvicorn.Server):
    """uvicorn.Server that sets a threading.Event once it listens, so nobody polls `started`."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


class ServerThread:
    """Serves `app` with uvicorn on 127.0.0.1 (a port chosen by the OS) on its own thread."""

    def __init__(self, app: ASGIApp | None = None) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.app = app
        self._thread = threading.Thread(target=self._run, name=f"app-{self.port}", daemon=True)
        self._server: NotifyingServer | None = None

    def start(self, app: ASGIApp | None = None) -> None:
        self.app = app or self.app
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=5)
        self._server = NotifyingServer(config)
        self._thread.start()
        if not self._server.ready.wait(15.0) or not self._server.started:
            raise RuntimeError(f"app server on port {self.port} did not start")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(STOP_TIMEOUT)
        self._sock.close()

    def _run(self) -> None:
        assert self._server is not None
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        finally:
            self._server.ready.set()
