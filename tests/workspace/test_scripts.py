"""Interviews stored from scripts, candidate links and the demo seed, against a real migrated SQLite file.

The workspace is the one writer of interviews, questions and candidates; these are the paths the
candidate pages, simulations and the server's first start take through it.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from milo_voice.dialogue.script import demo_script
from milo_voice.store.db import create_engine, migrate
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.demo import Demo
from milo_voice.workspace.interviews import Interviews


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'milo.db'}"
    migrate(url)
    engine = create_engine(url)
    yield engine
    engine.dispose()


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_tokens_are_unique_unguessable_and_find_their_candidate(engine: Engine) -> None:
    interview_id = Interviews(engine).add_script(demo_script(), slug="support")
    candidates = [Candidates(engine).enrol(interview_id=interview_id, name=f"c{i}") for i in range(40)]
    tokens = {c.token for c in candidates}
    assert len(tokens) == 40
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128
    wanted = candidates[7]
    found = Candidates(engine).by_token(wanted.token)
    assert found is not None
    assert (found.id, found.name, found.status) == (wanted.id, "c7", "new")
    assert Candidates(engine).by_token(wanted.token[:-1]) is None


def test_candidate_fields_and_timestamps_round_trip_as_utc(engine: Engine) -> None:
    interview_id = Interviews(engine).add_script(demo_script(), slug="support")
    made = Candidates(engine).enrol(
        interview_id=interview_id, name="Ada", email="ada@example.org", phone="+4412"
    )
    found = Candidates(engine).by_token(made.token)
    assert found is not None
    assert (found.name, found.email, found.phone, found.interview_id) == (
        "Ada",
        "ada@example.org",
        "+4412",
        interview_id,
    )
    assert found.created_at == made.created_at
    assert found.created_at.tzinfo is UTC
    assert "token" not in repr(found)


def test_seed_demo_is_idempotent_across_restarts(engine: Engine) -> None:
    first = Demo(engine).seed()
    again = Demo(engine).seed()
    after_restart = Demo(engine).seed()
    assert first[0] == again[0] == after_restart[0]
    assert first[1].token == again[1].token == after_restart[1].token
    assert first[1].name == "Demo Candidate"
    assert (count(engine, "interview"), count(engine, "candidate")) == (1, 1)


def test_script_round_trip_equals_the_demo_script(engine: Engine) -> None:
    interview_id = Interviews(engine).add_script(demo_script(), slug="support")
    script = Interviews(engine).script(interview_id)
    assert script == demo_script()  # every field but `key`
    assert script.questions == demo_script().questions
    assert script.key == "support-v1"


def test_slug_versions_are_unique(engine: Engine) -> None:
    v1 = Interviews(engine).add_script(demo_script(), slug="support")
    with pytest.raises(IntegrityError):
        Interviews(engine).add_script(demo_script(), slug="support")
    edited = dataclasses.replace(demo_script(), version=2, title="Support, revised")
    v2 = Interviews(engine).add_script(edited, slug="support")
    assert v2 != v1
    assert Interviews(engine).script(v2).key == "support-v2"
    assert Interviews(engine).script(v2).title == "Support, revised"
    assert Interviews(engine).script(v1).title == demo_script().title
    assert count(engine, "interview") == 2
    with pytest.raises(LookupError):
        Interviews(engine).script(v2 + 100)


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(IntegrityError):
        Candidates(engine).enrol(interview_id=999, name="Nobody")
