"""Every request body is capped while it arrives (web/body_limit.py), over real HTTP on loopback.

A client streams a 200 MB body from a generator onto a raw socket and stops as soon as the server
answers. The app runs under uvicorn (in a thread, or as a real server process) wrapped in `Counting`,
which records how many body bytes uvicorn handed the app: a declared over-long body is refused with
nothing read; a chunked one after at most the cap plus the one socket read that crossed it
(`READ_AHEAD`: that chunk is never handed to a handler). Nothing is spooled to a temporary file.
"""

from __future__ import annotations

import re
import select
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from workspace.support import ADMIN, PASSWORD, csrf_of
from workspace.test_browser import app_server, free_port

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.web.app import create_app
from milo_voice.web.body_limit import DEFAULT_LIMIT, EDITOR_FIELDS, MIB, UPLOAD_SLACK
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.editor import MAX_LOGO_BYTES

HUGE = 200 * 1024 * 1024
PIECE = 64 * 1024
READ_AHEAD = 256 * 1024
"""asyncio's socket read size: the most uvicorn hands the app in one message."""
BOUNDARY = "probe-boundary"
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
EDITOR_CAP = MAX_LOGO_BYTES + EDITOR_FIELDS + UPLOAD_SLACK


def file_part(name: str, fields: dict[str, str] | None = None, *, filename: str = "big.png") -> bytes:
    """The start of a multipart body: small fields, then the head of a part (a file unless `filename` is
    empty) whose content follows."""
    text = "".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in (fields or {}).items()
    )
    text += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'
    text += f'; filename="{filename}"\r\nContent-Type: image/png\r\n\r\n' if filename else "\r\n\r\n"
    return text.encode()


class Counting:
    """Wraps the whole app: the body bytes uvicorn handed it, one entry per request, in order."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.bodies: list[int] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        index = len(self.bodies)
        self.bodies.append(0)

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.bodies[index] += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@dataclass(frozen=True, slots=True)
class Live:
    port: int
    counting: Counting
    settings: Settings

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def last_read(self) -> int:
        return self.counting.bodies[-1]


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    sent: int
    """Body bytes the client got onto the socket before the answer came (or the connection closed)."""
    text: str


@pytest.fixture
def live(settings: Settings, store: SessionStore) -> Iterator[Live]:
    """The real app under uvicorn on 127.0.0.1 in a thread of this process; stopped at the end."""
    port = free_port()
    live_settings = settings.with_overrides(twilio_auth_token="secret", port=port)
    counting = Counting(create_app(live_settings, store.engine))
    config = uvicorn.Config(
        counting, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield Live(port, counting, live_settings)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def spooled(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Every temporary file made in this process (a multipart part over 1 MiB rolls over to one)."""
    made: list[str] = []
    real = tempfile.TemporaryFile
    folder = tmp_path / "tmp"
    folder.mkdir()

    def counting(*args: Any, **kwargs: Any) -> Any:
        made.append(str(kwargs.get("dir") or folder))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", counting)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return made


def push(
    port: int, path: str, headers: dict[str, str], prefix: bytes, *, chunked: bool, total: int = HUGE
) -> Outcome:
    """POST `prefix` then filler up to `total` bytes (declared, or chunked without a length), sending
    until the server answers; then read the answer."""
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        *(f"{k}: {v}" for k, v in headers.items()),
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}",
    ]
    filler = b"x" * PIECE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, PIECE)
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sent = 0
        try:
            while sent < total and not select.select([sock], [], [], 0)[0]:
                piece = (prefix if sent == 0 else filler)[: total - sent]
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the server answered and closed while we were still sending
        return answer(sock, sent)


def answer(sock: socket.socket, sent: int) -> Outcome:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    found = re.match(rb"HTTP/1\.1 (\d{3})", data)
    return Outcome(int(found.group(1)) if found else 0, sent, data.decode("latin-1"))


@pytest.fixture
def admin(live: Live, store: SessionStore) -> Iterator[tuple[httpx.Client, str]]:
    """An admin's browser-like session on the live server, and an API key of the same admin."""
    accounts = Accounts(store.engine)
    user = accounts.create_user(email=ADMIN, password=PASSWORD, role="admin", name="Ada Admin")
    _, key = accounts.create_api_key(user_id=user.id or 0, name="probe")
    with httpx.Client(base_url=live.base, timeout=30) as client:
        token = csrf_of(client.get("/app/login").text)
        signed = client.post("/app/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": token})
        assert signed.status_code == 303, signed.text
        yield client, key


def cookie_of(client: httpx.Client) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)}


def new_interview(client: httpx.Client, key: str) -> str:
    body = {"title": "Probe", "questions": [{"text": "Why?", "shape": "story"}]}
    made = client.post("/api/interviews", json=body, headers={"Authorization": f"Bearer {key}"})
    assert made.status_code == 201, made.text
    return str(made.json()["slug"])


