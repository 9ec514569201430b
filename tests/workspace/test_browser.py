"""The recruiter workspace in real headless Chromium (Playwright's library driving Debian's
/usr/bin/chromium; no browser download) against the real app under uvicorn on 127.0.0.1.

The first admin (made with `milo-voice users create`) signs in, creates and publishes an interview,
adds a candidate and copies their link; a simulated interview over the real speech pipeline is then
stored for that candidate, and the admin plays the recording and clicks a transcript line, which
seeks the player. Screenshots of the main pages land in tmp_path, and also in
$WORKSPACE_SCREENSHOTS when set (how docs/screenshots/ is refreshed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import REPO, SPEECH  # tests/conftest.py

from milo_voice.settings import Settings
from workspace.support import PASSWORD

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
ANSWER = SPEECH / "answers" / "librispeech_367_a03.wav"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium"),
]


def wait_until(page: Any, expression: str, timeout: float = 15_000) -> None:
    """`page.wait_for_function` without its in-page `eval`, which the app's Content-Security-Policy
    forbids (no 'unsafe-eval'); `page.evaluate` goes through the DevTools protocol, outside CSP."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout / 1000:.0f} s: {expression}"
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Settings]:
    with app_server(tmp_path) as settings:
        yield settings


@contextlib.contextmanager
def app_server(tmp_path: Path, extra_env: dict[str, str] | None = None) -> Iterator[Settings]:
    """The app and its worker under uvicorn in a subprocess (`app_server.py`), with a first admin;
    `extra_env` adds MILO_* settings. Stopped by PID."""
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'milo.db'}",
        port=port,
        recordings_dir=tmp_path / "rec",
        models_dir=REPO / "models",
    )
    env = {
        **os.environ,
        "MILO_DATABASE_URL": settings.database_url,
        "MILO_PORT": str(port),
        "MILO_RECORDINGS_DIR": str(settings.recordings_dir),
        "MILO_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    created = subprocess.run(
        [
            str(Path(sys.executable).with_name("milo-voice")),
            "users",
            "create",
            "--email",
            "first@example.com",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0 and "created admin first@example.com" in created.stdout, created.stderr
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("app_server.py"))], env=env, cwd=tmp_path
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # uvicorn has no readiness signal to a parent process; bounded wait on /healthz
            assert process.poll() is None, "the server exited"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start within 30 s"
            time.sleep(0.1)
        yield settings
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=15)


def simulate_for(settings: Settings, candidate_id: int) -> int:
    """A real simulated interview (tiny.en, Smart Turn, Piper, the recorder) stored for this candidate."""
    from milo_voice.calls.engines import load_runtime
    from milo_voice.calls.run import run_session
    from milo_voice.calls.session_store import SessionStore
    from milo_voice.calls.simulate import load_answers
    from milo_voice.media.transports.file import FileTransport
    from milo_voice.scoring.service import build as build_scoring
    from milo_voice.store.db import create_engine
    from milo_voice.workspace.candidates import Candidates

    store = SessionStore(create_engine(settings.database_url))
    candidate = Candidates(store.engine).by_token(_token_of(store, candidate_id))
    assert candidate is not None
    runtime = load_runtime(settings)
    try:
        transport = FileTransport(load_answers([ANSWER], SPEECH / "manifest.jsonl"), human_delay=0.6)

        async def go() -> int:
            async with asyncio.timeout(180):
                outcome = await run_session(
                    settings,
                    runtime,
                    store,
                    transport,
                    candidate_id=candidate_id,
                    interview_id=candidate.interview_id,
                    channel="simulate",
                )
            assert outcome.status == "completed"
            # The session queued its scoring; `milo-voice serve` runs that job in the background.
            scoring = build_scoring(settings, store.engine, Candidates(store.engine))
            assert await scoring.worker.run_until_idle() == 1
            return outcome.session_id

        return asyncio.run(go())
    finally:
        runtime.close()
        store.engine.dispose()


def _token_of(store: object, candidate_id: int) -> str:
    from milo_voice.workspace.candidates import Candidates

    engine = store.engine  # type: ignore[attr-defined]
    candidate, _ = Candidates(engine).get(candidate_id)
    return candidate.token


