"""The `Repo` base every repository stands on: one transaction per unit, the injected clock, row helpers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from milo_voice.store.db import create_engine, migrate
from milo_voice.store.repo import NotFound, Repo, get_row, insert_row
from milo_voice.store.tables import AppSecret, Interview

NOON = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'milo.db'}"
    migrate(url)
    engine = create_engine(url)
    yield engine
    engine.dispose()


def interview(repo: Repo, slug: str) -> Interview:
    return Interview(slug=slug, title="T", greeting="Hi", closing="Bye", created_at=repo.now())


def test_a_unit_commits_on_success_and_rows_stay_readable_after_it(engine: Engine) -> None:
    repo = Repo(engine, now=lambda: NOON)
    with repo.unit() as session:
        row = interview(repo, "kept")
        row_id = insert_row(session, row)
    assert row.slug == "kept" and row.created_at == NOON  # detached, not expired
    with repo.unit() as session:
        assert get_row(session, Interview, row_id).slug == "kept"


def test_a_unit_rolls_back_everything_on_error(engine: Engine) -> None:
    repo = Repo(engine)
    with pytest.raises(RuntimeError), repo.unit() as session:
        insert_row(session, interview(repo, "lost"))
        raise RuntimeError("boom")
    with repo.unit() as session:
        assert session.exec(select(Interview)).all() == []


def test_a_missing_row_is_not_found_naming_its_table(engine: Engine) -> None:
    with Repo(engine).unit() as session, pytest.raises(NotFound, match="app_secret nope does not exist"):
        get_row(session, AppSecret, "nope")
    assert issubclass(NotFound, LookupError)