def assert_refused_early(live: Live, outcome: Outcome, cap: int, *, chunked: bool) -> None:
    assert outcome.status == 413, outcome.text
    assert outcome.sent < HUGE
    if chunked:
        assert cap < live.last_read() <= cap + READ_AHEAD
    else:
        assert live.last_read() == 0  # refused on the declared length alone


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_a_200_mb_anonymous_multipart_post_to_the_login_page_is_refused(
    live: Live, spooled: list[str], chunked: bool
) -> None:
    outcome = push(live.port, "/app/login", MULTIPART, file_part("f", {"email": "x"}), chunked=chunked)
    assert_refused_early(live, outcome, DEFAULT_LIMIT, chunked=chunked)
    assert "at most 1 MB" in outcome.text
    assert spooled == [] and not any(Path(tempfile.gettempdir()).iterdir())


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_a_200_mb_post_to_the_voice_webhook_is_refused_before_its_signature_is_checked(
    live: Live, spooled: list[str], chunked: bool
) -> None:
    headers = {**MULTIPART, "X-Twilio-Signature": "forged"}
    outcome = push(live.port, "/phone/voice", headers, file_part("CallSid", filename=""), chunked=chunked)
    assert_refused_early(live, outcome, DEFAULT_LIMIT, chunked=chunked)
    assert spooled == []


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_a_200_mb_json_api_body_is_refused_while_it_streams(
    live: Live, admin: tuple[httpx.Client, str], chunked: bool
) -> None:
    _, key = admin
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    outcome = push(live.port, "/api/interviews", headers, b'{"title": "', chunked=chunked)
    assert_refused_early(live, outcome, DEFAULT_LIMIT, chunked=chunked)


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_a_200_mb_logo_upload_is_refused_at_the_editor_cap(
    live: Live, admin: tuple[httpx.Client, str], spooled: list[str], chunked: bool
) -> None:
    client, key = admin
    slug = new_interview(client, key)
    token = csrf_of(client.get(f"/app/interviews/{slug}/edit").text)
    prefix = file_part("logo_file", {"csrf_token": token, "title": "Probe"})
    outcome = push(
        live.port, f"/app/interviews/{slug}/edit", {**MULTIPART, **cookie_of(client)}, prefix, chunked=chunked
    )
    assert_refused_early(live, outcome, EDITOR_CAP, chunked=chunked)
    assert EDITOR_CAP < DEFAULT_LIMIT and spooled == []


def test_an_intake_csv_bigger_than_the_default_cap_is_still_accepted(
    live: Live, admin: tuple[httpx.Client, str], spooled: list[str]
) -> None:
    client, key = admin
    slug = new_interview(client, key)
    token = csrf_of(client.get(f"/app/interviews/{slug}/intake").text)
    rows = b"name,email\n" + b"".join(b"Pat %06d,pat%06d@example.com\n" % (i, i) for i in range(70_000))
    assert len(rows) > 2 * DEFAULT_LIMIT
    sent = client.post(
        f"/app/interviews/{slug}/intake/csv",
        headers={"X-CSRF-Token": token},
        files=[("files", ("list.csv", rows, "text/csv"))],
    )
    assert sent.status_code == 303 and sent.headers["location"].startswith("/app/intake/"), sent.text
    assert live.last_read() > 2 * DEFAULT_LIMIT
    stored = list((live.settings.uploads_dir).rglob("*.csv"))
    assert [p.read_bytes() for p in stored] == [rows]


def test_an_intake_csv_over_its_own_cap_is_refused_by_the_middleware_unread(
    live: Live, admin: tuple[httpx.Client, str], spooled: list[str]
) -> None:
    client, key = admin
    slug = new_interview(client, key)
    token = csrf_of(client.get(f"/app/interviews/{slug}/intake").text)
    headers = {**MULTIPART, **cookie_of(client), "X-CSRF-Token": token}
    limit = live.settings.intake_max_csv_mb * MIB
    outcome = push(
        live.port,
        f"/app/interviews/{slug}/intake/csv",
        headers,
        file_part("files"),
        chunked=False,
        total=limit + UPLOAD_SLACK + 1,
    )
    assert outcome.status == 413 and "at most 20 MB" in outcome.text
    assert live.last_read() == 0 and spooled == []
    receiving = live.settings.uploads_dir / "receiving"
    assert not receiving.exists() or not any(receiving.iterdir())


def test_a_real_server_process_refuses_a_streamed_200_mb_upload_without_spooling_it(tmp_path: Path) -> None:
    """The app as `milo-voice serve` runs it (uvicorn in its own process); the client can only count
    what it got onto the socket, which includes what the kernels buffer (a few MB on loopback)."""
    server_tmp = tmp_path / "server-tmp"
    server_tmp.mkdir()
    with app_server(tmp_path, {"TMPDIR": str(server_tmp)}) as server:
        before = sorted(server_tmp.rglob("*"))  # a library may keep a file of its own there
        outcome = push(server.port, "/app/login", MULTIPART, file_part("f"), chunked=True)
        declared = push(server.port, "/app/login", MULTIPART, file_part("f"), chunked=False)
        after = sorted(server_tmp.rglob("*"))
    assert outcome.status == 413 and outcome.sent < 32 * MIB, outcome
    assert declared.status == 413 and declared.sent < 32 * MIB, declared
    assert after == before
