"""The signed inbound webhook (issue 17): a system adds candidates by POSTing signed JSON; unsigned,
forged, stale and oversized requests are refused before anything is added; a replay with an
external id updates instead of duplicating."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.intake.hooks import IntakeHooks
from milo_voice.scoring.webhooks import sign
from milo_voice.workspace.candidates import CandidateQuery, Candidates
from milo_voice.workspace.interviews import InterviewForm, Interviews, QuestionForm


@pytest.fixture
def hook(store: SessionStore) -> dict[str, Any]:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Driver", questions=(QuestionForm("Why?"),)))
    interviews.publish(row.slug)
    return {"slug": row.slug, "secret": IntakeHooks(store.engine).secret(row.slug)}


def post(client: TestClient, slug: str, body: bytes, secret: str, *, stamp: int | None = None) -> Any:
    stamp = int(time.time()) if stamp is None else stamp
    return client.post(f"/intake/hooks/{slug}", content=body, headers={
        "Content-Type": "application/json", "X-Milo-Timestamp": str(stamp),
        "X-Milo-Signature": sign(secret, stamp, body)})


def names(store: SessionStore, slug: str) -> list[str]:
    return sorted(r.candidate.name for r in Candidates(store.engine).search(CandidateQuery(slug=slug)))


def test_a_signed_request_adds_candidates_and_a_replay_updates(
    client: TestClient, store: SessionStore, hook: dict[str, Any]
) -> None:
    body = json.dumps({"candidates": [
        {"name": "Lee Park", "email": "lee@example.com", "external_id": "lever-7", "location": "Austin, TX"},
        {"name": "Bad", "email": "nope"},
    ]}).encode()
    first = post(client, hook["slug"], body, hook["secret"])
    assert first.status_code == 200, first.text
    assert (first.json()["added"], first.json()["updated"]) == (1, 0)
    assert "email address" in first.json()["results"][1]["error"]
    again = post(client, hook["slug"], body, hook["secret"])
    assert (again.json()["added"], again.json()["updated"]) == (0, 1)
    assert names(store, hook["slug"]) == ["Lee Park"]


def test_unsigned_forged_stale_and_huge_requests_add_nobody(
    client: TestClient, store: SessionStore, hook: dict[str, Any]
) -> None:
    body = json.dumps({"name": "Eve", "email": "eve@example.com"}).encode()
    unsigned = client.post(f"/intake/hooks/{hook['slug']}", content=body,
                           headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert post(client, hook["slug"], body, "whsec_forged").status_code == 401
    assert post(client, hook["slug"], body, hook["secret"], stamp=int(time.time()) - 3600).status_code == 401
    other = Interviews(store.engine).create(InterviewForm(title="Other", questions=(QuestionForm("Q"),)))
    assert post(client, other.slug, body, hook["secret"]).status_code == 401  # another interview's secret
    huge = json.dumps({"name": "x" * 2_000_000}).encode()
    assert post(client, hook["slug"], huge, hook["secret"]).status_code == 413
    garbage = post(client, hook["slug"], b"{not json", hook["secret"])
    assert garbage.status_code == 400
    assert names(store, hook["slug"]) == []


def test_rotating_the_secret_retires_the_old_one(client: TestClient, store: SessionStore,
                                                 hook: dict[str, Any]) -> None:
    new = IntakeHooks(store.engine).rotate(hook["slug"])
    body = json.dumps({"name": "Kim", "email": "kim@example.com"}).encode()
    assert post(client, hook["slug"], body, hook["secret"]).status_code == 401
    assert post(client, hook["slug"], body, new).status_code == 200
    assert names(store, hook["slug"]) == ["Kim"]
