"""Migrations against real databases: the migrated schema must equal `models.py`, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from postgres import postgres_url  # noqa: F401  (fixture)

from milo_voice.dialogue.script import demo_script
from milo_voice.store.db import (
    QUEUE_TABLE_PREFIX,
    SQLITE_BUSY_TIMEOUT_MS,
    alembic_config,
    create_engine,
    engine_url,
    include_name,
    migrate,
)
from milo_voice.store.tables import Table
from milo_voice.workspace.demo import Demo
from milo_voice.workspace.interviews import Interviews

HEAD = "0015"
"""The newest revision; bump it with every new migration."""
TABLES = {"interview", "question", "candidate", "interview_session", "turn", "timing_event"}
TABLES |= {"phone_number", "phone_access_code", "phone_call"}
TABLES |= {"app_user", "invite", "api_key", "candidate_note", "candidate_rating", "audit_event", "app_secret"}
TABLES |= {"score", "job", "webhook_endpoint", "webhook_delivery", "report_link"}  # issue 6: scoring
TABLES |= {"outreach_message", "outreach_event", "candidate_contact", "inbound_message"}  # issue 16
TABLES |= {"outreach_template", "interview_outreach", "outreach_settings"}  # issue 16, migration 0008
TABLES |= {"intake_batch", "intake_item", "candidate_resume", "ats_order", "intake_hook"}  # issue 17, 0009
TABLES |= {"interview_stage", "candidate_stage"}  # issue 18, 0010
TABLES |= {"user_session"}  # issue 20, 0011
TABLES |= {"self_identification"}  # issue 20 item 4, 0012
TABLES |= {"privacy_notice", "consent_record", "compliance_settings", "erasure_request"}  # issue 20, 0013
TABLES |= {"erasure_tombstone", "accommodation"}  # issue 20, 0013
TABLES |= {"serve_node", "live_call"}  # issue 21, 0014


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'milo.db'}"


def schema_diff(url: str) -> list[Any]:
    """What autogenerate would still write after `migrate(url)`; empty when models and migrations agree."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include_name}
            )
            return list(compare_metadata(context, Table.metadata))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_there_is_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert heads == [HEAD]


def test_migrated_sqlite_matches_the_models(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    migrate(url)
    assert table_names(url) == TABLES | {"alembic_version"}
    assert schema_diff(url) == []


def test_migrate_twice_keeps_the_data(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    migrate(url)
    engine = create_engine(url)
    try:
        interview_id, candidate = Demo(engine).seed()
        migrate(url)
        assert Demo(engine).seed()[1].token == candidate.token
        assert Interviews(engine).script(interview_id) == demo_script()
        with engine.connect() as connection:
            version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        assert version == HEAD
    finally:
        engine.dispose()


def test_downgrade_to_base_and_upgrade_again(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    migrate(url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            command.downgrade(alembic_config(connection=connection), "base")
            connection.commit()
    finally:
        engine.dispose()
    assert table_names(url) == {"alembic_version"}
    migrate(url)
    assert schema_diff(url) == []


def test_0013_keeps_the_oldest_row_of_a_replayed_call_sid_and_then_refuses_a_second(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            command.upgrade(alembic_config(connection=connection), "0012")
            connection.commit()
        interview_id, _ = Demo(engine).seed()
        insert = sa.text(
            "INSERT INTO phone_call (call_sid, direction, from_number, to_number, interview_id, ticket_hash,"
            " created_at, status, status_detail) VALUES (:sid, 'inbound', '', '', :iv, :ticket,"
            " '2026-12-01 10:00:00', '', '')"
        )
        with engine.begin() as connection:
            for n, sid in enumerate(["CA1", "CA1", "", "", "CA2", "CA1"]):
                connection.execute(insert, {"sid": sid, "iv": interview_id, "ticket": f"t{n}"})
        migrate(url)
        with engine.connect() as connection:
            query = "SELECT id, call_sid, status_detail FROM phone_call ORDER BY id"
            rows = connection.execute(sa.text(query))
            assert [(r[1], r[2]) for r in rows] == [
                ("CA1", ""), ("", "replayed CallSid CA1"), ("", ""), ("", ""), ("CA2", ""),
                ("", "replayed CallSid CA1"),
            ]
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(insert, {"sid": "CA2", "iv": interview_id, "ticket": "t9"})
        with engine.begin() as connection:
            connection.execute(insert, {"sid": "", "iv": interview_id, "ticket": "t10"})
    finally:
        engine.dispose()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    migrate(url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar_one() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar_one() == 1
            assert pragma("PRAGMA busy_timeout").scalar_one() == SQLITE_BUSY_TIMEOUT_MS
    finally:
        engine.dispose()


def test_a_bare_postgresql_url_gets_the_psycopg_driver() -> None:
    assert engine_url("postgresql://milo@db:5432/milo").drivername == "postgresql+psycopg"
    assert engine_url("postgresql+psycopg2://milo@db/milo").drivername == "postgresql+psycopg2"
    assert engine_url("sqlite:///milo.db").drivername == "sqlite"


def test_offline_mode_prints_the_postgresql_ddl(capsys: pytest.CaptureFixture[str]) -> None:
    command.upgrade(alembic_config(url="postgresql://milo@db/milo"), "head", sql=True)
    sql = capsys.readouterr().out
    for table in TABLES:
        assert f"CREATE TABLE {table} (" in sql
    assert "TIMESTAMP WITH TIME ZONE" in sql
    assert "ix_timing_event_session_id_turn_index ON timing_event (session_id, turn_index)" in sql


@pytest.mark.postgres
def test_migrated_postgres_matches_the_models(postgres_url: str) -> None:  # noqa: F811
    migrate(postgres_url)
    names = table_names(postgres_url)
    assert {n for n in names if not n.startswith(QUEUE_TABLE_PREFIX)} == TABLES | {"alembic_version"}
    assert {"procrastinate_jobs", "procrastinate_events", "procrastinate_workers"} <= names  # the job queue
    assert schema_diff(postgres_url) == []
    migrate(postgres_url)  # again: the job queue's schema is there, not applied twice
    assert table_names(postgres_url) == names
