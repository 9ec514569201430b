"""The candidate downloads their own data (issue 20 item 3, access) from the privacy page, over real HTTP
against the app under uvicorn on 127.0.0.1: the ZIP holds the transcript with times, the recording's
exact bytes, the messages, consent, accommodation and stage answers; no secret and no team note; the
build folder is gone afterwards; each download is audited; a sixth download within the hour is 429."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fakes.loopback import ServerThread
from workspace.erasure_world import ZELDA, World
from workspace.sessions import ANSWER

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.web.app import create_app
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.demo import DEMO_SLUG


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return replace(settings, models_dir=tmp_path / "models")


@pytest.fixture
def admin_id(store: SessionStore) -> int:
    user = Accounts(store.engine).create_user(
        email="admin@example.com", password="correct horse battery", role="admin", name="Ada Admin"
    )
    assert user.id is not None
    return user.id


@pytest.fixture
def web(settings: Settings, store: SessionStore) -> Iterator[httpx.Client]:
    thread = ServerThread(create_app(settings, store.engine))
    thread.start()
    try:
        with httpx.Client(base_url=thread.base_url, timeout=60.0) as client:
            yield client
    finally:
        thread.stop()
        store.engine.dispose()


def test_the_download_holds_everything_about_the_candidate_and_no_secret(
    web: httpx.Client, store: SessionStore, settings: Settings, admin_id: int
) -> None:
    zelda = World.build(store, settings, ZELDA, admin_id)
    page = web.get(f"/i/{zelda.token}/privacy")
    assert page.status_code == 200 and "Download my data" in page.text and "z***@example.org" in page.text
    assert f'href="/i/{zelda.token}/privacy"' in web.get(f"/i/{zelda.token}").text, "every page links to it"

    response = web.post(f"/i/{zelda.token}/privacy/download")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    prefix = f"sessions/{zelda.session_id}/"
    transcript = archive.read(prefix + "transcript.txt").decode()
    assert ANSWER in transcript and "[    4.00 -     9.50] Candidate" in transcript
    assert archive.read(prefix + "media/recording.ogg") == zelda.recording.read_bytes()
    assert archive.read(prefix + "media/video.webm") == (zelda.session_dir / "video.webm").read_bytes()
    assert {prefix + "report.pdf", prefix + "transcript.vtt", prefix + "score.json"} <= names
    assert "Hello Zelda Quorn, please take the interview." in archive.read("messages.txt").decode()
    assert "running late" in archive.read("messages.txt").decode()
    profile = json.loads(archive.read("profile.json"))
    assert profile["candidate"]["email"] == ZELDA.email and "token" not in profile["candidate"]
    consent = json.loads(archive.read("data/consent_record.json"))
    assert consent[0]["address"] == "203.0.113.9" and consent[0]["notice_version"] == 1
    assert json.loads(archive.read("data/accommodation.json"))[0]["request_text"] == "Zelda needs extra time"
    stage = json.loads(archive.read("data/candidate_stage.json"))[0]
    assert stage["answers"]["why"] == "I am Zelda Quorn and I love bread"
    ratings = json.loads(archive.read("data/candidate_rating.json"))
    assert ratings[0]["stars"] == 4 and "user_id" not in ratings[0]
    assert archive.read("files/resume/Zelda Quorn_CV.pdf").startswith(b"%PDF")
    assert archive.read("files/stage_files/1/portfolio.txt") == b"Portfolio of Zelda Quorn"
    assert "data/candidate_note.json" not in names and "data/job.json" not in names
    assert "team's written notes\n(1 held)" in archive.read("README.txt").decode()
    everything = b"".join(archive.read(n) for n in names)
    assert zelda.token.encode() not in everything, "the link token is a secret: never in the download"
    exports = settings.uploads_dir / ".exports"
    deadline = time.monotonic() + 10
    while any(exports.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(exports.iterdir()) == [], "the ZIP is built in a private folder, deleted once sent"
    (event,) = [e for e in Audit(store.engine).recent() if e.action == "data_download"]
    assert event.target_id == str(zelda.candidate_id) and event.detail["sessions"] == 1


def test_downloads_are_limited_per_link_and_unknown_links_get_404(
    web: httpx.Client, store: SessionStore, settings: Settings, admin_id: int
) -> None:
    World.build(store, settings, ZELDA, admin_id)  # the demo interview
    plain = Candidates(store.engine).add(slug=DEMO_SLUG, name="Pat Plain", email="pat@example.com")
    for _ in range(5):
        assert web.post(f"/i/{plain.token}/privacy/download").status_code == 200
    refused = web.post(f"/i/{plain.token}/privacy/download")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Please wait" in refused.text
    assert web.post("/i/not-a-token/privacy/download").status_code == 404
    assert web.get("/i/not-a-token/privacy").status_code == 404
