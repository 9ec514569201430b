"""The candidate page in real headless Chromium against `milo-voice serve` on loopback.

Chromium's fake microphone plays a WAV built here from two real speech clips with reference
transcripts, placed so each answer starts after its question has been said (the lead-in and gap
come from the cached TTS durations of this interview's lines). The browser gives consent, checks
the microphone with the camera on, starts, and the interview runs over WebRTC to its closing and
the hang-up; then the database must hold a completed webrtc session whose candidate transcript
matches the clips' reference text (WER < 20%), a playable recording, and the camera's video.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import jiwer
import numpy as np
import pytest
from conftest import REPO, SPEECH
from fakes.llm_server import free_port
from helpers import words
from playwright.sync_api import Page, sync_playwright
from workspace.test_browser import wait_until

from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.script import ACKNOWLEDGEMENTS, AnswerShape, InterviewScript, Question
from milo_voice.dialogue.speaker import clauses
from milo_voice.media.pcm import read_wav, resample, write_wav
from milo_voice.media.tts import TtsCache, make_tts
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews

CHROMIUM = "/usr/bin/chromium"
CLIPS = ["librispeech_2412-153948-0000", "ljspeech_LJ001-0005"]
"""Reference-transcribed clips with no long pause inside (turn-taking is not what this test is about)."""
SCRIPT = InterviewScript(
    title="Browser check",
    role="Archivist",
    greeting="Hello, and thanks for joining this short interview.",
    questions=(
        Question("What did you read recently?", AnswerShape.SHORT_FACT, max_follow_ups=0),
        Question("What do you know about printing?", AnswerShape.SHORT_FACT, max_follow_ups=0),
    ),
    closing="That was my last question. Thank you, goodbye.",
)
WAV_RATE = 48_000
CONNECT_SLACK = 4.0
"""Seconds from the microphone opening to the greeting's first sound (click, connect, session start)."""
MARGIN = 1.5


def references() -> dict[str, str]:
    rows = [json.loads(line) for line in (SPEECH / "clips.jsonl").read_text().splitlines() if line]
    return {row["id"]: row["transcript"] for row in rows if row["transcript_kind"] == "reference"}


def line_seconds(cache: TtsCache, line: str) -> float:
    return sum(len(cache.render(piece)) for piece in clauses(line)) / 16_000


def noise(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Low room noise (about -60 dBFS): a real microphone is never digitally silent."""
    return rng.normal(0, 30, int(seconds * 16_000)).astype(np.int16)


def build_microphone(path: Path, settings: Settings) -> None:
    """Lead-in, answer 1, gap, answer 2, long tail; timed from this interview's cached TTS lines."""
    engine, engine_id = make_tts(settings)
    cache = TtsCache(settings.models_dir / "tts-cache", engine, engine_id)
    cache.prerender([piece for line in SCRIPT.fixed_lines() for piece in clauses(line)])
    opening = line_seconds(cache, SCRIPT.greeting) + line_seconds(cache, SCRIPT.questions[0].text)
    reply = max(line_seconds(cache, a) for a in ACKNOWLEDGEMENTS)
    reply += line_seconds(cache, SCRIPT.questions[1].text)
    rng = np.random.default_rng(11)
    first, second = (read_wav(SPEECH / "clips" / f"{clip}.wav") for clip in CLIPS)
    pieces = [
        noise(CONNECT_SLACK + opening + MARGIN, rng),
        first,
        noise(settings.max_silence + reply + MARGIN, rng),
        second,
        noise(10.0, rng),
    ]
    write_wav(path, resample(np.concatenate(pieces), 16_000, WAV_RATE), WAV_RATE)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, SessionStore, str]]:
    """`milo-voice serve` in a subprocess on a free loopback port, with one 2-question interview."""
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'milo.db'}", recordings_dir=tmp_path / "recordings",
        models_dir=REPO / "models", port=port,
    )
    migrate(settings.database_url)
    store = SessionStore(create_engine(settings.database_url))
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="browser-check")
    token = Candidates(store.engine).enrol(interview_id=interview_id, name="Robin Reader").token
    build_microphone(tmp_path / "mic.wav", settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MILO_")}
    env.update(MILO_DATABASE_URL=settings.database_url, MILO_RECORDINGS_DIR=str(settings.recordings_dir),
               MILO_MODELS_DIR=str(settings.models_dir), MILO_PORT=str(port), MILO_HOST="127.0.0.1")
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "milo-voice"), "serve"], env=env, cwd=tmp_path,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.2)
        yield base, store, token
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def chromium_args(wav: Path) -> list[str]:
    """The flags of ../shared/data/README.md (Playwright makes the throwaway profile itself)."""
    return [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}%noloop",  # checked: plays once, then silence
        "--autoplay-policy=no-user-gesture-required",
    ]


