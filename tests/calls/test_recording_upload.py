"""Recordings go to the object store when a session ends (docs/storage.md): a real simulated interview
uploads its recording as it closes; an upload that fails keeps the local files and is retried by
`recover`; and `recover` uploads what a killed process left. The store is a real S3-speaking server on
loopback (moto, tests/s3_server.py); the recordings are made by the real Recorder."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, SPEECH
from s3_server import ACCESS_KEY, SECRET_KEY, MotoServer, start
from workspace.sessions import store_session

from milo_voice.calls.engines import load_runtime
from milo_voice.calls.recording_upload import upload_after_session
from milo_voice.calls.recovery import recover_sessions
from milo_voice.calls.session_store import SessionStore
from milo_voice.calls.simulate import SimulationResult, load_answers, simulate
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.media.pcm import frames, read_wav, write_wav
from milo_voice.media.recorder import Recorder
from milo_voice.media.types import SAMPLE_RATE
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.store.recordings import recordings_for
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews

SCRIPT = InterviewScript(
    title="Upload: one question",
    questions=(Question("What is your favourite recipe?", AnswerShape.EXPLANATION, max_follow_ups=0),),
)


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = start(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


def s3_settings(tmp_path: Path, moto: MotoServer, bucket: str) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'milo.db'}",
        recordings_dir=tmp_path / "rec",
        models_dir=REPO / "models",
        uploads_dir=tmp_path / "uploads",
        storage_url=f"s3://{bucket}/milo",
        s3_endpoint_url=moto.url,
        s3_access_key_id=ACCESS_KEY,
        s3_secret_access_key=SECRET_KEY,  # type: ignore[arg-type]
    )


def open_store(settings: Settings) -> tuple[SessionStore, int, int]:
    """The migrated database, an interview and a candidate on it."""
    migrate(settings.database_url)
    store = SessionStore(create_engine(settings.database_url))
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="upload")
    candidate = Candidates(store.engine).enrol(interview_id=interview_id, name="Ada Upload")
    return store, candidate.id or 0, interview_id


@pytest.mark.e2e
def test_a_simulated_session_uploads_its_recording_as_it_ends(tmp_path: Path, moto: MotoServer) -> None:
    settings = s3_settings(tmp_path, moto, moto.bucket())
    store, _, interview_id = open_store(settings)
    clip = tmp_path / "answer.wav"  # four seconds of a real answer keep the interview short
    write_wav(clip, read_wav(SPEECH / "answers" / "librispeech_367_a03.wav")[: SAMPLE_RATE * 4])
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
    row = store.get_session(result.session_id)
    assert row is not None and row.recording_path is not None
    folder = Path(row.recording_dir)
    key = f"{folder.name}/recording.ogg"
    assert row.recording_path == f"{settings.storage_url}/{key}"
    assert not folder.exists()  # uploaded and checked: the local copy is gone
    stored = recordings_for(settings).locate(row.recording_path)
    assert stored is not None and stored.size > 1000
    assert b"".join(stored.chunks(0, 4)) == b"OggS"


def test_a_failed_upload_keeps_the_files_and_recover_retries_it(tmp_path: Path, moto: MotoServer) -> None:
    bucket = f"later-{tmp_path.name[-20:].lower().replace('_', '-')}"  # not created yet: uploads fail
    settings = s3_settings(tmp_path, moto, bucket)
    store, candidate_id, interview_id = open_store(settings)
    folder = settings.recordings_dir / "session-failed"
    sid = store_session(store, candidate_id=candidate_id, interview_id=interview_id, directory=folder)
    local = (folder / "recording.ogg").read_bytes()

    assert upload_after_session(recordings_for(settings), store, sid) is None  # logged, not raised
    row = store.get_session(sid)
    assert row is not None and row.recording_path == str(folder / "recording.ogg")
    assert (folder / "recording.ogg").read_bytes() == local  # still playable from the disk
    lines = list(recover_sessions(store, settings))
    assert len(lines) == 1 and f"session {sid}: upload failed, recording kept on disk" in lines[0]
    assert "no bucket" in lines[0]

    recordings_for(settings).objects.client.create_bucket(Bucket=bucket)  # type: ignore[union-attr]
    lines = list(recover_sessions(store, settings))
    uri = f"s3://{bucket}/milo/session-failed/recording.ogg"
    assert lines == [f"session {sid}: recording uploaded to {uri}"]
    row = store.get_session(sid)
    assert row is not None and row.recording_path == uri
    assert not folder.exists()
    stored = recordings_for(settings).locate(uri)
    assert stored is not None and b"".join(stored.chunks()) == local
    assert list(recover_sessions(store, settings)) == []  # nothing left to do


def test_recover_finishes_and_uploads_what_a_killed_process_left(tmp_path: Path, moto: MotoServer) -> None:
    settings = s3_settings(tmp_path, moto, moto.bucket())
    store, candidate_id, interview_id = open_store(settings)
    folder = settings.recordings_dir / "session-killed"
    sid = store.start_session(
        candidate_id=candidate_id,
        interview_id=interview_id,
        channel="simulate",
        recording_dir=str(folder),
        settings={},
    )
    recorder = Recorder(folder)  # a live session's crash-safe tracks, flushed, never finalized
    for chunk in frames(read_wav(SPEECH / "answers" / "librispeech_367_a03.wav")[: SAMPLE_RATE * 3]):
        recorder.write_candidate(chunk)
    recorder.flush()
    (folder / "video.webm").write_bytes(b"\x1aE\xdf\xa3" + bytes(500))  # a camera video beside it
    assert sorted(p.name for p in folder.iterdir()) == ["candidate.wav", "interviewer.wav", "video.webm"]

    lines = list(recover_sessions(store, settings))
    assert lines[0].startswith(f"session {sid}: interrupted, recording ")
    uri = f"{settings.storage_url}/session-killed/recording.ogg"
    assert lines[1] == f"session {sid}: recording uploaded to {uri}"
    row = store.get_session(sid)
    assert row is not None and row.status == "interrupted" and row.recording_path == uri
    assert row.duration_s is not None and 2.9 < row.duration_s < 3.2
    assert not folder.exists()
    objects = recordings_for(settings).objects
    assert objects is not None
    keys = {info.key: info.size for info in objects.list_prefix("session-killed/")}
    assert set(keys) == {"session-killed/recording.ogg", "session-killed/video.webm"}
    assert keys["session-killed/video.webm"] == 504


def test_without_a_store_nothing_is_uploaded(settings: Settings, store: SessionStore) -> None:
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="local")
    candidate = Candidates(store.engine).enrol(interview_id=interview_id, name="Lo Cal")
    folder = settings.recordings_dir / "session-local"
    sid = store_session(store, candidate_id=candidate.id or 0, interview_id=interview_id, directory=folder)
    assert upload_after_session(recordings_for(settings), store, sid) is None
    assert list(recover_sessions(store, settings)) == []
    row = store.get_session(sid)
    assert row is not None and row.recording_path == str(folder / "recording.ogg")
    assert (folder / "recording.ogg").is_file()
