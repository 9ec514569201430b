"""The JSON API end to end over the real app: create and publish an interview, add a candidate,
list and fetch results; and the OpenAPI description matches the routes."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.web.workspace import api, intake_api
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.interviews import Interviews
from workspace.sessions import store_session


def test_an_integration_creates_publishes_invites_and_reads_results(
    client: TestClient, accounts: Accounts, users: dict[str, int], store: SessionStore, settings: Settings
) -> None:
    _, key = accounts.create_api_key(user_id=users["admin"], name="ATS")
    auth = {"Authorization": f"Bearer {key}"}
    body: dict[str, Any] = {
        "title": "Warehouse <picker>",
        "role": "Picker",
        "publish": True,
        "questions": [
            {"text": "Can you lift 20 kg?", "shape": "short_fact", "max_follow_ups": 0},
            {"text": "Tell me about a shift.", "shape": "story", "follow_ups": ["What next?"]},
        ],
    }
    created = client.post("/api/interviews", json=body, headers=auth)
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    assert created.json()["status"] == "published"
    fetched = client.get(f"/api/interviews/{slug}", headers=auth).json()
    assert fetched["title"] == "Warehouse <picker>"
    assert [q["follow_ups"] for q in fetched["questions"]] == [[], ["What next?"]]
    added = client.post(f"/api/interviews/{slug}/candidates", json={"name": "Pat"}, headers=auth)
    assert added.status_code == 201
    candidate = added.json()
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/i/[A-Za-z0-9_-]{43}", candidate["link"])
    version = Interviews(store.engine).latest(slug)
    store_session(
        store,
        candidate_id=candidate["id"],
        interview_id=version.id or 0,
        directory=settings.recordings_dir / "api",
    )
    listed = client.get("/api/candidates", params={"interview": slug, "status": "completed"}, headers=auth)
    assert [c["name"] for c in listed.json()] == ["Pat"]
    result = client.get(f"/api/candidates/{candidate['id']}", headers=auth).json()
    [session] = result["sessions"]
    assert session["status"] == "completed"
    assert [line["speaker"] for line in session["transcript"]] == [
        "interviewer",
        "interviewer",
        "candidate",
        "interviewer",
    ]
    assert session["timing"]["barge_ins"] == 1
    bad = client.post("/api/interviews", content=b"{not json", headers=auth)
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]
    empty = client.post("/api/interviews", json={"title": "T", "questions": []}, headers=auth)
    assert empty.status_code == 400 and "at least one question" in empty.json()["error"]
    assert client.get("/api/interviews/nope", headers=auth).status_code == 404


def test_the_openapi_description_covers_every_route(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    described = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    served = set()
    for route in [*api.routes(), *intake_api.routes()]:
        if route.path == "/openapi.json":
            continue
        path = re.sub(r"\{(\w+):int\}", r"{\1}", route.path).replace("{cid}", "{id}")
        served |= {(path, m) for m in (route.methods or set()) - {"HEAD"}}
    assert described == served
    for ops in spec["paths"].values():
        for op in ops.values():
            assert {"401", "403"} <= set(op["responses"])
            for ref in re.findall(r"#/components/schemas/(\w+)", str(op)):
                assert ref in spec["components"]["schemas"]