def run_interview(page: Page, base: str, token: str) -> list[str]:
    """Drive the page by keyboard and clicks; return the captions shown during the interview."""
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/i/{token}")
    assert page.locator("#consent-continue").is_disabled(), "no way on without consent"
    page.locator("#consent").focus()
    page.keyboard.press("Space")
    page.locator("#consent-continue").click()
    page.locator("#camera").check()
    page.locator("#mic-test").click()
    page.wait_for_selector("#start:enabled", timeout=15_000)
    page.locator("#start").click()
    page.wait_for_selector("#indicator.speaking", timeout=60_000)
    page.wait_for_selector("#captions p", timeout=30_000)
    page.wait_for_selector("#indicator.listening", timeout=30_000)
    captions = page.locator("#captions p").all_inner_texts()
    # the level meter follows the microphone: quiet room noise first, then the first answer
    wait_until(page, "document.getElementById('level').value > 0.3", timeout=30_000)  # CSP: no eval
    page.wait_for_url(f"{base}/i/{token}/thanks", timeout=150_000)
    assert "Thank you" in page.content()
    return captions


@pytest.mark.e2e
def test_a_candidate_takes_a_two_question_interview_in_chromium(
    server: tuple[str, SessionStore, str], tmp_path: Path
) -> None:
    base, store, token = server
    with sync_playwright() as playwright:
        args = chromium_args(tmp_path / "mic.wav")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            captions = run_interview(browser.new_page(), base, token)
        finally:
            browser.close()
    assert SCRIPT.greeting in captions

    deadline = time.monotonic() + 90  # the session stores its last transcript and recording after hang-up
    while store.session_ids_with_status("live") or not store.session_ids_with_status("completed"):
        assert time.monotonic() < deadline, "the session did not end"
        time.sleep(0.5)
    [session_id] = store.session_ids_with_status("completed")
    session = store.get_session(session_id)
    assert session is not None and session.channel == "webrtc"
    turns = store.turns(session_id)
    asked = [t.text for t in turns if t.speaker == "interviewer" and t.kind == "question"]
    timeline = [(t.speaker, t.kind, t.start_s, t.text) for t in turns]
    assert asked == [q.text for q in SCRIPT.questions], timeline
    answers = [t for t in turns if t.speaker == "candidate"]
    assert [t.question_position for t in answers] == [0, 1]
    refs = references()
    error = jiwer.wer(" ".join(words(refs[c]) for c in CLIPS), " ".join(words(t.text) for t in answers))
    assert error < 0.20, timeline

    assert session.recording_path is not None
    with av.open(session.recording_path) as recording:
        audio = np.concatenate([f.to_ndarray().reshape(-1) for f in recording.decode(audio=0)])
    assert session.duration_s is not None and session.duration_s > 25
    assert len(audio) > 0 and float(np.abs(audio).max()) > 0.05
    videos = sorted(Path(session.recording_dir).glob("camera-*.webm"))
    assert videos, "the camera was on: its video is kept with the session"
    with av.open(str(videos[0])) as video:
        assert sum(1 for _ in video.decode(video=0)) > 10
