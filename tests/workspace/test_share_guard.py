"""Sharing while MILO_PUBLIC_URL does not reach candidates: the interview page warns, the poster is
refused; with a real public URL the poster prints (en dash and all). Also the question list's
follow-up wording. Real app, real SQLite."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.web.app import create_app
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from workspace.support import ADMIN, login

PUBLIC = "https://jobs.example.org"
FORM = InterviewForm(
    title="Archivist – Spring intake",
    role="Archivist – Spring intake",
    questions=(
        QuestionForm("What is your name?", max_follow_ups=0),
        QuestionForm("Tell me about a collection you kept.", follow_ups=("How big?", "Who used it?"),
                     max_follow_ups=2),
        QuestionForm("Why archives?"),
    ),
)


@pytest.fixture
def public(settings: Settings, store: SessionStore, users: dict[str, int]) -> Iterator[TestClient]:
    """An admin's client of a server whose MILO_PUBLIC_URL candidates can reach."""
    app = create_app(settings.with_overrides(public_url=PUBLIC), store.engine)
    with TestClient(app, base_url="https://testserver") as client:  # https: the cookie is Secure
        login(client, ADMIN)
        yield client


def published(store: SessionStore) -> str:
    interviews = Interviews(store.engine)
    slug = interviews.create(FORM).slug
    interviews.publish(slug)
    return slug


def test_the_interview_page_warns_that_candidates_cannot_open_its_links(
    admin: TestClient, public: TestClient, store: SessionStore
) -> None:
    slug = published(store)
    page = admin.get(f"/app/interviews/{slug}").text
    assert 'id="public-url-warning"' in page and "Candidates cannot open these links yet." in page
    assert "MILO_PUBLIC_URL is not set" in page and "http://127.0.0.1:8000" in page
    assert "Set MILO_PUBLIC_URL to" in page
    fine = public.get(f"/app/interviews/{slug}").text
    assert "public-url-warning" not in fine and f"{PUBLIC}/s/{slug}" in fine


def test_the_poster_is_refused_while_its_code_would_point_at_this_machine(
    admin: TestClient, store: SessionStore
) -> None:
    slug = published(store)
    refused = admin.get(f"/app/interviews/{slug}/poster.pdf")
    assert refused.status_code == 409 and refused.headers["content-type"].startswith("text/html")
    assert not refused.content.startswith(b"%PDF")
    assert "<title>Set MILO_PUBLIC_URL before printing a poster" in refused.text
    assert "MILO_PUBLIC_URL is not set" in refused.text
    assert f'href="/app/interviews/{slug}"' in refused.text
    assert admin.get("/app/interviews/nope/poster.pdf").status_code == 404


def test_the_poster_prints_the_en_dash(public: TestClient, store: SessionStore, tmp_path: Path) -> None:
    slug = published(store)
    pdf = public.get(f"/app/interviews/{slug}/poster.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    (tmp_path / "poster.pdf").write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "poster.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Archivist – Spring intake" in text and "?" not in text
    assert f"{PUBLIC}/s/{slug}" in text


def test_the_question_list_says_how_many_follow_ups_each_question_gets(
    admin: TestClient, store: SessionStore
) -> None:
    page = " ".join(admin.get(f"/app/interviews/{published(store)}").text.split())
    assert "up to 0" not in page
    assert "What is your name? <span class=\"muted\">(explanation, no follow-ups)</span>" in page
    assert "(explanation, up to 2 follow-ups: How big? / Who used it?)" in page
    assert "(explanation, up to 1 follow-up)" in page
