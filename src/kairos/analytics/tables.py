"""Exchange rates: a workspace's table of currency rates against its base currency, with
the date each rate takes effect (``analytics/currency.py``); the dashboard's daily event
counts and the two indexes its other daily figures read (``analytics/dashboard.py``)."""

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
    text,
)

from kairos.contacts.tables import contact
from kairos.db.metadata import metadata
from kairos.db.types import BigID, UTCDateTime
from kairos.messaging.tables import message

#: ``rate`` units of ``currency`` are worth 1 unit of ``base`` from ``valid_from`` (a UTC
#: date) until the currency's next row. Every row of a workspace has the same ``base``.
exchange_rate = Table(
    "exchange_rate",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("base", String(3), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("rate", Float, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "currency", "valid_from"),
)

#: Events stored per workspace and UTC day of their ``timestamp``: the dashboard's events per
#: day without counting millions of rows (there is no ``(workspace_id, timestamp)`` index on
#: ``event``). Written in the same transaction as the events (``events/ingest.py``: one
#: upsert per day of a batch; the JSON Lines import and Kairos's own events go through it too)
#: and backfilled by migration 0018. Erasing a contact deletes their events but not these
#: counts: they count events, not people, and name nobody (``docs/analytics.md``).
event_day_count = Table(
    "event_day_count",
    metadata,
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("events", BigInteger, nullable=False),
    sqlite_with_rowid=False,  # clustered on (workspace_id, day): a range of days is one seek
)

# Declared here, beside the dashboard they serve, so the tables of other packages keep
# their own definitions (they are part of ``contact`` and ``message`` all the same):
#: the dashboard's live contacts (total, and new per day): a range of the index alone, where
#: counting ``merged_into IS NULL`` over ``ix_contact_workspace_id`` reads every contact row
Index(
    "ix_contact_live_created",
    contact.c.workspace_id,
    contact.c.created_at,
    sqlite_where=text("merged_into IS NULL"),
    postgresql_where=text("merged_into IS NULL"),
)
#: the dashboard's sent and delivered messages per day: a range of sends, where
#: ``ix_message_source`` (``sent_at`` last) makes it read every message the workspace ever sent
Index(
    "ix_message_sent",
    message.c.workspace_id,
    message.c.sent_at,
    message.c.status,
    sqlite_where=text("sent_at IS NOT NULL"),
    postgresql_where=text("sent_at IS NOT NULL"),
)