def test_admin_creates_shares_and_reviews_in_a_real_browser(server: Settings, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = f"http://127.0.0.1:{server.port}"
    shots = tmp_path / "screenshots"
    shots.mkdir()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=base)
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            page = context.new_page()
            page.set_default_timeout(15_000)
            refused: list[str] = []  # Chromium logs every Content-Security-Policy violation to the console
            csp = "Content Security Policy"
            page.on("console", lambda m: refused.extend([m.text] if csp in m.text else []))

            page.goto("/app/interviews")
            expect(page).to_have_url(f"{base}/app/login?next=%2Fapp%2Finterviews")
            page.screenshot(path=shots / "login.png")
            page.fill("input[name=email]", "first@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            expect(page).to_have_url(f"{base}/app/interviews")

            page.click("text=New interview")
            page.fill("input[name=title]", "Café barista, summer")
            page.fill("input[name=role]", "Barista")
            page.fill("textarea[name=q_text]", "What is your favourite recipe?")
            page.fill("input[name=q_max_follow_ups]", "0")
            page.click("#add-question")
            page.locator("textarea[name=q_text]").nth(1).fill("Remove me")
            page.locator("[data-remove]").nth(1).click()
            expect(page.locator("textarea[name=q_text]")).to_have_count(1)
            page.screenshot(path=shots / "interview-editor.png", full_page=True)
            page.click("button[type=submit]")
            expect(page.locator("h1")).to_contain_text("Café barista, summer")
            page.click("button:has-text('Publish')")
            expect(page.locator(".pill.published")).to_be_visible()
            page.screenshot(path=shots / "interview.png", full_page=True)

            page.fill("form[action='/app/candidates'] input[name=name]", "Robin <b>Ray</b>")
            page.click("button:has-text('Add candidate')")
            expect(page.locator("h1")).to_have_text("Robin <b>Ray</b>")
            link = page.input_value("#candidate-link")
            assert link.startswith(f"{base}/i/") and len(link.rsplit("/", 1)[1]) >= 43
            page.click("#copy-link")
            expect(page.locator("#copy-link")).to_have_text("Copied")
            assert page.evaluate("navigator.clipboard.readText()") == link
            candidate_id = int(page.url.split("/app/candidates/")[1].split("?")[0])

            with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
                pool.submit(simulate_for, server, candidate_id).result(timeout=240)

            page.goto(f"/app/candidates/{candidate_id}")
            player = page.locator("#player")
            expect(player).to_be_visible()
            lines = page.locator("#transcript .line")
            assert lines.count() >= 4
            page.evaluate("document.getElementById('player').play()")
            wait_until(page, "document.getElementById('player').currentTime > 0.5")
            answer = page.locator("#transcript .line.candidate").first
            start = float(answer.get_attribute("data-start") or "nan")
            answer.click()
            wait_until(page, f"Math.abs(document.getElementById('player').currentTime - {start}) < 1.0")
            expect(answer).to_have_class("line candidate current")
            page.evaluate("document.getElementById('player').pause()")
            page.screenshot(path=shots / "candidate-profile.png", full_page=True)
            page.click(".report-links >> text=web")  # the report page runs an inline script (allowed by hash)
            seek = page.locator("#transcript button.seek").last
            at = float(seek.get_attribute("data-t") or "nan")
            seek.click()
            wait_until(page, f"Math.abs(document.getElementById('recording').currentTime - {at}) < 1.0")
            page.evaluate("document.getElementById('recording').pause()")
            page.go_back()

            page.goto("/app/candidates")
            expect(page.locator("#candidates")).to_contain_text("Completed")
            page.screenshot(path=shots / "candidates.png", full_page=True)
            page.goto("/app/candidates?view=board")
            page.screenshot(path=shots / "candidates-board.png", full_page=True)
            page.click("text=Interviews")
            page.click("text=Café barista, summer")
            page.click("main >> text=Analytics")  # not the top bar's workspace tab
            expect(page.locator(".tile").first).to_contain_text("1")
            page.screenshot(path=shots / "analytics.png", full_page=True)
            assert refused == [], refused

            anonymous = browser.new_context(base_url=base).new_page()
            anonymous.goto(f"/app/candidates/{candidate_id}")
            expect(anonymous.locator("h1")).to_have_text("Sign in")
            assert "Robin" not in anonymous.content()
        finally:
            browser.close()

    target = os.environ.get("WORKSPACE_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in shots.iterdir():
            shutil.copy(shot, Path(target) / shot.name)
