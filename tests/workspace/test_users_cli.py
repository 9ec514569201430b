"""`milo-voice users create` prints where to sign in: the public URL, else the host and port the
server runs with (given to `users create` as to `serve`), never a guessed port 8000."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from milo_voice.cli import main
from milo_voice.settings import Settings
from milo_voice.workspace.users_cli import sign_in_url
from workspace.support import PASSWORD


def create(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, email: str, *flags: str) -> int:
    monkeypatch.setenv("MILO_DATABASE_URL", f"sqlite:///{tmp_path / 'milo.db'}")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    return main(["users", "create", "--email", email, "--role", "admin", "--password-stdin", *flags])


def test_the_sign_in_link_follows_the_servers_host_and_port(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert create(monkeypatch, tmp_path, "ada@example.com", "--port", "9123") == 0
    out = capsys.readouterr().out
    assert "sign in at http://127.0.0.1:9123/app/login" in out and ":8000" not in out
    assert "--host/--port" in out and "MILO_PUBLIC_URL" in out
    monkeypatch.setenv("MILO_PORT", "9200")
    monkeypatch.setenv("MILO_HOST", "0.0.0.0")
    assert create(monkeypatch, tmp_path, "bo@example.com") == 0
    assert "sign in at http://127.0.0.1:9200/app/login" in capsys.readouterr().out


def test_the_sign_in_link_uses_the_public_url_when_there_is_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MILO_PUBLIC_URL", "https://jobs.example.org/")
    assert create(monkeypatch, tmp_path, "ada@example.com", "--port", "9123") == 0
    out = capsys.readouterr().out
    assert "sign in at https://jobs.example.org/app/login" in out and "--host/--port" not in out


@pytest.mark.parametrize(("host", "url"), [
    ("127.0.0.1", "http://127.0.0.1:8800/app/login"),
    ("0.0.0.0", "http://127.0.0.1:8800/app/login"),
    ("::", "http://[::1]:8800/app/login"),
    ("::1", "http://[::1]:8800/app/login"),
    ("192.168.1.20", "http://192.168.1.20:8800/app/login"),
])
def test_a_listen_address_becomes_an_address_to_open(host: str, url: str) -> None:
    assert sign_in_url(Settings(host=host, port=8800)) == url
