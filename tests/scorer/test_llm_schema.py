"""The LLM scorer over the wire: bounded schema retries, and disagreement with the offline scorer flagged."""

from __future__ import annotations

import json
from typing import Any

from helpers import run
from json_llm_server import JsonLlmServer
from scoring_builders import build_session

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring.llm import SCHEMA_ATTEMPTS, LlmScorer
from milo_voice.scoring.offline import OfflineScorer
from milo_voice.scoring.result import Judgement
from milo_voice.scoring.rubric import Criterion, QuestionRubric
from milo_voice.scoring.scorer import QuestionInput
from milo_voice.scoring.service import build
from milo_voice.settings import Settings
from milo_voice.workspace.candidates import Candidates

ANSWERS = {0: "Yes, I am allowed to work here.", 1: "I listen to them, and I apologise for the trouble."}
EMPATHY = Criterion(
    id="empathy",
    name="Listens and acknowledges",
    anchors={1: "Argues with the customer.", 5: "Listens, acknowledges the frustration and apologises."},
)


def rubric_ids(body: dict[str, Any]) -> list[str]:
    return [c["id"] for c in json.loads(body["messages"][1]["content"])["rubric"]]


def reply(body: dict[str, Any], score: int) -> str:
    items = [
        {"id": i, "score": score, "passed": True, "rationale": "ok", "quotes": []} for i in rubric_ids(body)
    ]
    return json.dumps({"criteria": items})


def question(answer: str) -> QuestionInput:
    return QuestionInput(
        0, "A customer is upset. What do you do?", QuestionRubric(criteria=(EMPATHY,)), (answer,)
    )


async def judged(scorer: LlmScorer) -> list[Judgement]:
    try:
        return await scorer.judge(question("I listen and I apologise."))
    finally:
        await scorer.aclose()


def test_a_reply_that_breaks_the_schema_is_sent_back_and_the_second_one_is_used() -> None:
    def flaky(body: dict[str, Any]) -> str:
        return "not json at all" if len(body["messages"]) == 2 else reply(body, 4)

    with JsonLlmServer(flaky) as server:
        judgements = run(lambda: judged(LlmScorer(base_url=server.base_url, model="judge-1")))
        asked = server.requests
    assert [j.score for j in judgements] == [4]
    assert len(asked) == 2
    retry = asked[1]["messages"]
    assert retry[2] == {"role": "assistant", "content": "not json at all"}
    assert retry[3]["role"] == "user" and "rejected" in retry[3]["content"]


def test_a_score_out_of_range_is_a_schema_error_and_retries_are_bounded() -> None:
    with JsonLlmServer(lambda body: reply(body, 9)) as server:
        judgements = run(lambda: judged(LlmScorer(base_url=server.base_url, model="judge-1")))
        asked = len(server.requests)
    assert asked == SCHEMA_ATTEMPTS
    assert judgements[0].score is None and "score 9" in judgements[0].rationale


def test_the_llm_and_the_offline_scorer_far_apart_is_flagged_for_review() -> None:
    offline = OfflineScorer()
    with JsonLlmServer(lambda body: reply(body, 5)) as server:
        scorer = LlmScorer(base_url=server.base_url, model="judge-1", cross_check=offline)

        async def both() -> tuple[list[Judgement], list[Judgement]]:
            unrelated = await scorer.judge(question("My favourite colour is green."))
            close = await scorer.judge(question("I listen, acknowledge the frustration and apologise."))
            await scorer.aclose()
            return unrelated, close

        unrelated, close = run(both)
    assert unrelated[0].score == 5 and "offline scorer" in unrelated[0].review
    assert close[0].review == ""


def test_the_service_cross_checks_the_llm_and_the_card_says_needs_review(
    settings: Settings, store: SessionStore
) -> None:
    built = build_session(store, {0: ANSWERS[0], 1: "My favourite colour is green."})
    with JsonLlmServer(lambda body: reply(body, 5)) as server:
        overrides = {"scorer": "llm", "scoring_llm_base_url": server.base_url, "scoring_llm_model": "judge-1"}
        runtime = build(settings.with_overrides(**overrides), store.engine, Candidates(store.engine))
        card = run(lambda: runtime.service.score(built.session_id))
    assert card.scorer == "llm" and card.needs_review
    assert any("offline scorer" in reason for reason in card.review_reasons)
