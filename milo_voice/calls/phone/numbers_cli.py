"""`milo-voice phone numbers add|list|remove`: map Twilio numbers to interviews from the shell.

The same service as the settings page and the API (`calls.phone.admin.PhoneNumbers`); errors go to
stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from milo_voice.calls.phone.admin import MappedNumber, PhoneNumbers
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.store.repo import Invalid, NotFound


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    phone = sub.add_parser("phone", help="phone channel set-up")
    areas = phone.add_subparsers(dest="phone_command", required=True)
    numbers = areas.add_parser("numbers", help="which Twilio number reaches which interview")
    actions = numbers.add_subparsers(dest="numbers_command", required=True)
    actions.add_parser("list", help="list mapped numbers")
    add = actions.add_parser("add", help="map a number to an interview (newest published version)")
    add.add_argument("number", help='with its country code, e.g. "+1 415 555 0100"')
    add.add_argument("--interview", required=True, help="interview slug (see /app/interviews)")
    add.add_argument("--version", type=int, help="a published version (default: the newest)")
    remove = actions.add_parser("remove", help="unmap a number")
    remove.add_argument("number")


def describe(m: MappedNumber) -> str:
    line = f"{m.number}  {m.slug} version {m.version}  {m.title}"
    if m.newest_version is not None:
        line += f"  (version {m.newest_version} is newer: map the number again to reach its candidates)"
    return line


def run(settings: Settings, args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    command = args.numbers_command
    migrate(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        numbers = PhoneNumbers(engine)
        if command == "list":
            rows = numbers.mapped()
            for m in rows:
                print(describe(m), file=out)
            if not rows:
                print("no numbers mapped; add one with: milo-voice phone numbers add +14155550100 "
                      "--interview <slug>", file=out)
        elif command == "add":
            print(f"mapped {describe(numbers.add(args.number, args.interview, args.version))}", file=out)
        else:
            print(f"removed {describe(numbers.remove(args.number))}", file=out)
    except (Invalid, NotFound) as exc:
        print(f"milo-voice phone numbers {command}: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0
