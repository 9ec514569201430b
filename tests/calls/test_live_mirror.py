"""The live mirror (calls/live_mirror.py): a real Recorder records real speech, the mirror uploads each
flush to the object store (files on disk, and S3 against a real S3-speaking server on loopback: moto,
tests/s3_server.py), and `rebuild` must give back exactly the samples flushed up to the last upload, as a
node that adopts the call after the first one died would."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import SPEECH, manifest
from s3_server import ACCESS_KEY, SECRET_KEY, MotoServer, free_port, start

from milo_voice.calls import live_mirror
from milo_voice.calls.live_mirror import (
    CHUNK_HEADER,
    LIVE_PREFIX,
    MAGIC,
    LiveMirror,
    Rebuilt,
    drop,
    next_generation,
    rebuild,
)
from milo_voice.media.pcm import read_wav
from milo_voice.media.recorder import CANDIDATE, INTERVIEWER, Recorder
from milo_voice.media.types import SAMPLE_RATE, AudioChunk
from milo_voice.settings import Settings
from milo_voice.store.objects import LocalObjects, ObjectStore, object_store
from milo_voice.store.objects_s3 import S3Objects

RATE = SAMPLE_RATE
SESSION = 7


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = start(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


@pytest.fixture(params=["local", "s3"])
def objects(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjects(tmp_path / "objects")
    moto: MotoServer = request.getfixturevalue("moto")
    env = {
        "MILO_STORAGE_URL": f"s3://{moto.bucket()}/milo",
        "MILO_S3_ENDPOINT_URL": moto.url,
        "MILO_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "MILO_S3_SECRET_ACCESS_KEY": SECRET_KEY,
    }
    store = object_store(Settings.from_env(env))
    assert isinstance(store, S3Objects)
    return store


@pytest.fixture(scope="module")
def voices() -> tuple[np.ndarray, np.ndarray]:
    """(candidate, interviewer): two real recorded voices, 16 kHz int16."""
    entries = manifest()
    candidate = read_wav(SPEECH / str(entries["librispeech_1088_a01"]["audio"]))
    interviewer = read_wav(SPEECH / str(entries["ami_MEE009_a01"]["audio"]))
    return candidate, interviewer


def pcm(samples: np.ndarray, start_s: float, end_s: float) -> bytes:
    return samples[round(start_s * RATE) : round(end_s * RATE)].astype("<i2").tobytes()


def wav_data(directory: Path, name: str) -> bytes:
    """The PCM a recorder's WAV holds on disk, by its header's count."""
    raw = (directory / name).read_bytes()
    size = int.from_bytes(raw[40:44], "little")
    return raw[44 : 44 + size]


def on_disk(directory: Path) -> tuple[bytes, bytes]:
    return wav_data(directory, CANDIDATE), wav_data(directory, INTERVIEWER)


def keys(objects: ObjectStore, session_id: int = SESSION) -> list[str]:
    return [info.key for info in objects.list_prefix(f"{LIVE_PREFIX}/{session_id}/")]


def say(
    recorder: Recorder, voices: tuple[np.ndarray, np.ndarray], who: int, start_s: float, end_s: float
) -> None:
    chunk = AudioChunk(pcm(voices[who], start_s, end_s), RATE, start_s)
    (recorder.write_candidate if who == 0 else recorder.write_interviewer)(chunk)


def first_node(
    objects: ObjectStore, directory: Path, voices: tuple[np.ndarray, np.ndarray]
) -> tuple[Recorder, LiveMirror]:
    """Node A records 6 s, flushing and mirroring once a second, and dies before mirroring the last
    second. Checks the mirror after every step."""
    recorder, mirror = Recorder(directory), LiveMirror(objects, SESSION, 1, directory)
    steps: list[list[tuple[int, float, float]]] = [
        [(0, 0.0, 1.0)],  # the interviewer has said nothing yet: an empty track in the piece
        [(0, 1.0, 2.0), (1, 1.5, 3.2)],  # the interviewer's track runs ahead of the timeline
        [(0, 2.0, 3.0)],
        [(0, 3.0, 4.0)],
        [],  # nothing new: no upload
        [(0, 4.0, 5.0), (1, 5.0, 5.5)],  # a gap of silence in the interviewer's track
    ]
    uploads = []
    for step in steps:
        for who, begin, end in step:
            say(recorder, voices, who, begin, end)
        before = on_disk(directory)
        recorder.flush()
        flushed = on_disk(directory)
        uploads.append(mirror.sync())
        new = sum(len(now) - len(then) for now, then in zip(flushed, before, strict=True))
        assert uploads[-1] == (CHUNK_HEADER.size + new if new else 0)
        rebuilt = rebuild(objects, SESSION)
        assert rebuilt is not None and (rebuilt.candidate, rebuilt.interviewer) == flushed
        assert mirror.sent_samples == (len(flushed[0]) // 2, len(flushed[1]) // 2)
    assert uploads[4] == 0 and mirror.seq == 5
    assert keys(objects) == [f"live/{SESSION}/001/{seq:08d}.pcm" for seq in range(5)]
    say(recorder, voices, 0, 5.0, 6.0)
    recorder.flush()  # flushed to A's disk, never mirrored: A is killed here
    return recorder, mirror


def expected_first_node(voices: tuple[np.ndarray, np.ndarray]) -> tuple[bytes, bytes]:
    """What node A mirrored, built from the source voices rather than from the recorder."""
    candidate = pcm(voices[0], 0.0, 5.0)
    silence = bytes(2 * round(1.5 * RATE)), bytes(2 * round(1.8 * RATE))
    interviewer = silence[0] + pcm(voices[1], 1.5, 3.2) + silence[1] + pcm(voices[1], 5.0, 5.5)
    return candidate, interviewer


def test_rebuild_gives_exactly_the_flushed_samples_up_to_the_last_mirror(
    objects: ObjectStore, tmp_path: Path, voices: tuple[np.ndarray, np.ndarray]
) -> None:
    assert rebuild(objects, SESSION) is None and next_generation(objects, SESSION) == 1
    recorder, _ = first_node(objects, tmp_path / "node-a", voices)
    rebuilt = rebuild(objects, SESSION)
    assert rebuilt is not None and rebuilt.sample_rate == RATE
    assert (rebuilt.candidate, rebuilt.interviewer) == expected_first_node(voices)
    assert rebuilt.duration_s == pytest.approx(5.5)  # the interviewer's track is the longer one
    assert rebuilt.candidate == wav_data(tmp_path / "node-a", CANDIDATE)[: 5 * RATE * 2]  # 1 s lost
    assert recorder.duration == pytest.approx(6.0)


def test_an_adopting_node_continues_as_the_next_generation(
    objects: ObjectStore, tmp_path: Path, voices: tuple[np.ndarray, np.ndarray]
) -> None:
    first_node(objects, tmp_path / "node-a", voices)
    shutil.rmtree(tmp_path / "node-a")  # node A's disk is gone with it
    generation = next_generation(objects, SESSION)
    rebuilt = rebuild(objects, SESSION)
    assert generation == 2 and rebuilt is not None

    directory = tmp_path / "node-b"
    recorder = Recorder(directory)
    recorder.write_candidate(AudioChunk(rebuilt.candidate, RATE, 0.0))
    recorder.write_interviewer(AudioChunk(rebuilt.interviewer, RATE, 0.0))
    lengths = (len(rebuilt.candidate) // 2, len(rebuilt.interviewer) // 2)
    mirror = LiveMirror(objects, SESSION, generation, directory, mirrored=lengths)
    recorder.flush()
    assert mirror.sync() == 0  # what the store already holds is not uploaded again
    for second in range(6, 9):  # B goes on from where the store's audio ends (A's last second is lost)
        say(recorder, voices, 0, second - 1, second)
        say(recorder, voices, 1, second, second + 0.5)
        recorder.flush()
        assert mirror.sync() > CHUNK_HEADER.size
        rebuilt_now = rebuild(objects, SESSION)
        assert rebuilt_now is not None
        assert (rebuilt_now.candidate, rebuilt_now.interviewer) == on_disk(directory)
    assert [k for k in keys(objects) if "/002/" in k] == [f"live/{SESSION}/002/{s:08d}.pcm" for s in range(3)]
    assert next_generation(objects, SESSION) == 3
    joined = rebuild(objects, SESSION)
    assert joined is not None and joined.candidate[: len(rebuilt.candidate)] == rebuilt.candidate
    assert joined.candidate[len(rebuilt.candidate) :] == pcm(voices[0], 5.0, 8.0)


@pytest.mark.parametrize("failure", ["root-is-a-file", "closed-port"])
def test_a_failing_store_is_logged_and_the_next_sync_uploads_the_whole_backlog(
    objects: ObjectStore,
    tmp_path: Path,
    voices: tuple[np.ndarray, np.ndarray],
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    (tmp_path / "a-file").write_bytes(b"not a directory")
    broken: ObjectStore = (
        LocalObjects(tmp_path / "a-file")
        if failure == "root-is-a-file"
        else S3Objects(
            "b", endpoint_url=f"http://127.0.0.1:{free_port()}", access_key_id="k", secret_access_key="s"
        )
    )
    directory = tmp_path / "node-a"
    recorder, mirror = Recorder(directory), LiveMirror(broken, SESSION, 1, directory)
    with caplog.at_level(logging.WARNING, logger="milo_voice.calls.live_mirror"):
        for second in range(3):
            say(recorder, voices, 0, second, second + 1)
            say(recorder, voices, 1, second + 0.25, second + 0.75)
            recorder.flush()
            began = time.monotonic()
            assert mirror.sync() == 0
            assert time.monotonic() - began < 15
    failed = [r for r in caplog.records if r.getMessage() == "mirror.upload_failed"]
    assert len(failed) == 3 and all(r.session_id == SESSION for r in failed)
    named = {"root-is-a-file": "cannot store ", "closed-port": "cannot upload s3://b/"}[failure]
    assert all(f"{named}live/{SESSION}/001/00000000.pcm" in r.error for r in failed)
    assert mirror.sent_samples == (0, 0) and mirror.seq == 0

    mirror.objects = objects  # the store is back
    candidate, interviewer = on_disk(directory)
    assert mirror.sync() == CHUNK_HEADER.size + len(candidate) + len(interviewer)
    assert keys(objects) == [f"live/{SESSION}/001/00000000.pcm"]
    rebuilt = rebuild(objects, SESSION)
    assert rebuilt is not None and (rebuilt.candidate, rebuilt.interviewer) == (candidate, interviewer)
    assert rebuilt.candidate == pcm(voices[0], 0, 3)


def test_a_long_backlog_goes_up_in_several_pieces(
    tmp_path: Path, voices: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_mirror, "MAX_TRACK_BYTES", RATE)  # half a second of a track per object
    objects, directory = LocalObjects(tmp_path / "objects"), tmp_path / "node-a"
    recorder, mirror = Recorder(directory), LiveMirror(objects, SESSION, 1, directory)
    say(recorder, voices, 0, 0.0, 2.2)
    say(recorder, voices, 1, 0.0, 0.7)
    recorder.flush()
    mirror.sync()
    assert len(keys(objects)) == 5  # 2.2 s in half seconds
    rebuilt = rebuild(objects, SESSION)
    assert rebuilt is not None and (rebuilt.candidate, rebuilt.interviewer) == on_disk(directory)


def piece(rate: int, candidate: tuple[int, bytes], interviewer: tuple[int, bytes]) -> bytes:
    header = CHUNK_HEADER.pack(
        MAGIC, rate, candidate[0], len(candidate[1]), interviewer[0], len(interviewer[1])
    )
    return header + candidate[1] + interviewer[1]


def test_pieces_apply_in_generation_then_sequence_order(objects: ObjectStore) -> None:
    one, five, nine, seven = (np.full(n, v, "<i2").tobytes() for n, v in ((4, 1), (2, 5), (2, 9), (1, 7)))
    objects.put_bytes("live/7/002/00000000.pcm", piece(RATE, (2, five), (50, b"")))  # empty: no padding
    objects.put_bytes("live/7/001/00000010.pcm", piece(RATE, (0, nine), (6, seven)))
    objects.put_bytes("live/7/001/00000009.pcm", piece(RATE, (0, one), (0, b"")))
    rebuilt = rebuild(objects, SESSION)
    assert rebuilt == Rebuilt(
        np.array([9, 9, 5, 5], "<i2").tobytes(), np.array([0] * 6 + [7], "<i2").tobytes(), RATE
    )
    assert rebuilt.duration_s == 7 / RATE
    assert next_generation(objects, SESSION) == 3


def test_malformed_pieces_are_skipped_with_a_warning(
    objects: ObjectStore,
    tmp_path: Path,
    voices: tuple[np.ndarray, np.ndarray],
    caplog: pytest.LogCaptureFixture,
) -> None:
    directory = tmp_path / "node-a"
    recorder, mirror = Recorder(directory), LiveMirror(objects, SESSION, 1, directory)
    say(recorder, voices, 0, 0.0, 1.0)
    say(recorder, voices, 1, 0.2, 0.9)
    recorder.flush()
    mirror.sync()
    good = objects.read_all(f"live/{SESSION}/001/00000000.pcm")
    objects.put_bytes(f"live/{SESSION}/001/00000001.pcm", good[:-100])  # cut short
    objects.put_bytes(f"live/{SESSION}/001/00000002.pcm", b"RIFF" + good[4:])  # bad magic
    objects.put_bytes(f"live/{SESSION}/001/00000003.pcm", b"MLV")  # shorter than a header
    objects.put_bytes(f"live/{SESSION}/002/00000000.pcm", piece(8000, (0, b"\1\1"), (0, b"")))  # other rate
    objects.put_bytes(f"live/{SESSION}/002/00000001.pcm", piece(RATE, (10**12, b"\1\1"), (0, b"")))  # far
    objects.put_bytes(f"live/{SESSION}/notes.txt", b"not a piece")  # not a piece's key: ignored
    with caplog.at_level(logging.WARNING, logger="milo_voice.calls.live_mirror"):
        rebuilt = rebuild(objects, SESSION)
    assert rebuilt is not None and (rebuilt.candidate, rebuilt.interviewer) == on_disk(directory)
    skipped = [r for r in caplog.records if r.getMessage() == "mirror.chunk_skipped"]
    assert sorted(r.key for r in skipped) == [
        f"live/{SESSION}/{name}.pcm"
        for name in ("001/00000001", "001/00000002", "001/00000003", "002/00000000", "002/00000001")
    ]
    objects.put_bytes("live/8/001/00000000.pcm", b"garbage only")
    assert rebuild(objects, 8) is None


def test_drop_removes_the_session_and_no_other(objects: ObjectStore, tmp_path: Path) -> None:
    for session in (SESSION, 70):
        for generation, seq in ((1, 0), (1, 1), (3, 0)):
            objects.put_bytes(
                f"live/{session}/{generation:03d}/{seq:08d}.pcm", piece(RATE, (0, b"\1\1"), (0, b""))
            )
    assert next_generation(objects, SESSION) == 4
    assert drop(objects, SESSION) == 3
    assert (
        keys(objects) == [] and rebuild(objects, SESSION) is None and next_generation(objects, SESSION) == 1
    )
    assert len(keys(objects, 70)) == 3 and drop(objects, SESSION) == 0


def test_nothing_recorded_uploads_nothing(objects: ObjectStore, tmp_path: Path) -> None:
    mirror = LiveMirror(objects, SESSION, 1, tmp_path / "no-such-folder")
    assert mirror.sync() == 0
    recorder = Recorder(tmp_path / "node-a")
    mirror = LiveMirror(objects, SESSION, 1, tmp_path / "node-a")
    recorder.flush()
    assert mirror.sync() == 0 and keys(objects) == []
