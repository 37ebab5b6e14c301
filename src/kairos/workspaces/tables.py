from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, false

from kairos.db.metadata import metadata
from kairos.db.types import BigID, JSONDoc, UTCDateTime

workspace = Table(
    "workspace",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    # default_country (ISO 3166 alpha-2) for phone numbers written without +country code
    Column("settings", JSONDoc, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
    # A sandbox's time is virtual: ``clock_at`` is its now, which moves only when advanced
    # (``workspaces/clocks.py``); a live workspace (``sandbox`` false) runs on the real clock.
    Column("sandbox", Boolean, nullable=False, default=False, server_default=false()),
    Column("clock_at", UTCDateTime),
)

#: Write keys (ingest, may be public in a browser) and API keys (management, secret).
#: Only a SHA-256 of each key is stored; ``prefix`` lets people tell keys apart.
api_key = Table(
    "api_key",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(10), nullable=False),  # "write" | "api"
    Column("name", String(200), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    # what an API key may do (``accounts/roles.py``): keys made before roles existed are admins
    Column("role", String(20), nullable=False, default="admin", server_default="admin"),
    Column("last_used_at", UTCDateTime),
    Index("ix_api_key_workspace", "workspace_id"),
)

#: Stored answers to create requests that carried an ``Idempotency-Key`` header.
idempotency_key = Table(
    "idempotency_key",
    metadata,
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),
)
