"""The LLM scorer over the wire: a server that invents quotes, one that quotes truly, one that fails."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers import run
from json_llm_server import JsonLlmServer
from scoring_builders import build_session

from milo_voice.calls.session_store import SessionStore
from milo_voice.errors import EngineUnavailable
from milo_voice.scoring.llm import RESPONSE_SCHEMA, LlmScorer, bounded_schema
from milo_voice.scoring.service import build
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.store.tables import CandidateStatus
from milo_voice.workspace.candidates import Candidates

ANSWERS = {0: "Yes, I am allowed to work here.", 1: "I listen to them, and I apologise for the trouble."}


def rubric_ids(body: dict[str, Any]) -> list[str]:
    return [c["id"] for c in json.loads(body["messages"][1]["content"])["rubric"]]


def inventing(body: dict[str, Any]) -> str:
    """Confident scores backed by words the candidate never said."""
    items = [
        {
            "id": i,
            "score": 5,
            "passed": True,
            "rationale": "Superb.",
            "quotes": ["I have managed a team of fifty"],
        }
        for i in rubric_ids(body)
    ]
    return json.dumps({"criteria": items})


def truthful(body: dict[str, Any]) -> str:
    answer = json.loads(body["messages"][1]["content"])["candidate_answer"]
    first = answer.split(",")[0].upper()  # a real span, in another case, without its punctuation
    items = [
        {"id": i, "score": 4, "passed": True, "rationale": "Fine.", "quotes": [first]}
        for i in rubric_ids(body)
    ]
    return "```json\n" + json.dumps({"criteria": items}) + "\n```"


def llm_settings(settings: Settings, base_url: str) -> Settings:
    return settings.with_overrides(scorer="llm", scoring_llm_base_url=base_url, scoring_llm_model="judge-1")


def test_quotes_a_server_invents_are_rejected_and_the_score_is_flagged(
    settings: Settings, store: SessionStore
) -> None:
    built = build_session(store, ANSWERS)
    with JsonLlmServer(inventing) as server:
        runtime = build(llm_settings(settings, server.base_url), store.engine, Candidates(store.engine))
        runtime.service.enqueue_scoring(built.session_id)
        run(runtime.worker.run_until_idle)
    assert len(server.requests) == 2, "one request per question with a rubric"
    request = server.requests[0]
    assert request["model"] == "judge-1" and request["response_format"]["type"] == "json_schema"
    assert "accent" in request["messages"][0]["content"], "the prompt says what must not be judged"
    card = ScoringStore(store.engine).latest_card(built.session_id)
    assert card is not None and card.scorer == "llm" and card.model == "judge-1" and card.needs_review
    for question in card.questions:
        for c in question.criteria:
            assert c.quotes == [] and c.rejected_quotes == ["I have managed a team of fifty"]
    record = ScoringStore(store.engine).scores(built.session_id)[0]
    assert record.needs_review and len(record.prompt_hash) == 64


def test_true_quotes_are_kept_with_their_times(settings: Settings, store: SessionStore) -> None:
    built = build_session(store, ANSWERS)
    with JsonLlmServer(truthful) as server:
        runtime = build(llm_settings(settings, server.base_url), store.engine, Candidates(store.engine))
        card = run(lambda: runtime.service.score(built.session_id))
    assert not card.needs_review and card.knockout is None
    quote = card.questions[1].criteria[0].quotes[0]
    assert quote.text == "I listen to them" and quote.start_s > 0 and not quote.estimated_timing
    assert card.overall == 83.3  # empathy 4/5 = 75 at weight 2, resolution passed = 100 at weight 1


def test_a_reply_that_is_not_json_leaves_the_criteria_to_a_person(
    settings: Settings, store: SessionStore
) -> None:
    built = build_session(store, ANSWERS)
    with JsonLlmServer(lambda body: "I think this candidate is great!") as server:
        runtime = build(llm_settings(settings, server.base_url), store.engine, Candidates(store.engine))
        card = run(lambda: runtime.service.score(built.session_id))
    assert card.needs_review and card.overall is None and card.band == ""
    assert all(c.score is None and c.passed is None for q in card.questions for c in q.criteria)


def test_a_failing_server_is_retried_then_the_offline_scorer_stands_in(
    settings: Settings, store: SessionStore
) -> None:
    built = build_session(store, ANSWERS)
    settings = settings.with_overrides(job_max_attempts=2, job_backoff=0.0)
    with JsonLlmServer(truthful, status=500) as server:
        runtime = build(llm_settings(settings, server.base_url), store.engine, Candidates(store.engine))
        with pytest.raises(EngineUnavailable, match="HTTP 500"):
            run(lambda: runtime.service.score(built.session_id, final=False))
        runtime.service.enqueue_scoring(built.session_id)
        assert run(runtime.worker.run_until_idle) == 2  # first attempt retried, second falls back
    card = ScoringStore(store.engine).latest_card(built.session_id)
    assert card is not None and card.scorer == "offline" and card.needs_review
    assert "LLM scorer was unavailable" in card.review_reasons[0]
    status = ScoringStore(store.engine).candidates(built.interview_id)[0].status
    assert status == CandidateStatus.COMPLETED


def test_the_json_object_mode_sends_the_schema_for_llama_cpp() -> None:
    scorer = LlmScorer(base_url="http://127.0.0.1:9/v1", model="m", json_mode="json_object")
    assert scorer.response_format()["type"] == "json_object"
    assert scorer.response_format()["schema"]["required"] == ["criteria"]
    criteria = bounded_schema(2)["properties"]["criteria"]
    assert (criteria["minItems"], criteria["maxItems"]) == (2, 2)
    assert criteria["items"]["properties"]["quotes"]["maxItems"] == 3
    assert "maxItems" not in RESPONSE_SCHEMA["properties"]["criteria"]  # the strict mode's is unbounded
    with pytest.raises(ValueError, match="json_mode"):
        LlmScorer(base_url="http://127.0.0.1:9/v1", model="m", json_mode="yaml")
