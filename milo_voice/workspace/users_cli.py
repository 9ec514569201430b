"""`milo-voice users create`: make an account from the shell (the first admin has no one to invite them).

The password comes from standard input (`--password-stdin`, for scripts: the first line) or an
interactive prompt asked twice; never from a flag, which would leave it in the shell history and
in `ps` output.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO

from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.store.repo import Invalid
from milo_voice.workspace.accounts import Accounts

ANY_INTERFACE = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}
"""Listen-on-everything hosts, and the address a browser on the same machine opens instead."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser("users", help="manage recruiter accounts")
    actions = users.add_subparsers(dest="users_command", required=True)
    create = actions.add_parser("create", help="create an account (e.g. the first admin)")
    create.add_argument("--email", required=True)
    create.add_argument("--role", choices=["admin", "viewer"], default="viewer")
    create.add_argument("--name", default="")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.add_argument("--host", help="the host `milo-voice serve` runs with, for the link")
    create.add_argument("--port", type=int, help="the port `milo-voice serve` runs with, for the link")


def sign_in_url(settings: Settings) -> str:
    """Where a recruiter signs in: under MILO_PUBLIC_URL when it is set, else at the server's own host
    and port (a server listening on every interface, 0.0.0.0 or ::, is opened as 127.0.0.1 or ::1)."""
    if settings.public_url.strip():
        return f"{settings.base_url}/app/login"
    host = ANY_INTERFACE.get(settings.host, settings.host)
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.port}/app/login"


def read_password(from_stdin: bool, stdin: TextIO) -> str:
    if from_stdin:
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise Invalid("the passwords do not match")
    return first


def run(settings: Settings, args: argparse.Namespace, stdin: TextIO | None = None) -> int:
    try:
        password = read_password(args.password_stdin, stdin or sys.stdin)
        migrate(settings.database_url)
        engine = create_engine(settings.database_url)
        try:
            user = Accounts(engine).create_user(
                email=args.email, password=password, role=args.role, name=args.name
            )
        finally:
            engine.dispose()
    except Invalid as exc:
        print(f"milo-voice users create: {exc}", file=sys.stderr)
        return 2
    print(f"created {user.role} {user.email}; sign in at {sign_in_url(settings)}")
    if not settings.public_url.strip():
        print("(the address of MILO_HOST and MILO_PORT; if `milo-voice serve` runs with others, "
              "pass them here as --host/--port, or set MILO_PUBLIC_URL)")
    return 0
