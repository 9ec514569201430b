"""The object store interface (store/objects.py) on both backends: files on disk, and S3 over the wire
against a real S3-speaking server on loopback (moto in server mode, tests/s3_server.py)."""

from __future__ import annotations

import os
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from s3_server import ACCESS_KEY, SECRET_KEY, MotoServer, free_port, start

from milo_voice.errors import ConfigError
from milo_voice.settings import Settings
from milo_voice.store.objects import (
    LocalObjects,
    ObjectInfo,
    ObjectMissing,
    ObjectStore,
    StorageError,
    object_store,
)
from milo_voice.store.objects_s3 import MULTIPART_BYTES, S3Objects


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = start(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


def s3_store(moto: MotoServer, bucket: str, prefix: str = "recordings", **kw: str) -> S3Objects:
    credentials = {"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY, **kw}
    return S3Objects(bucket, prefix, endpoint_url=moto.url, region="us-east-1", **credentials)


@pytest.fixture(params=["local", "s3"])
def objects(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjects(tmp_path / "objects")
    moto: MotoServer = request.getfixturevalue("moto")
    return s3_store(moto, moto.bucket())


def write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def read(objects: ObjectStore, key: str, start: int = 0, length: int | None = None) -> bytes:
    return b"".join(objects.read_range(key, start, length))


def test_put_read_ranges_list_and_delete(objects: ObjectStore, tmp_path: Path) -> None:
    audio = os.urandom(700_000)  # a few streaming pieces
    video = os.urandom(1_234)
    assert objects.put_file("session-a/recording.ogg", write(tmp_path / "in" / "a.ogg", audio)) == len(audio)
    objects.put_file("session-a/video.webm", write(tmp_path / "in" / "v.webm", video))
    objects.put_file("session-ab/recording.ogg", write(tmp_path / "in" / "b.ogg", b"OggS"))

    assert objects.exists("session-a/recording.ogg") and not objects.exists("session-a/nothing.ogg")
    assert objects.size("session-a/recording.ogg") == len(audio)
    assert read(objects, "session-a/recording.ogg") == audio
    assert read(objects, "session-a/recording.ogg", 100, 200) == audio[100:300]
    assert read(objects, "session-a/recording.ogg", len(audio) - 10) == audio[-10:]
    assert read(objects, "session-a/recording.ogg", len(audio) - 10, 500) == audio[-10:]  # cut at the end
    assert read(objects, "session-a/recording.ogg", 5, 0) == b""

    assert objects.list_prefix("session-a/") == [
        ObjectInfo("session-a/recording.ogg", len(audio)),
        ObjectInfo("session-a/video.webm", len(video)),
    ]
    assert [i.key for i in objects.list_prefix("session-a")] == [
        "session-a/recording.ogg",
        "session-a/video.webm",
        "session-ab/recording.ogg",
    ]
    assert objects.list_prefix("nobody/") == []

    objects.put_file("session-a/video.webm", write(tmp_path / "in" / "v2.webm", b"new"))  # replaced
    assert read(objects, "session-a/video.webm") == b"new"

    assert objects.delete("session-a/recording.ogg") == len(audio)
    assert objects.delete("session-a/recording.ogg") == 0  # already gone: nothing to free
    assert not objects.exists("session-a/recording.ogg")
    with pytest.raises(ObjectMissing):
        objects.size("session-a/recording.ogg")
    with pytest.raises(ObjectMissing):
        read(objects, "session-a/recording.ogg")
    with pytest.raises(ValueError, match="relative path"):
        objects.put_file("../escape.ogg", tmp_path / "in" / "b.ogg")


def test_s3_keys_live_under_the_prefix_and_big_files_go_in_parts(moto: MotoServer, tmp_path: Path) -> None:
    bucket = moto.bucket()
    objects = s3_store(moto, bucket, prefix="/milo/recordings/")
    big = os.urandom(MULTIPART_BYTES + 300_000)  # over the multipart threshold: two parts
    assert objects.put_file("session-x/video.webm", write(tmp_path / "big.webm", big)) == len(big)
    assert objects.uri("session-x/video.webm") == f"s3://{bucket}/milo/recordings/session-x/video.webm"
    assert objects.key_of(f"s3://{bucket}/milo/recordings/session-x/video.webm") == "session-x/video.webm"
    assert read(objects, "session-x/video.webm", MULTIPART_BYTES - 5, 10) == big[MULTIPART_BYTES - 5 :][:10]
    # the same bucket seen without the prefix: the object sits under it
    bare = s3_store(moto, bucket, prefix="")
    assert [i.key for i in bare.list_prefix("")] == ["milo/recordings/session-x/video.webm"]
    with pytest.raises(StorageError, match="not in the configured store"):
        objects.key_of("s3://other-bucket/milo/recordings/session-x/video.webm")


def test_bad_credentials_say_which_settings_to_check(moto: MotoServer, tmp_path: Path) -> None:
    bucket = moto.bucket()
    objects = s3_store(moto, bucket, access_key_id="AKIAWRONG", secret_access_key="wrong")
    auth(moto, "0")  # from now on moto checks every request's key and signature
    try:
        with pytest.raises(StorageError, match="refused the credentials") as refused:
            objects.put_file("session-a/recording.ogg", write(tmp_path / "a.ogg", b"OggS"))
        assert "MILO_S3_ACCESS_KEY_ID" in str(refused.value) and "wrong" not in str(refused.value)
        with pytest.raises(StorageError, match="refused the credentials"):
            objects.list_prefix("")
    finally:
        auth(moto, "inf")  # back to accepting any key, for the other tests


def auth(moto: MotoServer, count: str) -> None:
    """moto checks credentials once `count` requests have been made (inf: never)."""
    reset = urllib.request.Request(
        f"{moto.url}/moto-api/reset-auth",
        data=count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    urllib.request.urlopen(reset, timeout=5).close()


def test_a_missing_bucket_is_named(moto: MotoServer) -> None:
    objects = s3_store(moto, "no-such-bucket-here")
    with pytest.raises(StorageError, match="no bucket 'no-such-bucket-here'"):
        objects.list_prefix("")


def test_a_server_that_is_down_is_a_clear_error_soon() -> None:
    objects = S3Objects(
        "b", endpoint_url=f"http://127.0.0.1:{free_port()}", access_key_id="k", secret_access_key="s"
    )
    began = time.monotonic()
    with pytest.raises(StorageError, match="cannot be reached; check MILO_S3_ENDPOINT_URL"):
        objects.size("session-a/recording.ogg")
    assert time.monotonic() - began < 15


def test_the_factory_reads_the_settings(tmp_path: Path, moto: MotoServer) -> None:
    local = object_store(Settings(recordings_dir=tmp_path / "rec"))
    assert isinstance(local, LocalObjects) and local.root == tmp_path / "rec"
    env = {
        "MILO_STORAGE_URL": "s3://interviews/eu/recordings",
        "MILO_S3_ENDPOINT_URL": moto.url,
        "MILO_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "MILO_S3_SECRET_ACCESS_KEY": SECRET_KEY,
    }
    settings = Settings.from_env(env)
    assert "milo-test-secret" not in repr(settings)  # a Secret, masked like the other keys
    remote = object_store(settings)
    assert isinstance(remote, S3Objects)
    assert (remote.bucket, remote.prefix, remote.endpoint_url) == ("interviews", "eu/recordings", moto.url)
    with pytest.raises(ConfigError, match="MILO_STORAGE_URL"):
        Settings.from_env({"MILO_STORAGE_URL": "https://bucket.example.com/x"})
