"""The LLM scorer: one chat completion per question on any OpenAI-compatible server, JSON out.

The model gets the question, its rubric and the candidate's answer text, never audio or timing,
and must answer with JSON matching `RESPONSE_SCHEMA`: per criterion a score or verdict, a short
rationale and verbatim quotes. Its quotes are verified afterwards (`card.py`): the model is never
trusted to quote. A reply that does not fit the schema is sent back with what is wrong, at most
`SCHEMA_ATTEMPTS` times in all, then leaves the criteria undecided (flagged for a person). With a
`cross_check` scorer (the offline one), a score that differs from its score by `DISAGREEMENT_POINTS`
or more is flagged for review. A server that cannot be reached raises `EngineUnavailable`, so the
job is retried.
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import replace
from typing import Any

from openai import APIConnectionError, APIStatusError, APITimeoutError, AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel, ConfigDict, ValidationError

from milo_voice.errors import EngineUnavailable
from milo_voice.scoring.result import LLM, Judgement
from milo_voice.scoring.rubric import CriterionKind
from milo_voice.scoring.scorer import QuestionInput, Scorer

log = logging.getLogger(__name__)

JSON_MODES = ("json_schema", "json_object")
"""`json_schema`: OpenAI's structured outputs. `json_object`: JSON mode with a `schema` key, as
llama-cpp-python's server takes it (it turns the schema into a grammar)."""
MAX_ANSWER_CHARS = 6000
"""Only this many characters of the candidate's answers go into one prompt."""
MAX_REPLY_TOKENS = 1000
SCHEMA_ATTEMPTS = 3
"""Completions asked per question when the reply does not fit the schema (the error is sent back)."""
DISAGREEMENT_POINTS = 2
"""A scored criterion is flagged for review when the LLM and the offline scorer differ by this many
points (of 1-5) or more."""
"""Cap on the model's reply: enough for a few criteria with quotes; stops a model that rambles."""

SYSTEM_PROMPT = """You grade one answer from a job interview against a rubric written by the recruiter.
Rules:
- Judge only what the candidate said, as written in the transcript. Do not judge accent, fluency,
  pauses, grammar or thinking time unless a criterion explicitly asks for it.
- For each criterion give: "score" (an integer 1-5 matching the anchors) for kind "scored";
  "passed" (true/false) for kinds "pass_fail" and "dealbreaker" (a dealbreaker passes only if the
  answer gives the required answer); null when the answer does not let you decide.
- "rationale": one or two sentences a recruiter can check.
- "quotes": one to three exact, word-for-word excerpts of the candidate's answer that support your
  judgement. Copy them exactly; never paraphrase, never quote the interviewer.
Reply with JSON only."""

RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "criteria": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "score": {"type": ["integer", "null"]},
                    "passed": {"type": ["boolean", "null"]},
                    "rationale": {"type": "string"},
                    "quotes": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["id", "score", "passed", "rationale", "quotes"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["criteria"],
    "additionalProperties": False,
}


MAX_RATIONALE_CHARS = 400
MAX_QUOTES = 3
MAX_QUOTE_CHARS = 300


def bounded_schema(criteria: int | None = None) -> dict[str, Any]:
    """`RESPONSE_SCHEMA` with bounds a grammar-constrained server (llama.cpp's JSON mode) enforces while
    the model writes: one item per criterion, a short rationale, at most three quotes of bounded length.
    Without them a small model may repeat quotes until the reply's token cap cuts the JSON (SmolLM2:
    1000 tokens, invalid, three times a question; with them: 243 tokens, valid, 9 s). Not sent in the
    strict `json_schema` mode, where hosted APIs may refuse these keywords."""
    schema = copy.deepcopy(RESPONSE_SCHEMA)
    items = schema["properties"]["criteria"]
    fields = items["items"]["properties"]
    fields["rationale"]["maxLength"] = MAX_RATIONALE_CHARS
    fields["quotes"]["maxItems"] = MAX_QUOTES
    fields["quotes"]["items"]["maxLength"] = MAX_QUOTE_CHARS
    if criteria:
        items["minItems"] = items["maxItems"] = criteria
    return schema


class _CriterionReply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    score: int | None = None
    passed: bool | None = None
    rationale: str = ""
    quotes: list[str] = []


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    criteria: list[_CriterionReply]


def user_prompt(question: QuestionInput) -> str:
    """The user message: the question, the rubric and the answer, as JSON the model can read."""
    rubric = [
        {
            "id": c.id,
            "name": c.name,
            "kind": c.kind.value,
            "anchors": {str(k): v for k, v in c.anchors.items()},
            **({"required_answer": c.required_answer} if c.required_answer else {}),
            **({"keywords": list(c.keywords)} if c.keywords else {}),
            **({"may_judge_delivery": True} if c.listens_to_delivery else {}),
        }
        for c in question.rubric.criteria
    ]
    answer = "\n".join(question.answers)[-MAX_ANSWER_CHARS:] or "(no answer)"
    return json.dumps(
        {"question": question.question, "rubric": rubric, "candidate_answer": answer}, ensure_ascii=False
    )


def parse_reply(content: str, question: QuestionInput) -> list[Judgement]:
    """The model's JSON as judgements; anything unreadable leaves the criterion undecided."""
    parsed = read_reply(content, question)
    if isinstance(parsed, str):
        note = f"The model's reply was not the JSON asked for ({parsed}); a person must score this."
        return [Judgement(c.id, None, None, note) for c in question.rubric.criteria]
    return parsed


