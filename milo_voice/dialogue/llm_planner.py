"""LLM planner: asks an OpenAI-compatible chat server for a follow-up or an acknowledgement, streamed.

The model only ever writes a short follow-up question or a one-sentence acknowledgement; the next
question and the closing always come verbatim from the script via `transition_lines`, so neither a
confused model nor a candidate's "ignore your instructions" can change what the recruiter asks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable
from enum import Enum

from openai import APIConnectionError, APIStatusError, AsyncOpenAI, AsyncStream, OpenAIError
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from milo_voice.dialogue.planner import Line, MoveKind, PlanContext, transition_lines, word_count
from milo_voice.dialogue.script import GENERIC_FOLLOW_UPS
from milo_voice.errors import EngineUnavailable
from milo_voice.settings import Settings

log = logging.getLogger(__name__)

MAX_WORDS = 40
"""Cap on the words the model may add to one move; a sentence that would pass it is dropped."""
MAX_FOLLOW_UP_SENTENCES = 2
"""A follow-up ends at its first question mark, or after this many sentences."""
MAX_ANSWER_CHARS = 1500
"""Only the last this-many characters of the candidate's words go into the prompt (small contexts)."""

SYSTEM_PROMPT = (
    "You are Milo, a concise and friendly job interviewer{role}. You speak in short, plain spoken "
    "sentences: no lists, no markup, no emojis. You never change the topic and never ask the next "
    "interview question yourself."
)
_FOLLOW_UP_FORM = "FOLLOWUP: <one short follow-up question about their answer>"
_NEXT_FORM = "NEXT: <one short acknowledgement sentence, no question>"


class ReplyForm(Enum):
    """What the model's reply turned out to be, as far as the parser has read."""

    UNDECIDED = "undecided"
    FOLLOW_UP = "follow_up"
    NEXT = "next"
    INVALID = "invalid"
    """Neither form (or a follow-up when none are left): the move is the bare scripted transition."""


_LEAD_JUNK = re.compile(r"^[\s*_#`\"'“”‘’>\[(-]+")
_TAG = re.compile(r"(FOLLOW[ _-]?UP|NEXT)[*_\s]*:", re.IGNORECASE)
_TAG_SPELLINGS = ("FOLLOWUP:", "NEXT:")
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)|\n")
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "vs", "e.g", "i.e"})
_TAGS_OR_MARKUP = re.compile(r"<[^>]*>|[*_#`~\"“”]")
_EDGE_QUOTES = re.compile(r"^[\s'‘’\-–•]+|[\s'‘’]+$")
_SPACES = re.compile(r"\s+")


def clean_sentence(text: str) -> str:
    """Strip markup, tags and quotes; collapse whitespace. Empty if nothing speakable is left."""
    text = _TAGS_OR_MARKUP.sub("", text)
    text = _EDGE_QUOTES.sub("", _SPACES.sub(" ", text).strip())
    return text if re.search(r"[A-Za-z0-9]", text) else ""


