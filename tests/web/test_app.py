"""The foundation web app: health check and candidate links (real SQLite, Starlette TestClient)."""

from __future__ import annotations

from starlette.testclient import TestClient

from milo_voice.settings import Settings
from milo_voice.store.sessions import Store
from milo_voice.web.app import create_app


def test_candidate_link_shows_the_interview_and_escapes_names(settings: Settings, store: Store) -> None:
    interview_id, _ = store.seed_demo()
    candidate = store.add_candidate(interview_id=interview_id, name="<script>alert(1)</script>")
    client = TestClient(create_app(settings, store))
    page = client.get(f"/i/{candidate.token}")
    assert page.status_code == 200
    assert "Customer Support Specialist" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_unknown_link_is_a_404_and_health_answers(settings: Settings, store: Store) -> None:
    client = TestClient(create_app(settings, store))
    assert client.get("/i/not-a-token").status_code == 404
    assert client.get("/healthz").json() == {"status": "ok"}
