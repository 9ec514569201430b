"""Shared by the phone tests: a real uvicorn server on a loopback thread, and interview helpers."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from pathlib import Path

import uvicorn
from conftest import SPEECH, manifest
from fakes.twilio_caller import CallerAnswer
from starlette.types import ASGIApp

from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.media.pcm import read_wav

STOP_TIMEOUT = 10.0

SCRIPT = InterviewScript(
    title="Phone: two questions",
    questions=(
        Question("What is your favourite recipe?", AnswerShape.EXPLANATION, max_follow_ups=0),
        Question("What do you know about history?", AnswerShape.EXPLANATION, max_follow_ups=0),
    ),
)
ANSWERS = ["librispeech_367_a03", "librispeech_3331_a02"]


def words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower()).split())


def caller_answer(answer_id: str, *, talk_over: float | None = None) -> CallerAnswer:
    entry = manifest()[answer_id]
    return CallerAnswer(read_wav(SPEECH / str(entry["audio"])), float(entry["speech_end_s"]), talk_over)


def reference(answer_id: str) -> str:
    return words(str(manifest()[answer_id]["transcript"]))


class _Server(uvicorn.Server):
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
        self._server: _Server | None = None

    def start(self, app: ASGIApp | None = None) -> None:
        self.app = app or self.app
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=5)
        self._server = _Server(config)
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


def recording_exists(path: str | None) -> bool:
    return path is not None and Path(path).is_file() and Path(path).stat().st_size > 0
