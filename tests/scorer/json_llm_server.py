"""An OpenAI-compatible chat server on 127.0.0.1 that answers non-streamed completions with a set text.

For the LLM scorer's tests: it speaks the real wire format (`POST /v1/chat/completions`, a
`chat.completion` object), records each request body, and can answer with an HTTP error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fakes.loopback import ServerThread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Reply = Callable[[dict[str, Any]], str]


class JsonLlmServer:
    def __init__(self, reply: Reply, status: int = 200) -> None:
        self.reply = reply
        self.status = status
        self.requests: list[dict[str, Any]] = []
        self._server = ServerThread(Starlette(routes=[Route("/v1/chat/completions", self._chat,
                                                            methods=["POST"])]))
        self.base_url = f"{self._server.base_url}/v1"

    def __enter__(self) -> JsonLlmServer:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        if body.get("stream"):
            return JSONResponse({"error": {"message": "this fake does not stream"}}, status_code=400)
        if self.status != 200:
            return JSONResponse(
                {"error": {"message": f"fake failure {self.status}"}}, status_code=self.status
            )
        return JSONResponse(
            {
                "id": "chatcmpl-json-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": self.reply(body)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )
