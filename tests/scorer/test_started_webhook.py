"""`interview.started` goes out: one short simulated interview on real speech (the real session
runner, `live.run_session`) and a real receiver on loopback; the start is announced, signed,
before the completion."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from conftest import REPO, SPEECH
from helpers import run
from webhook_receiver import WebhookReceiver

from milo_voice.calls.engines import load_runtime
from milo_voice.calls.session_store import SessionStore
from milo_voice.calls.simulate import SimulationResult, load_answers, simulate
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.media.pcm import read_wav, write_wav
from milo_voice.media.types import SAMPLE_RATE
from milo_voice.scoring.service import build
from milo_voice.scoring.store import ScoringStore
from milo_voice.scoring.webhooks import new_secret
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews

SCRIPT = InterviewScript(
    title="Started webhook: one question",
    questions=(Question("What is your favourite recipe?", AnswerShape.EXPLANATION, max_follow_ups=0),),
)


@pytest.mark.e2e
def test_a_simulated_session_announces_its_start_before_its_completion(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'milo.db'}",
        recordings_dir=tmp_path / "rec",
        models_dir=REPO / "models",
        webhook_allow_private_targets=True,  # the receiver listens on 127.0.0.1
    )
    migrate(settings.database_url)
    store = SessionStore(create_engine(settings.database_url))
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="started")
    clip = tmp_path / "answer.wav"  # six seconds of a real answer keep the interview short
    write_wav(clip, read_wav(SPEECH / "answers" / "librispeech_367_a03.wav")[: SAMPLE_RATE * 6])
    secret = new_secret()
    with WebhookReceiver(secret, [200]) as receiver:
        ScoringStore(store.engine).add_endpoint(
            receiver.url, secret, ["interview.started", "interview.completed"]
        )
        runtime = load_runtime(settings)
        try:

            async def go() -> SimulationResult:
                async with asyncio.timeout(180):
                    return await simulate(
                        settings, runtime, store, load_answers([clip]), interview_id=interview_id
                    )

            result = asyncio.run(go())
        finally:
            runtime.close()
        assert result.completed
        log = sorted(ScoringStore(store.engine).deliveries(), key=lambda d: d.id or 0)
        assert [d.event for d in log] == ["interview.started", "interview.completed"]
        worker = build(settings, store.engine, Candidates(store.engine)).worker
        assert run(worker.run_until_idle, timeout=60) >= 2  # the two deliveries (and the scoring job)
    events = [r.headers["x-milo-event"] for r in receiver.received]
    assert events == ["interview.started", "interview.completed"]
    assert all(r.signature_ok and r.answered == 200 for r in receiver.received)
    started = json.loads(receiver.received[0].body)["data"]
    assert started["session_id"] == result.session_id and started["interview_title"] == SCRIPT.title
    assert started["candidate_name"] == "Simulated candidate"
