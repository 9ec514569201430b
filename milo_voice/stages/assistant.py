"""The assistant of an LLM assessment: any OpenAI-compatible chat server (llama.cpp, vLLM, Ollama, a
hosted API), through the maintained `openai` client. A server that is down, slow or answers badly
raises `EngineUnavailable`; the candidate's message is already stored, so they can try again."""

from __future__ import annotations

import logging
import time

from openai import APIConnectionError, APIStatusError, APITimeoutError, AsyncOpenAI

from milo_voice.errors import EngineUnavailable

log = logging.getLogger(__name__)

MAX_REPLY_TOKENS = 700


class Assistant:
    def __init__(self, *, base_url: str, model: str, api_key: str = "", timeout: float = 30.0) -> None:
        self.model = model
        self._client = AsyncOpenAI(base_url=base_url, api_key=api_key or "none", timeout=timeout,
                                   max_retries=0)

    async def reply(self, messages: list[dict[str, str]]) -> str:
        """The assistant's whole reply (streamed, so a server that stalls mid-reply times out too)."""
        started = time.perf_counter()
        parts: list[str] = []
        try:
            stream = await self._client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=MAX_REPLY_TOKENS,  # type: ignore[arg-type]
                temperature=0.3, stream=True)
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    parts.append(chunk.choices[0].delta.content)
        except (APIConnectionError, APITimeoutError) as exc:
            raise EngineUnavailable(f"assistant: {type(exc).__name__}") from exc
        except APIStatusError as exc:
            raise EngineUnavailable(f"assistant: HTTP {exc.status_code}") from exc
        text = "".join(parts).strip()
        log.info("stages.assistant.reply", extra={"ms": round(1000 * (time.perf_counter() - started)),
                                                  "chars": len(text), "model": self.model})
        if not text:
            raise EngineUnavailable("assistant: an empty reply")
        return text

    async def aclose(self) -> None:
        await self._client.close()
