"""Intake over the API (issue 17): bulk add where each entry stands alone, the same external id
updating instead of duplicating, cursor pagination of the candidate list, and the OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.interviews import InterviewForm, Interviews, QuestionForm


@pytest.fixture
def api(client: TestClient, accounts: Accounts, users: dict[str, int], store: SessionStore) -> dict[str, Any]:
    _, key = accounts.create_api_key(user_id=users["admin"], name="ATS")
    _, viewer_key = accounts.create_api_key(user_id=users["viewer"], name="read")
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Picker", questions=(QuestionForm("Why?"),)))
    interviews.publish(row.slug)
    return {"auth": {"Authorization": f"Bearer {key}"}, "viewer": {"Authorization": f"Bearer {viewer_key}"},
            "slug": row.slug}


def test_bulk_add_keeps_good_entries_and_reports_each_bad_one(client: TestClient, api: dict[str, Any]
                                                              ) -> None:
    entries = [
        {"name": "Ana Lima", "email": "ana@example.com", "phone": "(415) 555-0134", "external_id": "gh-1",
         "location": "Oakland, CA"},
        {"name": "Bo", "email": "not-an-email"},
        {"email": "noname@example.com"},
        "a string",
        {"name": "Cy", "email": "cy@example.com", "phone": "12"},
        {"name": "Di", "email": "di@example.com"},
    ]
    response = client.post(f"/api/interviews/{api['slug']}/candidates/bulk", json={"candidates": entries},
                           headers=api["auth"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["added"], body["updated"], body["failed"]) == (2, 0, 4)
    results = body["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert "email address" in results[1]["error"] and "name" in results[2]["error"]
    assert "JSON object" in results[3]["error"] and "phone number" in results[4]["error"]
    ana = results[0]["candidate"]
    assert (ana["external_id"], ana["location"], ana["source"]) == ("gh-1", "Oakland, CA", "api")
    assert ana["phone"] == "(415) 555-0134"


def test_the_same_external_id_updates_and_never_duplicates(client: TestClient, api: dict[str, Any]) -> None:
    url = f"/api/interviews/{api['slug']}/candidates"
    first = client.post(url, json={"name": "Ana", "email": "ana@example.com", "external_id": "X-9"},
                        headers=api["auth"])
    assert first.status_code == 201
    again = client.post(url, json={"name": "Ana Lima", "email": "ana.lima@example.com", "external_id": "X-9"},
                        headers=api["auth"])
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["link"] == first.json()["link"]
    bulk = client.post(f"{url}/bulk", json={"candidates": [{"name": "Ana L.", "external_id": "X-9"}] * 2},
                       headers=api["auth"]).json()
    assert (bulk["added"], bulk["updated"]) == (0, 2)
    listed = client.get("/api/candidates", params={"external_id": "X-9"}, headers=api["auth"]).json()
    assert [(c["id"], c["name"]) for c in listed] == [(first.json()["id"], "Ana L.")]
    no_id = client.post(url, json={"name": "Ana", "email": "ana.lima@example.com"}, headers=api["auth"])
    assert no_id.status_code == 400 and "already a candidate" in no_id.json()["error"]


def test_viewers_cannot_bulk_add(client: TestClient, api: dict[str, Any]) -> None:
    response = client.post(f"/api/interviews/{api['slug']}/candidates/bulk",
                           json={"candidates": [{"name": "X"}]}, headers=api["viewer"])
    assert response.status_code == 403


def test_cursor_pagination_walks_every_candidate_once(client: TestClient, api: dict[str, Any]) -> None:
    entries = [{"name": f"C{i:02d}", "external_id": f"e{i}"} for i in range(23)]
    client.post(f"/api/interviews/{api['slug']}/candidates/bulk", json={"candidates": entries},
                headers=api["auth"])
    seen: list[str] = []
    params: dict[str, str] = {"limit": "10", "interview": api["slug"]}
    pages = 0
    while True:
        page = client.get("/api/candidates", params=params, headers=api["auth"])
        assert page.status_code == 200
        seen += [c["name"] for c in page.json()]
        pages += 1
        cursor = page.headers.get("x-next-cursor")
        if not cursor:
            assert "link" not in page.headers
            break
        assert 'rel="next"' in page.headers["link"] and f"cursor={cursor}" in page.headers["link"]
        params["cursor"] = cursor
        if pages == 1:  # a candidate added mid-walk does not shift the pages
            client.post(f"/api/interviews/{api['slug']}/candidates", json={"name": "Late"},
                        headers=api["auth"])
    assert pages == 3
    assert seen == [f"C{i:02d}" for i in reversed(range(23))]
    bad = client.get("/api/candidates", params={"cursor": "garbage!"}, headers=api["auth"])
    assert bad.status_code == 400 and "cursor" in bad.json()["error"]
    assert client.get("/api/candidates", params={"limit": "0"}, headers=api["auth"]).status_code == 400


def test_openapi_describes_bulk_add_and_the_list_parameters(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    bulk = spec["paths"]["/interviews/{slug}/candidates/bulk"]["post"]
    assert bulk["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("BulkCandidates")
    params = {p["name"] for p in spec["paths"]["/candidates"]["get"]["parameters"]}
    assert {"cursor", "limit", "external_id", "source"} <= params
    assert "external_id" in spec["components"]["schemas"]["NewCandidate"]["properties"]