def read_reply(content: str, question: QuestionInput) -> list[Judgement] | str:
    """The judgements, or what is wrong with the reply (sent back to the model on a retry)."""
    try:
        reply = _Reply.model_validate_json(_strip_fences(content))
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]["type"] if errors else ""
        where = {"position": question.position, "errors": len(errors), "first": first, "chars": len(content)}
        log.info("scoring.llm_bad_json", extra=where)
        return f"not valid JSON for the schema: {errors[0]['msg'] if errors else exc}"
    by_id = {item.id: item for item in reply.criteria}
    judgements = []
    for criterion in question.rubric.criteria:
        item = by_id.get(criterion.id)
        if item is None:
            return f"criterion {criterion.id!r} is missing"
        if item.score is not None and criterion.kind is CriterionKind.SCORED and not 1 <= item.score <= 5:
            return f"criterion {criterion.id!r} has score {item.score}; expected an integer 1-5 or null"
        quotes = tuple(q.strip() for q in item.quotes if q.strip())[:5]
        judgements.append(Judgement(criterion.id, item.score, item.passed, item.rationale, quotes))
    return judgements


def _strip_fences(content: str) -> str:
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[-1].rsplit("```", 1)[0]
    return text


class LlmScorer:
    """Rubric scoring by a chat model over the OpenAI wire protocol."""

    name = LLM

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout: float = 60.0,
        json_mode: str = "json_schema",
        client: AsyncOpenAI | None = None,
        schema_attempts: int = SCHEMA_ATTEMPTS,
        cross_check: Scorer | None = None,
        disagreement: int = DISAGREEMENT_POINTS,
    ) -> None:
        if json_mode not in JSON_MODES:
            raise ValueError(f"json_mode={json_mode!r}: expected one of {JSON_MODES}")
        self.model = model
        self.label = f"LLM scorer ({model})"
        self.json_mode = json_mode
        self.schema_attempts = max(1, schema_attempts)
        self.cross_check = cross_check
        self.disagreement = disagreement
        self._client = client or AsyncOpenAI(
            base_url=base_url, api_key=api_key or "none", timeout=timeout, max_retries=0
        )

    async def aclose(self) -> None:
        await self._client.close()

    def messages(self, question: QuestionInput) -> list[ChatCompletionMessageParam]:
        return [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_prompt(question)},
        ]

    def response_format(self, question: QuestionInput | None = None) -> dict[str, Any]:
        if self.json_mode == "json_object":
            criteria = len(question.rubric.criteria) if question else None
            return {"type": "json_object", "schema": bounded_schema(criteria)}
        return {
            "type": "json_schema",
            "json_schema": {"name": "rubric_scores", "schema": RESPONSE_SCHEMA, "strict": True},
        }

    def fingerprint(self, question: QuestionInput) -> str:
        sent = {"model": self.model, "messages": self.messages(question)}
        sent["format"] = self.response_format(question)
        return json.dumps(sent, sort_keys=True, ensure_ascii=False)

    async def judge(self, question: QuestionInput) -> list[Judgement]:
        messages = self.messages(question)
        problem = ""
        for attempt in range(1, self.schema_attempts + 1):
            content = await self._complete(messages, question)
            parsed = read_reply(content, question)
            if not isinstance(parsed, str):
                return await self._cross_checked(question, parsed)
            problem = parsed
            where = {"position": question.position, "attempt": attempt, "why": problem}
            log.info("scoring.llm_retry", extra=where)
            messages = [
                *messages,
                {"role": "assistant", "content": content[:2000]},
                {"role": "user", "content": f"That reply was rejected: {problem}. Reply with JSON only."},
            ]
        note = f"The model's reply was not the JSON asked for ({problem}); a person must score this."
        return [Judgement(c.id, None, None, note) for c in question.rubric.criteria]

    async def _complete(self, messages: list[ChatCompletionMessageParam], question: QuestionInput) -> str:
        try:
            completion = await self._client.chat.completions.create(  # type: ignore[call-overload]
                model=self.model,
                messages=messages,
                temperature=0.0,
                max_tokens=MAX_REPLY_TOKENS,
                response_format=self.response_format(question),
            )
        except (APIConnectionError, APITimeoutError) as exc:
            raise EngineUnavailable(f"LLM scorer: {type(exc).__name__}: {exc}") from exc
        except APIStatusError as exc:
            retryable = exc.status_code >= 500 or exc.status_code == 429
            raise EngineUnavailable(f"LLM scorer: HTTP {exc.status_code}", retryable=retryable) from exc
        content = completion.choices[0].message.content if completion.choices else None
        return content or ""

    async def _cross_checked(self, question: QuestionInput, judgements: list[Judgement]) -> list[Judgement]:
        """Flag a scored criterion when the offline scorer's score is `disagreement` points or more away."""
        if self.cross_check is None:
            return judgements
        offline = {j.criterion_id: j for j in await self.cross_check.judge(question)}
        scored = {c.id for c in question.rubric.criteria if c.kind is CriterionKind.SCORED}
        checked = []
        for judgement in judgements:
            other = offline.get(judgement.criterion_id)
            if (
                other is not None
                and judgement.score is not None
                and other.score is not None
                and judgement.criterion_id in scored
                and abs(judgement.score - other.score) >= self.disagreement
            ):
                why = (
                    f"the LLM gave {judgement.score}/5 and the offline scorer {other.score}/5 "
                    f"(they differ by {self.disagreement} or more): a person should check"
                )
                log.info("scoring.llm_disagrees", extra={"position": question.position, "why": why})
                judgement = replace(judgement, review=why)
            checked.append(judgement)
        return checked