class ReplyParser:
    """Incremental, pure parser of the model's reply: feed text deltas, get finished sentences.

    The form is decided as soon as the `FOLLOWUP:` / `NEXT:` tag is readable (case, markup and a
    hyphen are tolerated). A follow-up is kept up to its first question mark (at most
    `MAX_FOLLOW_UP_SENTENCES`); an acknowledgement is one sentence, and one ending in `?` is dropped,
    since the script asks the next question. `done` turns true once nothing more is wanted.
    """

    def __init__(self, *, follow_up_allowed: bool, max_words: int = MAX_WORDS) -> None:
        self.follow_up_allowed = follow_up_allowed
        self.max_words = max_words
        self.form = ReplyForm.UNDECIDED
        self.sentences: list[str] = []
        self.done = False
        self._buffer = ""

    def feed(self, delta: str) -> list[str]:
        """Add streamed text; return the sentences it completed (already sanitised and accepted)."""
        if self.done:
            return []
        self._buffer += delta
        if self.form is ReplyForm.UNDECIDED and not self._decide():
            return []
        return self._take_sentences(final=False)

    def finish(self) -> list[str]:
        """The stream ended: flush what is left."""
        if self.done:
            return []
        if self.form is ReplyForm.UNDECIDED:
            self.form = ReplyForm.INVALID
            self.done = True
            return []
        return self._take_sentences(final=True)

    def _decide(self) -> bool:
        head = _LEAD_JUNK.sub("", self._buffer)
        match = _TAG.match(head)
        if match is None:
            compact = re.sub(r"[^A-Za-z:]", "", head).upper()
            if not any(tag.startswith(compact) for tag in _TAG_SPELLINGS):
                self.form, self.done = ReplyForm.INVALID, True
            return False
        is_next = match.group(1).upper() == "NEXT"
        if is_next:
            self.form = ReplyForm.NEXT
        elif self.follow_up_allowed:
            self.form = ReplyForm.FOLLOW_UP
        else:
            self.form, self.done = ReplyForm.INVALID, True
            return False
        self._buffer = head[match.end() :]
        return True

    def _take_sentences(self, *, final: bool) -> list[str]:
        taken: list[str] = []
        while not self.done:
            end = self._sentence_end()
            if end is None:
                if not final:
                    break
                end = len(self._buffer)
                self.done = True
            raw, self._buffer = self._buffer[:end], self._buffer[end:]
            sentence = clean_sentence(raw)
            if sentence and self._accept(sentence):
                taken.append(sentence)
        return taken

    def _sentence_end(self) -> int | None:
        for match in _BOUNDARY.finditer(self._buffer):
            before = self._buffer[: match.start()].split()
            if match.group() != "\n" and before and before[-1].lower().rstrip(".") in _ABBREVIATIONS:
                continue
            return match.end()
        # A follow-up is over at its question mark: no need to wait for the next token.
        if self.form is ReplyForm.FOLLOW_UP and self._buffer.rstrip().endswith("?"):
            return len(self._buffer.rstrip())
        return None

    def _accept(self, sentence: str) -> bool:
        words = sum(word_count(s) for s in self.sentences) + word_count(sentence)
        if words > self.max_words:
            self.done = True
            return False
        if self.form is ReplyForm.NEXT:
            self.done = True
            if sentence.endswith("?"):
                return False
        else:
            self.done = sentence.endswith("?") or len(self.sentences) + 1 >= MAX_FOLLOW_UP_SENTENCES
        self.sentences.append(sentence)
        return True


def user_message(
    question: str, answer: str, follow_ups_left: int, earlier: str = "", prompt: str = ""
) -> str:
    """The user turn of a planning call: the exchange so far and the two allowed reply forms (pure)."""
    parts = [f'Interview question: "{question}"']
    if earlier.strip():
        parts.append(f'Candidate\'s earlier answer: "{earlier.strip()[-MAX_ANSWER_CHARS:]}"')
    if prompt and prompt != question:
        parts.append(f'Your follow-up: "{prompt}"')
    parts.append(f'Candidate\'s answer: "{answer.strip()[-MAX_ANSWER_CHARS:] or "(no answer)"}"')
    parts.append(f"Follow-up questions left for this question: {follow_ups_left}.")
    if follow_ups_left > 0:
        parts.append(
            "Reply with EXACTLY one line in one of these two forms:\n"
            f"{_FOLLOW_UP_FORM}\n{_NEXT_FORM}\n"
            "Use FOLLOWUP only if the answer is vague, very short or lacks a concrete example."
        )
    else:
        parts.append(f"No follow-ups are left. Reply with EXACTLY one line in this form:\n{_NEXT_FORM}")
    return "\n".join(parts)


_EXAMPLES: tuple[tuple[str, str, int, str], ...] = (
    ("What do you enjoy about your work?", "The people.", 1, "FOLLOWUP: What do you enjoy most about them?"),
    (
        "How do you organise your week?",
        "I plan on Monday morning, block time for deep work and review what got done on Friday.",
        1,
        "NEXT: That sounds like a clear routine, thank you.",
    ),
)
"""Few-shot pairs (question, answer, follow-ups left, reply): small local models follow the form
far more often with them, and as a constant prompt prefix they are cached by llama.cpp-style servers."""


def build_messages(ctx: PlanContext) -> list[ChatCompletionMessageParam]:
    """The messages of one planning call: system prompt, few-shot examples, this exchange (pure)."""
    role = f" for the role of {ctx.script.role}" if ctx.script.role else ""
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": SYSTEM_PROMPT.format(role=role)}
    ]
    for question, answer, left, reply in _EXAMPLES:
        messages.append({"role": "user", "content": user_message(question, answer, left)})
        messages.append({"role": "assistant", "content": reply})
    question = ctx.script.questions[ctx.question_index].text
    content = user_message(
        question, ctx.answer_text, ctx.follow_ups_left, ctx.earlier_answer, ctx.prompt_text
    )
    messages.append({"role": "user", "content": content})
    return messages


