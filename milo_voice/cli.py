"""The `milo-voice` command: serve, models, simulate, migrate, recover, backup, restore, users, phone.

Settings come from `MILO_*` variables; a few flags override them for one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from milo_voice import log as milo_log
from milo_voice.errors import MiloError
from milo_voice.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="milo-voice", description="Self-hosted AI interviewer.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the interview server (migrates and seeds the demo)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    models = sub.add_parser("models", help="check, and fetch where needed, the offline models")
    models.add_argument("--no-fetch", action="store_true", help="only report, download nothing")
    sim = sub.add_parser("simulate", help="run a whole interview with answer WAVs as the candidate")
    sim.add_argument("answers", nargs="+", type=Path, help="answer recordings, in order")
    sim.add_argument("--manifest", type=Path, help="manifest.jsonl with true speech ends")
    sim.add_argument("--json", action="store_true", help="print the result as JSON")
    sub.add_parser("migrate", help="create or upgrade the database schema")
    sub.add_parser("recover", help="finalise recordings of sessions a crash left open")
    backup = sub.add_parser("backup", help="write the database, recordings and uploads to one .tar.gz")
    backup.add_argument("dest", nargs="?", type=Path, help="archive file or folder "
                        "(default: milo-backup-<UTC time>.tar.gz here); see docs/backup.md")
    restore = sub.add_parser("restore", help="verify a backup, restore it, migrate (stop the server first)")
    restore.add_argument("archive", type=Path, help="a .tar.gz written by `milo-voice backup`")
    restore.add_argument("--force", action="store_true", help="replace a database or folders that hold data")
    from milo_voice.calls.phone import numbers_cli
    from milo_voice.workspace import users_cli

    users_cli.add_parser(sub)
    numbers_cli.add_parser(sub)
    return parser


def quiet_thread_pools() -> None:
    """Stop idle OpenMP/OpenBLAS worker threads from spinning: with one thread per decode they only
    burn CPU (measured: a live decode used 0.38 CPU-s in 0.27 s wall before, 0.23 in 0.23 after).
    Must run before ctranslate2, numpy or onnxruntime are imported."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def main(argv: list[str] | None = None) -> int:
    quiet_thread_pools()
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
        if getattr(args, "host", None):
            settings = settings.with_overrides(host=args.host)
        if getattr(args, "port", None):
            settings = settings.with_overrides(port=args.port)
        milo_log.configure(settings.log_level, settings.log_format)
        command = args.command
        if command == "models":
            return _models(settings, fetch=not args.no_fetch)
        if command == "migrate":
            from milo_voice.store.db import migrate

            migrate(settings.database_url)
            print(f"database ready: {settings.database_url}")
            return 0
        if command == "users":
            from milo_voice.workspace import users_cli

            return users_cli.run(settings, args)
        if command == "phone":
            from milo_voice.calls.phone import numbers_cli

            return numbers_cli.run(settings, args)
        if command == "recover":
            return _recover(settings)
        if command in ("backup", "restore"):
            return _backup_or_restore(settings, args)
        if command == "simulate":
            return asyncio.run(_simulate(settings, args.answers, args.manifest, as_json=args.json))
        if command == "serve":
            from milo_voice.web.server import serve

            return serve(settings)
    except MiloError as exc:
        print(f"milo-voice: {exc}", file=sys.stderr)
        return 2
    return 1


def _models(settings: Settings, *, fetch: bool) -> int:
    from milo_voice.media.model_files import ensure_models, format_report

    statuses = ensure_models(settings, fetch=fetch)
    print(format_report(statuses))
    return 0 if all(s.ok or "optional" in s.detail for s in statuses) else 1


def _sessions(settings: Settings):  # type: ignore[no-untyped-def]
    """The migrated database's session store (imported here: the console script starts fast)."""
    from milo_voice.calls.session_store import SessionStore
    from milo_voice.store.db import create_engine, migrate

    migrate(settings.database_url)
    return SessionStore(create_engine(settings.database_url))


def _recover(settings: Settings) -> int:
    from milo_voice.calls.recovery import recover_sessions

    for line in recover_sessions(_sessions(settings), settings):
        print(line)
    return 0


def _backup_or_restore(settings: Settings, args: argparse.Namespace) -> int:
    from milo_voice.store import backup

    if args.command == "backup":
        print(backup.backup(settings, args.dest or Path(backup.default_archive_name())).summary())
    else:
        print(backup.restore(settings, args.archive, force=args.force).summary())
    return 0


async def _simulate(settings: Settings, paths: list[Path], manifest: Path | None, *, as_json: bool) -> int:
    from milo_voice.calls.engines import load_runtime
    from milo_voice.calls.latency import format_table, table
    from milo_voice.calls.simulate import format_transcript, load_answers, simulate

    loop = asyncio.get_running_loop()
    answers = await loop.run_in_executor(None, load_answers, paths, manifest)
    store = await loop.run_in_executor(None, _sessions, settings)
    runtime = await loop.run_in_executor(None, load_runtime, settings)
    try:
        result = await simulate(settings, runtime, store, answers)
    finally:
        runtime.close()
    if as_json:
        print(json.dumps({
            "session_id": result.session_id,
            "completed": result.completed,
            "recording": str(result.recording),
            "duration_s": round(result.duration_s, 3),
            "turns": [
                {"speaker": t.speaker, "kind": t.kind, "start_s": t.start_s, "end_s": t.end_s,
                 "text": result.transcripts.get(t.index, t.text)}
                for t in result.turns
            ],
            "latency_ms": {
                name: {"n": n, "p50": p50, "p90": p90} for name, n, p50, p90 in table(result.latencies)
            },
            "asr_cpu_per_audio_s": result.latencies.asr_cpu_per_audio_s,
            "talk_over": result.latencies.talk_over,
        }, indent=2))
    else:
        print(format_transcript(result))
        print()
        print(format_table(result.latencies))
        print(f"\nsession {result.session_id}: {'completed' if result.completed else 'ended early'}; "
              f"recording {result.recording} ({result.duration_s:.1f} s)")
    return 0 if result.completed else 3
