"""An uploaded recording served back from the object store (docs/storage.md): the report's recording
endpoint honours Range (206, Content-Range; the store answers an S3 ranged GET), the ZIP carries the
media read from the store, and erasure and retention delete the objects. The store is a real
S3-speaking server on loopback (moto, tests/s3_server.py); the recording is made by the real Recorder."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from s3_server import ACCESS_KEY, SECRET_KEY, MotoServer, start
from starlette.testclient import TestClient
from workspace.sessions import store_session

from milo_voice.calls.recording_upload import upload_session
from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Secret, Settings
from milo_voice.store.objects import ObjectStore
from milo_voice.store.recordings import recordings_for
from milo_voice.store.tables import utc_now
from milo_voice.web.app import create_app
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.erasure import Eraser, Initiator
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.retention import RetentionPolicy
from milo_voice.workspace.retention_store import RetentionSettings
from milo_voice.workspace.retention_sweep import RetentionSweep

SCRIPT = InterviewScript(title="Ranges", questions=(Question("A recipe?", AnswerShape.EXPLANATION),))
VIDEO = b"\x1aE\xdf\xa3" + bytes(700)


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = start(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


@dataclass
class Uploaded:
    settings: Settings
    store: SessionStore
    session_id: int
    candidate_id: int
    audio: bytes
    folder: Path

    @property
    def objects(self) -> ObjectStore:
        objects = recordings_for(self.settings).objects
        assert objects is not None
        return objects


@pytest.fixture
def uploaded(settings: Settings, store: SessionStore, moto: MotoServer) -> Uploaded:
    """A recorded session (audio and a camera video) uploaded to a fresh bucket."""
    s3 = settings.with_overrides(
        storage_url=f"s3://{moto.bucket()}/interviews",
        s3_endpoint_url=moto.url,
        s3_access_key_id=ACCESS_KEY,
        s3_secret_access_key=Secret(SECRET_KEY),
    )
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="ranges")
    candidate = Candidates(store.engine).enrol(interview_id=interview_id, name="Rhea Range")
    folder = s3.recordings_dir / "session-ranges"
    sid = store_session(store, candidate_id=candidate.id or 0, interview_id=interview_id, directory=folder)
    (folder / "video.webm").write_bytes(VIDEO)
    audio = (folder / "recording.ogg").read_bytes()
    assert upload_session(recordings_for(s3), store, sid) == f"{s3.storage_url}/session-ranges/recording.ogg"
    assert not folder.exists()  # from here on, everything is read from the store
    return Uploaded(s3, store, sid, candidate.id or 0, audio, folder)


def test_the_recording_plays_from_the_store_with_ranges(uploaded: Uploaded) -> None:
    token = ScoringStore(uploaded.store.engine).report_token(session_id=uploaded.session_id)
    size = len(uploaded.audio)
    with TestClient(create_app(uploaded.settings, uploaded.store.engine)) as web:
        assert f'/reports/{token}/recording"' in web.get(f"/reports/{token}").text  # the player is shown
        whole = web.get(f"/reports/{token}/recording")
        assert whole.status_code == 200 and whole.content == uploaded.audio
        assert whole.headers["content-type"] == "audio/ogg" and whole.headers["accept-ranges"] == "bytes"
        part = web.get(f"/reports/{token}/recording", headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == uploaded.audio[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{size}"
        assert part.headers["content-length"] == "100"
        tail = web.get(f"/reports/{token}/recording", headers={"Range": "bytes=-64"})
        assert tail.status_code == 206 and tail.content == uploaded.audio[-64:]
        assert tail.headers["content-range"] == f"bytes {size - 64}-{size - 1}/{size}"
        open_end = web.get(f"/reports/{token}/recording", headers={"Range": f"bytes={size - 10}-"})
        assert open_end.status_code == 206 and open_end.content == uploaded.audio[-10:]
        past = web.get(f"/reports/{token}/recording", headers={"Range": f"bytes={size}-"})
        assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{size}"


def test_the_zip_carries_the_media_from_the_store(uploaded: Uploaded) -> None:
    token = ScoringStore(uploaded.store.engine).report_token(session_id=uploaded.session_id)
    with TestClient(create_app(uploaded.settings, uploaded.store.engine)) as web:
        package = web.get(f"/reports/{token}/package.zip")
    assert package.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(package.content))
    assert archive.read("media/recording.ogg") == uploaded.audio
    assert archive.read("media/video.webm") == VIDEO
    assert archive.getinfo("media/recording.ogg").compress_type == zipfile.ZIP_STORED
    listed = json.loads(archive.read("metadata.json"))["files"]
    assert listed["media/recording.ogg"] == {
        "bytes": len(uploaded.audio),
        "sha256": hashlib.sha256(uploaded.audio).hexdigest(),
    }


def test_erasure_deletes_the_objects(uploaded: Uploaded) -> None:
    assert len(uploaded.objects.list_prefix("session-ranges/")) == 2
    done = Eraser.for_settings(uploaded.store.engine, uploaded.settings).erase(
        uploaded.candidate_id, initiated_by=Initiator.ADMIN, reason="asked by letter"
    )
    assert uploaded.objects.list_prefix("") == []
    assert done.left == [] and done.bytes >= len(uploaded.audio) + len(VIDEO)


def test_retention_deletes_the_objects(uploaded: Uploaded) -> None:
    engine = uploaded.store.engine
    RetentionSettings(engine).save(RetentionPolicy(recordings_days=30), user_id=None)
    later = utc_now() + timedelta(days=31)
    sweep = RetentionSweep(
        engine,
        SessionStore(engine, now=lambda: later),
        now=lambda: later,
        recordings=recordings_for(uploaded.settings),
    )
    report = sweep.run()
    assert report is not None and report.errors == ()
    assert report.removed["recordings"]["sessions"] == 1 and report.removed["recordings"]["files"] == 2
    assert uploaded.objects.list_prefix("") == []
    row = uploaded.store.get_session(uploaded.session_id)
    assert row is not None and row.recording_path is None
    with TestClient(create_app(uploaded.settings, engine)) as web:
        token = ScoringStore(engine).report_token(session_id=uploaded.session_id)
        assert web.get(f"/reports/{token}/recording").status_code == 404
