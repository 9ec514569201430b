"""SIGKILL the node that holds a browser interview, in headless Chromium: the page reconnects through the
proxy to the other node, which adopts the session and goes on at the current question; the stored
transcript has both answers, and the recording in the store has the audio from before the kill (up to the
dead node's last mirror, at most one flush interval behind what its own disk held) joined to the rest.

The candidate's microphone is Web Audio inside the real browser (an init script replaces getUserMedia), so
the test says each answer when the interviewer is listening, however long the reconnect took. Everything
else is real: Chromium's WebRTC, two `milo-voice serve` processes, PostgreSQL and moto's S3 server.
"""

from __future__ import annotations

import base64
import io
import json
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import jiwer
import numpy as np
import pytest
from cluster_harness import Node, Shared, nodes, shared, wait
from conftest import SPEECH
from front_proxy import FrontProxy
from helpers import words
from playwright.sync_api import Page, sync_playwright

from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.media.pcm import read_wav, resample, write_wav
from milo_voice.media.recorder import recover
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews

CHROMIUM = "/usr/bin/chromium"
CLIPS = ["librispeech_2412-153948-0000", "ljspeech_LJ001-0005"]
SCRIPT = InterviewScript(
    title="Node death",
    greeting="Hello, and thanks for joining this short interview.",
    questions=(
        Question("What did you read recently?", AnswerShape.SHORT_FACT, max_follow_ups=0),
        Question("What do you know about printing?", AnswerShape.SHORT_FACT, max_follow_ups=0),
    ),
    closing="That was my last question. Thank you, goodbye.",
)
MICROPHONE = """
(() => {
  const ctx = new AudioContext({ sampleRate: 48000 });
  const out = ctx.createMediaStreamDestination();
  const hiss = ctx.createBufferSource();               // low room noise: a microphone is never silent
  const noise = ctx.createBuffer(1, 48000 * 2, 48000);
  const data = noise.getChannelData(0);
  for (let i = 0; i < data.length; i++) { data[i] = (Math.random() - 0.5) * 0.002; }
  hiss.buffer = noise; hiss.loop = true; hiss.connect(out); hiss.start();
  window.__say = async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const audio = await ctx.decodeAudioData(bytes.buffer);
    const source = ctx.createBufferSource();
    source.buffer = audio; source.connect(out); source.start();
    return audio.duration;
  };
  navigator.mediaDevices.getUserMedia = async () => { await ctx.resume(); return out.stream; };
})();
"""


@dataclass
class Setup:
    where: Shared
    a: Node
    b: Node
    proxy: FrontProxy
    token: str


def references() -> dict[str, str]:
    rows = [json.loads(line) for line in (SPEECH / "clips.jsonl").read_text().splitlines() if line]
    return {row["id"]: row["transcript"] for row in rows if row["transcript_kind"] == "reference"}


def clip_b64(clip: str, tmp: Path) -> str:
    wav = tmp / f"{clip}-48k.wav"
    write_wav(wav, resample(read_wav(SPEECH / "clips" / f"{clip}.wav"), 16_000, 48_000), 48_000)
    return base64.b64encode(wav.read_bytes()).decode()


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    with shared(tmp_path) as where:
        interview_id = Interviews(where.store.engine).add_script(SCRIPT, slug="node-death")
        token = Candidates(where.store.engine).enrol(interview_id=interview_id, name="Robin Reader").token
        proxy = FrontProxy([])  # its port is known now: the nodes' MILO_PUBLIC_URL
        with nodes(where, ("a", "b"), public_port=proxy.server.port) as (a, b):
            proxy.upstreams = [a.base, b.base]  # a first: the call starts there
            proxy.start()
            try:
                yield Setup(where, a, b, proxy, token)
            finally:
                proxy.stop()


def listening(page: Page, timeout_s: float) -> None:
    page.wait_for_selector("#indicator.listening", timeout=timeout_s * 1000)


