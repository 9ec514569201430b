"""Alembic environment: runs migrations on the connection `milo_voice.store.db.migrate` hands over.

Configured in code by `milo_voice.store.db.alembic_config` (no alembic.ini). Offline mode (`sql=True`)
prints the SQL for the configured URL instead of running it.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from milo_voice.store.db import create_engine, engine_url, include_name
from milo_voice.store.tables import Table, UTCDateTime

config = context.config


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Autogenerate writes our UTC wrapper as the plain column type, so migrations never import models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


options: dict[str, Any] = {
    "target_metadata": Table.metadata,
    "include_name": include_name,
    "render_as_batch": True,  # SQLite alters tables by copying them; batch mode does that for us
    "compare_type": True,
    "render_item": render_item,
}


def run() -> None:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or ""
    if context.is_offline_mode():
        context.configure(url=engine_url(url), literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as own_connection:
            context.configure(connection=own_connection, **options)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run()
