"""The LLM assessment stage over HTTP (issue 18), against an OpenAI-compatible server on loopback:
the chat is stored as it happens, an assistant that is down or slow gives a clear message and the
session resumes, the deliverable is submitted and judged with quotes from the chat and the answer,
and the stage cannot be published without an assistant model."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
from fakes.llm_server import FakeLlmServer, FakeReply
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring.rubric import Criterion, QuestionRubric
from milo_voice.settings import Settings
from milo_voice.stages.types import AssessmentSpec, StageSpec
from milo_voice.store.tables import CandidateStatus, StageKind, StageStatus
from milo_voice.web.app import create_app
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.pipeline import Pipeline
from workspace.support import csrf_of

TASK = AssessmentSpec(
    task="Draft a reply to the customer from the notes: apologise for the late delivery and offer a refund.",
    materials="Order 1182, two days late. Policy: full refund of the delivery fee (4.99).",
    rubric=QuestionRubric(
        criteria=(
            Criterion(
                id="reply",
                name="A complete reply",
                anchors={
                    1: "no reply",
                    5: "apologises for the late delivery and offers a refund of the delivery fee",
                },
            ),
        )
    ),
)
STAGES = (StageSpec(kind=StageKind.ASSESSMENT, assessment=TASK), StageSpec(kind=StageKind.VOICE))


@pytest.fixture
def fake_llm() -> Iterator[FakeLlmServer]:
    with FakeLlmServer(FakeReply("Dear customer, we are sorry your order 1182 arrived late.")) as fake:
        yield fake


@pytest.fixture
def assisted(settings: Settings, fake_llm: FakeLlmServer) -> Settings:
    return settings.with_overrides(assessment_llm_base_url=fake_llm.base_url, assessment_timeout=1.5)


@pytest.fixture
def token(store: SessionStore) -> str:
    interviews = Interviews(store.engine)
    row = interviews.create(
        InterviewForm(title="Support agent", questions=(QuestionForm("Why support?"),), stages=STAGES)
    )
    interviews.publish(row.slug)
    return Candidates(store.engine).add(slug=row.slug, name="Ana Lima", email="ana@example.org").token


def test_a_full_session_is_stored_judged_and_resumable(
    admin: TestClient,
    assisted: Settings,
    store: SessionStore,
    fake_llm: FakeLlmServer,
    token: str,
) -> None:
    with TestClient(create_app(assisted, store.engine)) as client:
        gate = client.get(f"/i/{token}")  # the notice first: the session starts once the candidate agreed
        assert "Order 1182" not in gate.text and 'name="notice.agree"' in gate.text
        assert client.post(f"/i/{token}/assessment/chat", json={"text": "hi"}).status_code == 409
        client.post(f"/i/{token}/notice", data={"notice.agree": "yes", "notice.version": "0"})
        page = client.get(f"/i/{token}")
        assert page.status_code == 200 and "Step 1 of 2" in page.text and "Order 1182" in page.text
        sent = client.post(
            f"/i/{token}/assessment/chat",
            json={"text": "Write a short apology for order 1182 and offer a refund of 4.99"},
        )
        assert sent.status_code == 200
        assert [t["role"] for t in sent.json()["turns"]] == ["candidate", "assistant"]
        system = fake_llm.requests[-1]["messages"][0]  # type: ignore[index]
        assert "Draft a reply" in system["content"] and "Policy: full refund" in system["content"]

        fake_llm.reply = FakeReply(status=500)  # the assistant is down: a clear message, nothing lost
        down = client.post(f"/i/{token}/assessment/chat", json={"text": "Check the refund amount is 4.99"})
        assert down.status_code == 503 and "not answering right now" in down.json()["error"]
        fake_llm.reply = FakeReply(hang=True)  # slow: the same, after the timeout
        slow = client.post(f"/i/{token}/assessment/chat", json={"text": "Check the refund amount is 4.99"})
        assert slow.status_code == 503
        fake_llm.reply = FakeReply("The refund is 4.99, the delivery fee.")
        again = client.post(f"/i/{token}/assessment/chat", json={"text": "Check the refund amount is 4.99"})
        assert again.status_code == 200

        resumed = html.unescape(client.get(f"/i/{token}").text)  # the page is reopened: all of it is there
        assert resumed.count("Check the refund amount is 4.99") == 3 and "not answering right now" in resumed
        assert (
            client.post(f"/i/{token}/assessment/draft", json={"text": "Dear customer, sorry"}).status_code
            == 204
        )
        assert client.post(f"/i/{token}/assessment/submit", json={"text": "  "}).status_code == 400
        answer = (
            "Dear customer, we apologise for the late delivery of order 1182. "
            "We will refund the delivery fee of 4.99 today."
        )
        done = client.post(f"/i/{token}/assessment/submit", json={"text": answer})
        assert done.status_code == 200 and done.json()["next"] == f"/i/{token}"
        assert "Step 2 of 2" in client.get(f"/i/{token}").text  # the voice stage is next
        late = client.post(f"/i/{token}/assessment/chat", json={"text": "one more"})
        assert late.status_code == 409

    candidate = Candidates(store.engine).by_token(token)
    assert candidate is not None and candidate.status == CandidateStatus.INVITED.value
    [result] = [v.result for v in Pipeline(store.engine).views(candidate.id or 0) if v.position == 0]
    assert result is not None and result.status == StageStatus.PASSED.value and result.score is not None
    stored = result.answers
    assert [t["role"] for t in stored["turns"]] == [
        "candidate",
        "assistant",
        "candidate",
        "notice",
        "candidate",
        "notice",
        "candidate",
        "assistant",
    ]
    assert [d["text"] for d in stored["drafts"]] == ["Dear customer, sorry", answer]
    assert stored["seconds_taken"] is not None and stored["deliverable"] == answer
    prompts = [t["text"] for t in stored["turns"] if t["role"] == "candidate"]
    for e in result.evidence:  # every quote is the candidate's own words: the deliverable or a prompt
        assert any(e["quote"] in text for text in [answer, *prompts]), e
    profile = admin.get(f"/app/candidates/{candidate.id}").text
    assert "Chat with the assistant (8 messages" in profile and "We will refund the delivery fee" in profile


def test_without_an_assistant_the_stage_cannot_be_published(admin: TestClient, store: SessionStore) -> None:
    interviews = Interviews(store.engine)
    draft = interviews.create(InterviewForm(title="Writer", questions=(QuestionForm("Why?"),), stages=STAGES))
    page = admin.get(f"/app/interviews/{draft.slug}")
    refused = admin.post(f"/app/interviews/{draft.slug}/publish", data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 400 and "needs an assistant model" in refused.text
    assert interviews.latest(draft.slug).status == "draft"
    editor = admin.get(f"/app/interviews/{draft.slug}/stages")
    assert "cannot be published on this server yet" in editor.text  # a draft may be edited: it says why
    assert "MILO_ASSESSMENT_LLM_BASE_URL" in editor.text


def test_the_chat_refuses_garbage_and_closed_links(
    assisted: Settings, store: SessionStore, token: str
) -> None:
    with TestClient(create_app(assisted, store.engine)) as client:
        client.post(f"/i/{token}/notice", data={"notice.agree": "yes", "notice.version": "0"})
        client.get(f"/i/{token}")
        bad = client.post(
            f"/i/{token}/assessment/chat", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert bad.status_code == 400 and "JSON" in bad.json()["error"]
        assert client.post(f"/i/{token}/assessment/chat", json={"text": 5}).status_code == 400
        assert client.post("/i/no-such-token/assessment/chat", json={"text": "hi"}).status_code == 404
