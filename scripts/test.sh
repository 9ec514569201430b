#!/usr/bin/env bash
# One command: set up the test dependencies, then run the whole test suite (lint included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check milo_voice tests bench
exec .venv/bin/python -m pytest "$@"
