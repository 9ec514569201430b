"""Several `milo-voice serve` nodes on one database: who is up, and which node holds which live call.

`serve_node` is each node's heartbeat (its address, live calls, room and whether it drains), written every
few seconds; `live_call` is the routing truth: one row per live call (or phone call promised to a node by
its webhook), keyed by what later requests of that call carry. See `calls/cluster.py` and docs/deploy.md.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlmodel import Field

from milo_voice.store.tables.base import Table, UTCDateTime, utc_now


class ServeNode(Table, table=True):
    """One `serve` process, as its last heartbeat described it."""

    __tablename__ = "serve_node"

    name: str = Field(primary_key=True, sa_type=String(100))
    """MILO_NODE_NAME: unique among the nodes of one database."""
    url: str = Field(sa_type=Text)
    """Where the other nodes reach this one (MILO_NODE_URL): forwarded browser offers and ends."""
    stream_url: str = Field(sa_type=Text)
    """Where Twilio reaches this node's media websocket (MILO_NODE_PUBLIC_URL)."""
    live_calls: int = Field(default=0, sa_type=Integer)
    max_live_calls: int = Field(default=0, sa_type=Integer)
    draining: bool = Field(default=False, sa_type=Boolean)
    started_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    heartbeat_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)
    stopped: bool = Field(default=False, sa_type=Boolean)
    """The node said goodbye (a clean stop): not a death, its calls ended on it."""


class LiveCall(Table, table=True):
    """A call that lives on (or was promised to) one node."""

    __tablename__ = "live_call"

    key: str = Field(primary_key=True, sa_type=String(100))
    """`web:<candidate token>` for a browser call; `phone:<32 hex of its ticket's SHA-256>` for a phone
    call."""
    node: str = Field(sa_type=String(100), index=True)
    channel: str = Field(sa_type=String(20))
    candidate_id: int | None = Field(default=None, sa_type=Integer)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    claimed: bool = Field(default=True, sa_type=Boolean)
    """False for a phone call whose webhook chose this node but whose stream has not arrived yet."""
