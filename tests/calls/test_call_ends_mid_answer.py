"""A call that ends in the middle of an answer, over the real pipeline (tiny.en, Smart Turn, Piper,
webrtcvad, SQLite): the row stored while the answer went on (kind "partial") becomes the finished
answer, with the whole-answer decode's words; nothing is left marked partial and no index is skipped.
The recording is fed in real time, as a call's is: fed faster, the live decodes (which write the partial
row) could all finish after the call's end on a busy machine, and the test failed when run after others."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import REPO, SPEECH, manifest
from helpers import words

from milo_voice.calls.engines import load_runtime
from milo_voice.calls.run import run_session
from milo_voice.calls.session_store import SessionStore
from milo_voice.calls.simulate import load_answers
from milo_voice.dialogue.session_types import PARTIAL
from milo_voice.media.transports.file import FileTransport
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.demo import Demo

ANSWER = "librispeech_2609_a02"
CALL_ENDS_AT = 18.0
"""Media seconds: the demo's question ends at 6.8 s, so the call ends ~10.6 s into the answer."""


@pytest.mark.e2e
def test_an_answer_cut_by_the_end_of_the_call_finishes_its_partial_row(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'milo.db'}",
        recordings_dir=tmp_path / "rec",
        models_dir=REPO / "models",
        uploads_dir=tmp_path / "uploads",
    )
    migrate(settings.database_url)
    store = SessionStore(create_engine(settings.database_url))
    interview_id, _ = Demo(store.engine, now=store.now).seed()
    candidate = Candidates(store.engine, now=store.now).enrol(interview_id=interview_id, name="Cut off")
    assert candidate.id is not None
    answers = load_answers([SPEECH / "answers" / f"{ANSWER}.wav"], SPEECH / "manifest.jsonl")
    transport = FileTransport(answers, realtime=True, max_duration=CALL_ENDS_AT)  # as a call: decodes keep up
    runtime = load_runtime(settings)
    try:
        outcome = asyncio.run(
            run_session(
                settings,
                runtime,
                store,
                transport,
                candidate_id=candidate.id,
                interview_id=interview_id,
                channel="simulate",
            )
        )
    finally:
        runtime.close()
    assert outcome.status == "interrupted" and outcome.writer.partial_writes >= 1
    turns = store.turns(outcome.session_id)
    assert [t.index for t in turns] == list(range(len(turns)))
    [answer] = [t for t in turns if t.speaker == "candidate"]
    assert answer.kind == "answer" != PARTIAL and answer.live_text and answer.words
    said = words(answer.text).split()
    reference = words(str(manifest()[ANSWER]["transcript"])).split()[:40]
    assert len(said) >= 10 and sum(w in reference for w in said) >= 0.6 * len(said), answer.text
    assert answer.end_s <= CALL_ENDS_AT
