"""A throwaway PostgreSQL cluster per test: initdb into a temp dir, start it on a free loopback port.

Uses Debian's server binaries (/usr/lib/postgresql/*/bin); tests using `postgres_url` skip, saying how to
install them, when they are missing. As root, the server runs as `postgres`. Teardown stops it by PID.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

INSTALL_HINT = (
    "PostgreSQL server binaries not found; install them with "
    "`DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql` "
    "and the driver with `.venv/bin/pip install 'psycopg[binary]'`"
)
SUPERUSER = "milo"
START_TIMEOUT_S = 30


def find_bindir() -> Path | None:
    """The newest installed server's bin directory (the one holding initdb and pg_ctl), if any."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    usable = [d for d in candidates if (d / "initdb").exists() and (d / "pg_ctl").exists()]
    return usable[-1] if usable else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Cluster:
    """One initdb'd data directory and the postmaster serving it."""

    def __init__(self, bindir: Path, workdir: Path) -> None:
        self.bindir = bindir
        self.workdir = workdir
        self.data = workdir / "data"
        self.sockets = workdir / "sock"
        self.log = workdir / "server.log"
        self.port = 0
        self.pid = 0
        self.as_postgres = os.geteuid() == 0  # the server refuses to run as root

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        return subprocess.run(
            [*prefix, *args], cwd=self.workdir, capture_output=True, text=True, timeout=START_TIMEOUT_S
        )

    def start(self) -> str:
        """initdb, then start the server; return a SQLAlchemy URL for its `postgres` database."""
        self.sockets.mkdir()
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            for path in (self.workdir, self.sockets):
                os.chown(path, user.pw_uid, user.pw_gid)
        initdb = self._run(
            str(self.bindir / "initdb"),
            *("-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C"),
            "--no-sync",
        )
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed: {initdb.stderr}")
        for _attempt in range(3):  # the free port may be taken again before the server binds it
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            started = self._run(
                str(self.bindir / "pg_ctl"),
                *("-D", str(self.data), "-l", str(self.log), "-o", options),
                *("-w", "-t", str(START_TIMEOUT_S), "start"),
            )
            if started.returncode == 0:
                self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
                return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/postgres"
        log = self.log.read_text() if self.log.exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {started.stderr}\n{log}")

    def stop(self) -> None:
        """`pg_ctl stop -m fast`; if the postmaster (by PID) outlives that, kill it."""
        if not self.pid:
            return
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, 0)
            os.kill(self.pid, signal.SIGKILL)
        self.pid = 0


@contextlib.contextmanager
def running_cluster(tmp_path: Path) -> Iterator[str]:
    """Start a cluster under a temp dir, yield its URL, then stop it and remove the files."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(INSTALL_HINT)
    pytest.importorskip("psycopg", reason=INSTALL_HINT)
    # As root, the server runs as `postgres`, which cannot enter pytest's root-only (0700) tmp_path.
    as_root = os.geteuid() == 0
    workdir = Path(tempfile.mkdtemp(prefix="milo-pg-")) if as_root else tmp_path / "pg"
    workdir.mkdir(exist_ok=True)
    cluster = Cluster(bindir, workdir)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
        if as_root:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database that lives for one test."""
    with running_cluster(tmp_path) as url:
        yield url
