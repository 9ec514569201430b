"""The foundation web app: health check and candidate links (real SQLite, Starlette TestClient)."""

from __future__ import annotations

from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.web.app import create_app
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.demo import Demo


def test_candidate_link_shows_the_interview_and_escapes_names(
    settings: Settings, store: SessionStore
) -> None:
    interview_id, _ = Demo(store.engine).seed()
    candidate = Candidates(store.engine).enrol(interview_id=interview_id, name="<script>alert(1)</script>")
    client = TestClient(create_app(settings, store.engine))
    page = client.get(f"/i/{candidate.token}")
    assert page.status_code == 200
    assert "Customer Support Specialist" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_unknown_link_is_a_404_and_health_answers(settings: Settings, store: SessionStore) -> None:
    client = TestClient(create_app(settings, store.engine))
    assert client.get("/i/not-a-token").status_code == 404
    assert client.get("/healthz").json() == {"status": "ok"}