def test_a_killed_nodes_browser_interview_resumes_on_the_other_node(setup: Setup, tmp_path: Path) -> None:
    store, a, b = setup.where.store, setup.a, setup.b
    answers = [clip_b64(clip, tmp_path) for clip in CLIPS]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--autoplay-policy=no-user-gesture-required"])
        try:
            context = browser.new_context(bypass_csp=True)
            context.add_init_script(MICROPHONE)
            page = context.new_page()
            page.on("dialog", lambda dialog: dialog.accept())
            page.goto(f"{setup.proxy.base}/i/{setup.token}")
            page.locator("#consent").check()
            page.locator("#consent-continue").click()
            page.locator("#mic-test").click()
            page.wait_for_selector("#start:enabled", timeout=15_000)
            page.locator("#start").click()
            page.wait_for_selector("#indicator.speaking", timeout=60_000)
            listening(page, 60)
            page.evaluate("(b64) => window.__say(b64)", answers[0])

            def second_question_heard() -> bool:
                [sid] = store.session_ids_with_status("live") or [0]
                return any(t.kind == "question" and t.question_position == 1 for t in store.turns(sid))

            wait(second_question_heard, 60, "node a never asked the second question")
            [session_id] = store.session_ids_with_status("live")
            row = store.get_session(session_id)
            assert row is not None and row.node == "a"
            time.sleep(1.5)  # into the wait for the second answer
            a.proc.send_signal(signal.SIGKILL)  # by its PID
            a.proc.wait()
            killed_at = time.monotonic()

            def adopted() -> bool:
                fresh = store.get_session(session_id)
                return fresh is not None and fresh.node == "b"

            wait(adopted, 60, "node b never took the session over")
            resumed_after = time.monotonic() - killed_at
            page.wait_for_selector("#indicator.speaking", timeout=30_000)  # the apology and the question
            listening(page, 60)
            page.evaluate("(b64) => window.__say(b64)", answers[1])
            page.wait_for_url(f"{setup.proxy.base}/i/{setup.token}/thanks", timeout=120_000)
        finally:
            browser.close()

    def uploaded() -> bool:  # the session ends, then its recording goes to the store
        row = store.get_session(session_id)
        return row is not None and row.status == "completed" and (row.recording_path or "").startswith("s3://")

    wait(uploaded, 90, "the session did not end with its recording in the store")
    session = store.get_session(session_id)
    assert session is not None and session.node == "b"
    turns = store.turns(session_id)
    timeline = [(t.index, t.speaker, t.kind, t.question_position, t.start_s, t.text) for t in turns]
    full = [t for t in turns if t.speaker == "candidate" and t.kind == "answer"]
    assert sorted({t.question_position for t in full}) == [0, 1], timeline
    refs = references()
    for position, clip in enumerate(CLIPS):
        said = " ".join(words(t.text) for t in full if t.question_position == position)
        assert jiwer.wer(words(refs[clip]), said) < 0.25, timeline
    asked = [t for t in turns if t.speaker == "interviewer" and t.kind == "question"]
    assert [t.question_position for t in asked].count(1) == 2, "the second question is asked again once"
    assert [t.start_s for t in turns] == sorted(t.start_s for t in turns), timeline

    # the recording: in the store, one timeline, the dead node's audio up to its last mirror first
    adopted_line = re.search(r"takeover.adopted .*?audio_s=([\d.]+) offset_s=([\d.]+)", b.text())
    assert adopted_line is not None, b.text()[-3000:]
    offset = float(adopted_line.group(2))
    dead_disk = recover(next((a.home / "recordings").glob("session-*")))  # what node a's own disk held
    assert dead_disk is not None
    with av.open(str(dead_disk)) as held:
        on_a = np.concatenate([f.to_ndarray()[0] for f in held.decode(audio=0)])
        a_rate = held.streams.audio[0].rate
    lost = len(on_a) / a_rate - offset
    assert lost <= 0.6, f"{lost:.2f} s of node a's recording missing from the joined one"
    assert session.recording_path is not None and session.recording_path.startswith("s3://")
    key = session.recording_path.removeprefix(f"s3://{setup.where.bucket}/")
    data = setup.where.s3.get_object(Bucket=setup.where.bucket, Key=key)["Body"].read()  # type: ignore[attr-defined]
    with av.open(io.BytesIO(data)) as joined:
        frames = [f.to_ndarray() for f in joined.decode(audio=0)]
        rate = joined.streams.audio[0].rate
    candidate = np.concatenate([f[0] for f in frames])
    assert len(candidate) / rate > offset + 5
    env_a, env_joined = _envelope(on_a[: int(offset * a_rate)], a_rate), _envelope(candidate, rate)
    n = min(len(env_a), len(env_joined))
    assert np.corrcoef(env_a[:n], env_joined[:n])[0, 1] > 0.9, "the audio before the kill is not the same"
    print(f"\nnode death: b adopted the session {resumed_after:.1f} s after the kill; node a's disk held "
          f"{len(on_a) / a_rate:.2f} s, the joined recording keeps {offset:.2f} s of it ({lost:.2f} s lost)")


def _envelope(samples: np.ndarray, rate: int) -> np.ndarray:
    """RMS per 100 ms (interleaved stereo frames were split: `samples` is the candidate channel)."""
    step = rate // 10
    usable = len(samples) // step * step
    return np.sqrt((samples[:usable].astype(np.float64).reshape(-1, step) ** 2).mean(axis=1))