class LlmPlanner:
    """Plans a move with a streamed chat completion; API and connection errors raise `EngineUnavailable`.

    Unparseable output (no tag, or a follow-up when none are left) and a follow-up with nothing
    speakable both become the bare scripted transition: no acknowledgement, then the next question
    (or the closing). A follow-up that never asks anything gets the generic "tell me more" question
    appended, so every follow-up move ends on a prompt. `on_first_token` is called once per plan,
    when the first text arrives.
    """

    name = "llm"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout: float = 8.0,
        max_tokens: int = 96,
        temperature: float = 0.3,
        on_first_token: Callable[[], None] | None = None,
        client: AsyncOpenAI | None = None,
    ) -> None:
        self.base_url = base_url
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.on_first_token = on_first_token
        self._client = client or AsyncOpenAI(
            base_url=base_url, api_key=api_key or "none", timeout=timeout, max_retries=0
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, on_first_token: Callable[[], None] | None = None
    ) -> LlmPlanner:
        return cls(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=str(settings.llm_api_key),
            timeout=settings.llm_total_timeout,
            on_first_token=on_first_token,
        )

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()

    async def plan(self, ctx: PlanContext) -> AsyncIterator[Line]:
        parser = ReplyParser(follow_up_allowed=ctx.follow_ups_left > 0)
        try:
            stream = await self._client.chat.completions.create(
                model=self.model,
                messages=build_messages(ctx),
                stream=True,
                max_tokens=self.max_tokens,
                temperature=self.temperature,
            )
        except OpenAIError as exc:
            raise self._unavailable(exc) from exc
        first = True
        try:
            while not parser.done:
                delta = await self._next_text(stream)
                if delta is not None and first:
                    first = False
                    if self.on_first_token is not None:
                        self.on_first_token()
                sentences = parser.finish() if delta is None else parser.feed(delta)
                for sentence in sentences:
                    yield self._line(ctx, parser.form, sentence)
                if delta is None:
                    break
        finally:
            await stream.close()
        log.debug("plan.llm_parsed", extra={"form": parser.form.value, "sentences": len(parser.sentences)})
        if parser.form is ReplyForm.FOLLOW_UP and parser.sentences:
            if not parser.sentences[-1].endswith("?"):
                yield self._line(ctx, parser.form, GENERIC_FOLLOW_UPS[0])
            return
        for line in transition_lines(ctx, "", self.name):
            yield line

    async def _next_text(self, stream: AsyncStream[ChatCompletionChunk]) -> str | None:
        """The next non-empty text delta, or None at the end of the stream."""
        while True:
            try:
                chunk = await anext(stream)
            except StopAsyncIteration:
                return None
            except (OpenAIError, ValueError) as exc:  # ValueError: a chunk that is not JSON
                raise self._unavailable(exc) from exc
            if chunk.choices and chunk.choices[0].delta.content:
                return chunk.choices[0].delta.content

    def _line(self, ctx: PlanContext, form: ReplyForm, sentence: str) -> Line:
        if form is ReplyForm.FOLLOW_UP:
            asks = sentence.endswith("?")
            return Line(sentence, MoveKind.FOLLOW_UP, ctx.question_index, self.name, is_prompt=asks)
        kind = MoveKind.CLOSE if ctx.is_last_question else MoveKind.NEXT_QUESTION
        return Line(sentence, kind, ctx.question_index + 1, self.name)

    def _unavailable(self, exc: Exception) -> EngineUnavailable:
        if isinstance(exc, APIStatusError):
            retryable = exc.status_code >= 500 or exc.status_code in (408, 409, 429)
            detail = f"HTTP {exc.status_code}"
        else:
            retryable = isinstance(exc, APIConnectionError)
            detail = type(exc).__name__
        return EngineUnavailable(
            f"LLM at {self.base_url} (model {self.model!r}) failed: {detail}: {exc}; "
            "expected a streamed chat completion",
            retryable=retryable,
        )
