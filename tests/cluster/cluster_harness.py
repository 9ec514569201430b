"""Shared by the several-node tests: PostgreSQL (Debian's) and moto's S3 server on loopback, and
`milo-voice serve` nodes started against them, each stopped by its PID."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
import s3_server
from fakes.llm_server import free_port
from postgres import running_cluster

from milo_voice.calls.session_store import SessionStore
from milo_voice.store.db import create_engine, migrate

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Node:
    name: str
    base: str
    proc: subprocess.Popen[bytes]
    log: Path
    home: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Shared:
    """What every node of a test shares: the database, the store, and the environment."""

    database: str
    store: SessionStore
    bucket: str
    s3: object
    env: dict[str, str]
    tmp: Path


@contextlib.contextmanager
def shared(tmp: Path, **extra: str) -> Iterator[Shared]:
    """PostgreSQL and moto's S3 server up, the schema migrated, the base environment of a node."""
    with running_cluster(tmp) as database:
        migrate(database)
        store = SessionStore(create_engine(database))
        moto = s3_server.start(tmp / "moto.log")
        try:
            bucket = moto.bucket()
            env = {k: v for k, v in os.environ.items() if not k.startswith("MILO_")}
            env.update(
                MILO_DATABASE_URL=database, MILO_MODELS_DIR=str(REPO / "models"), MILO_HOST="127.0.0.1",
                MILO_STORAGE_URL=f"s3://{bucket}/rec", MILO_S3_ENDPOINT_URL=moto.url,
                MILO_S3_ACCESS_KEY_ID=s3_server.ACCESS_KEY, MILO_S3_SECRET_ACCESS_KEY=s3_server.SECRET_KEY,
                MILO_NODE_HEARTBEAT_S="0.5", **extra,
            )
            s3 = boto3.client("s3", endpoint_url=moto.url, region_name="us-east-1",
                              aws_access_key_id=s3_server.ACCESS_KEY,
                              aws_secret_access_key=s3_server.SECRET_KEY)
            yield Shared(database, store, bucket, s3, env, tmp)
        finally:
            moto.stop()
            store.engine.dispose()


def start_node(name: str, port: int, where: Shared) -> Node:
    base = f"http://127.0.0.1:{port}"
    home = where.tmp / name
    home.mkdir()
    env = {**where.env, "MILO_PORT": str(port), "MILO_NODE_NAME": name, "MILO_NODE_URL": base,
           "MILO_NODE_PUBLIC_URL": base, "MILO_RECORDINGS_DIR": str(home / "recordings"),
           "MILO_UPLOADS_DIR": str(home / "uploads")}
    log = home / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "milo-voice"), "serve"], env=env,
                                cwd=home, stdout=out, stderr=subprocess.STDOUT)
    return Node(name, base, proc, log, home)


def up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def wait_up(node: Node) -> None:
    deadline = time.monotonic() + 120
    while not up(node.base):
        assert node.proc.poll() is None, node.text()[-3000:]
        assert time.monotonic() < deadline, f"node {node.name} did not come up"
        time.sleep(0.2)


@contextlib.contextmanager
def nodes(where: Shared, names: tuple[str, ...], public_port: int | None = None) -> Iterator[list[Node]]:
    """`serve` nodes named `names`, up; MILO_PUBLIC_URL is `public_port`'s address (default: the first
    node's, as if the proxy were there). Killed by PID at the end."""
    ports = [free_port() for _ in names]
    where.env["MILO_PUBLIC_URL"] = f"http://127.0.0.1:{public_port or ports[0]}"
    started = [start_node(name, port, where) for name, port in zip(names, ports, strict=True)]
    try:
        for node in started:
            wait_up(node)
        yield started
    finally:
        for node in started:
            if node.proc.poll() is None:
                node.proc.kill()
                node.proc.wait()


def wait(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.25)
