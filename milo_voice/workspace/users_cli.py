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


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser("users", help="manage recruiter accounts")
    actions = users.add_subparsers(dest="users_command", required=True)
    create = actions.add_parser("create", help="create an account (e.g. the first admin)")
    create.add_argument("--email", required=True)
    create.add_argument("--role", choices=["admin", "viewer"], default="viewer")
    create.add_argument("--name", default="")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")


def read_password(from_stdin: bool, stdin: TextIO) -> str:
    if from_stdin:
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise Invalid("the passwords do not match")
    return first


def run(settings: Settings, args: argparse.Namespace, stdin: TextIO = sys.stdin) -> int:
    try:
        password = read_password(args.password_stdin, stdin)
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
    print(f"created {user.role} {user.email}; sign in at {settings.base_url}/app/login")
    return 0
