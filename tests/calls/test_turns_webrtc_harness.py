"""bench/turns_webrtc.py for real, briefly: one short answer from its aiortc peer through the real app on
loopback uvicorn (real tiny.en, Smart Turn, Piper, SQLite), the browser's offer route and control
channel, and what the peer heard, scored as `bench/turns.py --channel webrtc` scores it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import REPO, SPEECH, manifest
from fakes.loopback import ServerThread
from fakes.twilio_caller import CallerAnswer
from sqlalchemy.engine import Engine

from milo_voice.calls.engines import LazyRuntime, load_runtime
from milo_voice.dialogue import events as ev
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.media.pcm import read_wav
from milo_voice.media.transports.webrtc import WebRtcTransport
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.web.app import create_app
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews

sys.path.append(str(REPO / "bench"))

import turns_webrtc
import turns_webrtc_clock as clock
import turns_wire
from turns_score import audible_runs

RATE = 16_000
ANSWER = "librispeech_367_a03"
"""The corpus's shortest answer: 13.6 s of speech, then 6 s of room noise."""
SCRIPT = InterviewScript(title="WebRTC harness", questions=(
    Question("What is your favourite recipe?", AnswerShape.EXPLANATION, max_follow_ups=0),))


@dataclass
class App:
    server: ServerThread
    engine: Engine
    token: str
    candidate_id: int


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    runtime = load_runtime(Settings(models_dir=REPO / "models"))
    server = ServerThread()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'milo.db'}", recordings_dir=tmp_path / "rec",
                        models_dir=REPO / "models", public_url=server.base_url)
    migrate(settings.database_url)
    engine = create_engine(settings.database_url)
    interview_id = Interviews(engine).add_script(SCRIPT, slug="webrtc-harness")
    candidate = Candidates(engine).enrol(interview_id=interview_id, name="Peer", email="peer@example.com")
    assert candidate.id is not None
    server.start(create_app(settings, engine, LazyRuntime(settings, runtime)))
    try:
        yield App(server, engine, candidate.token, candidate.id)
    finally:
        server.stop()
        runtime.close()


@pytest.mark.e2e
def test_the_peer_hears_the_question_before_its_answer_and_the_reply_after_its_true_end(app: App) -> None:
    entry: dict[str, Any] = manifest()[ANSWER]
    answer = CallerAnswer(read_wav(SPEECH / str(entry["audio"])), float(entry["speech_end_s"]))
    log = asyncio.run(turns_webrtc.talk(app.server.base_url, app.token, [answer], human_delay=0.6,
                                        max_duration=50.0))
    call, offsets, _ = turns_webrtc.heard_call("peer", [entry], [answer], log, app.engine, app.candidate_id)

    assert log.hung_up and call.completed
    [played] = log.answers
    runs = audible_runs(log.heard)
    assert any(end <= played.start for _, end in runs), "the question was heard before the answer"
    [score], _, _ = turns_wire.score_call(call)
    assert score.dead_air is not None, "a reply became audible after the answer's true end"
    assert any(start >= played.speech_end for start, _ in runs)
    assert played.stopped is not None and played.stopped >= played.speech_end  # the tail, cut by the reply

    stored = turns_webrtc.stored_session(app.engine, app.candidate_id)
    assert WebRtcTransport.heard_delay > 0  # the waits ended sooner by what WebRTC's buffers add
    assert stored.settings["turn"]["heard_delay"] == pytest.approx(WebRtcTransport.heard_delay)

    [found] = offsets  # the answer was found in the session's recording: events are on the call's clock
    assert found.match > clock.MATCH_MIN and 0.0 <= found.offset <= played.start
    onsets = [e["data"]["at"] for e in call.events if e["name"] == ev.SPEECH_START]
    speech_start = played.start + float(entry["speech_start_s"])
    assert any(played.start <= at <= speech_start + 0.5 for at in onsets)


# -- the pure parts, on synthetic audio ----------------------------------------------------------------
def test_each_answer_is_found_where_the_server_recorded_it() -> None:
    rng = np.random.default_rng(7)
    voice = [rng.normal(0, 3000, 3 * RATE).astype(np.int16) for _ in range(2)]
    recording = rng.normal(0, 30, 20 * RATE)
    recording[2 * RATE : 5 * RATE] += voice[0]  # media 2.0 s; the second one 0.1 s later than the first's
    recording[12 * RATE : 15 * RATE] += voice[1]  # offset predicts (frames lost in between)
    answers = [CallerAnswer(v, speech_end=3.0) for v in voice]
    offsets = clock.align(recording, answers, starts=[2.186, 12.286])
    assert [(o.media_start, o.offset) for o in offsets] == [(2.0, 0.186), (12.0, 0.286)]
    assert all(o.match > 0.99 for o in offsets)


def test_events_move_onto_call_time_by_the_offset_of_their_answer() -> None:
    offsets = [clock.Offset(2.0, 0.186, 1.0), clock.Offset(12.0, 0.286, 1.0)]
    events = [{"name": ev.SESSION_START, "t": 0.0, "data": {}},
              {"name": ev.SPEECH_START, "t": 2.5, "data": {"at": 2.3}},
              {"name": ev.DUCK, "t": 13.0, "data": {"on": True, "onset": 0.0}}]
    moved = clock.on_call_time(events, offsets, fallback=9.0)
    assert [e["t"] for e in moved] == [0.186, 2.686, 13.286]
    assert moved[1]["data"]["at"] == 2.486 and moved[2]["data"]["onset"] == 0.0  # 0: no onset known


def test_the_answerer_answers_after_the_prompt_and_stops_its_tail_when_the_reply_starts() -> None:
    speech = np.concatenate([np.full(RATE, 1000, np.int16), np.zeros(RATE, np.int16)])  # 1 s, then a tail
    answerer = turns_webrtc.Answerer([CallerAnswer(speech, speech_end=1.0)], human_delay=0.6)
    sent = []
    for n in range(200):
        t = round(n * 0.02, 3)
        answerer.hear(t, -20.0 if t < 1.0 or t >= 2.7 else -200.0)  # the question, then the reply
        sent.append(float(np.abs(answerer.frame(t)).mean()))
    [played] = answerer.played
    assert played.start == pytest.approx(1.58) and played.speech_end == pytest.approx(2.58)
    assert played.stopped == pytest.approx(2.7)  # the reply was heard 1.12 s into the answer: tail cut
    assert sent[round(1.56 / 0.02)] == 0.0 and sent[round(1.6 / 0.02)] > 0
