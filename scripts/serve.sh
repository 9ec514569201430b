#!/usr/bin/env bash
# One command: set everything up, then run the interview server on the embedded default
# (SQLite file milo.db, recordings/ on disk, offline models, offline planner, no API keys).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/milo-voice serve "$@"
