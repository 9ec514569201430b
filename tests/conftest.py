"""Shared fixtures: settings on tmp_path, a fresh SQLite database per test, the shared speech data."""

from __future__ import annotations

import json
import os

for _pool in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")  # as `milo-voice` does: no spinning idle thread pools
from pathlib import Path

import pytest
from three_answers import ThreeAnswers, simulate_three_answers

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
SPEECH = SHARED / "speech"


def manifest() -> dict[str, dict[str, object]]:
    entries = [json.loads(line) for line in (SPEECH / "manifest.jsonl").read_text().splitlines() if line]
    return {entry["id"]: entry for entry in entries}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'milo.db'}",
        recordings_dir=tmp_path / "recordings",
        models_dir=REPO / "models",
        uploads_dir=tmp_path / "uploads",
        webhook_allow_private_targets=True,  # the webhook receivers of the tests listen on 127.0.0.1
    )


@pytest.fixture
def store(settings: Settings) -> SessionStore:
    migrate(settings.database_url)
    return SessionStore(create_engine(settings.database_url))


@pytest.fixture(scope="session")
def three_answers(tmp_path_factory: pytest.TempPathFactory) -> ThreeAnswers:
    """One real-time interview on three real answers, shared by the pipeline and scoring tests."""
    return simulate_three_answers(tmp_path_factory.mktemp("three-answers"), REPO / "models", SPEECH)
