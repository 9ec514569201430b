"""Erasure end to end on PostgreSQL (Debian's server, started for the test): the catalogue's lookups
(JSON bodies read as text, foreign keys found from the schema) must hold there as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from postgres import postgres_url  # noqa: F401  (fixture)

from milo_voice.calls.session_store import SessionStore
from milo_voice.calls.speech_cache import speech_paths
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.store.tables import UserRole
from milo_voice.workspace.accounts import Principal
from milo_voice.workspace.erasure import Eraser, Initiator
from workspace.erasure_world import OTTO, ZELDA, World, mentions, references

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(postgres_url: str) -> Iterator[SessionStore]:  # noqa: F811
    migrate(postgres_url)
    engine = create_engine(postgres_url)
    try:
        yield SessionStore(engine)
    finally:
        engine.dispose()


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, postgres_url: str) -> Settings:  # noqa: F811
    return replace(settings, database_url=postgres_url, models_dir=tmp_path / "models")


def test_erasure_on_postgresql_leaves_only_the_tombstone(
    store: SessionStore, settings: Settings, users: dict[str, int]
) -> None:
    zelda = World.build(store, settings, ZELDA, users["admin"])
    otto = World.build(store, settings, OTTO, users["admin"])
    otto_before = mentions(store.engine, OTTO)
    eraser = Eraser.for_settings(store.engine, settings, speech_paths(settings))
    admin = Principal(users["admin"], "admin@example.com", UserRole.ADMIN)
    eraser.erase(zelda.candidate_id, initiated_by=Initiator.ADMIN, reason="by letter", by=admin)
    assert mentions(store.engine, ZELDA) == []
    assert references(store.engine, zelda.candidate_id, {zelda.session_id}) == []
    assert [p for p in zelda.files if p.exists()] == []
    assert mentions(store.engine, OTTO) == otto_before and all(p.exists() for p in otto.files)
    (tomb,) = eraser.tombstones()
    assert tomb.removed["rows"]["webhook_delivery"] >= 1 and tomb.removed["rows"]["job"] >= 1
