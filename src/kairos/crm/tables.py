"""CRM sync tables: connections, each contact's sync state per connection (the sync outbox),
the sync log, and the deals read back from the CRM."""

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from kairos.db.metadata import metadata
from kairos.db.types import BigID, JSONDoc, UTCDateTime

_WS = ("workspace.id",)

#: A workspace's connection to a CRM. ``secrets`` is a Fernet token (``kairos.crypto``),
#: never returned. ``field_mapping`` is a list of ``{"source": <Kairos field or traits.X>,
#: "target": <CRM property>}``; ``sync_scope`` says which contacts are pushed (``all``, a
#: ``segment`` or ``lifecycle`` stages). A paused connection (CRM outage, credentials
#: refused) holds its queued syncs until ``paused_until``.
crm_connection = Table(
    "crm_connection",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey(*_WS, ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("provider", String(20), nullable=False),  # hubspot|salesforce|webhook
    Column("settings", JSONDoc, nullable=False),
    Column("secrets", Text),
    Column("field_mapping", JSONDoc, nullable=False),
    #: accounts (B2B) of the pushed contacts are upserted too (HubSpot companies, Salesforce
    #: Accounts, the webhook's ``account.upsert``), with this mapping of account fields
    Column("push_accounts", Boolean, nullable=False),
    Column("account_mapping", JSONDoc, nullable=False),
    Column("sync_scope", String(12), nullable=False),  # all|segment|lifecycle
    Column("segment_id", BigID, ForeignKey("segment.id", ondelete="SET NULL")),
    Column("lifecycle_stages", JSONDoc, nullable=False),
    Column("push_contacts", Boolean, nullable=False),
    Column("pull_deals", Boolean, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("poll_interval", Integer, nullable=False),  # seconds between deal polls
    Column("deal_cursor", String(64)),  # the CRM's last-modified mark of the newest deal read
    Column("next_poll_at", UTCDateTime),
    Column("paused_until", UTCDateTime),
    Column("pause_reason", Text),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

#: One contact's sync state on one connection: the sync outbox. A change to the contact bumps
#: ``version`` and queues it; a push that succeeds records the version it sent in
#: ``synced_version`` and is ``synced`` only if no change came meanwhile (else it stays
#: queued), so a queued sync is never lost and pushing twice is harmless (an upsert).
#: ``crm_id`` is the contact's id in the CRM (HubSpot contact id, Salesforce Lead id).
crm_contact = Table(
    "crm_contact",
    metadata,
    Column("connection_id", BigID, ForeignKey("crm_connection.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", BigID, nullable=False),
    Column("crm_id", String(100)),
    Column("status", String(10), nullable=False),  # queued|sending|synced|failed
    Column("version", Integer, nullable=False),
    Column("synced_version", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_at", UTCDateTime),
    Column("last_synced_at", UTCDateTime),
    Column("last_error", Text),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_crm_contact_due", "status", "next_attempt_at"),
    Index("ix_crm_contact_contact", "contact_id"),
    Index("ix_crm_contact_crm_id", "connection_id", "crm_id"),
)

#: One account's sync state on one connection: the accounts outbox, the same life as
#: ``crm_contact``. An account is queued when a contact of it is queued on the connection;
#: a change of its attributes or of its roll-up bumps the version. ``pushed_hash`` is the
#: hash of the properties last accepted: an account whose mapped values did not change is
#: not sent again. ``crm_id``: the HubSpot company id, the Salesforce Account id.
crm_account = Table(
    "crm_account",
    metadata,
    Column("connection_id", BigID, ForeignKey("crm_connection.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", BigID, ForeignKey("account.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", BigID, nullable=False),
    Column("crm_id", String(100)),
    Column("status", String(10), nullable=False),  # queued|sending|synced|failed
    Column("version", Integer, nullable=False),
    Column("synced_version", Integer, nullable=False),
    Column("pushed_hash", String(64)),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_at", UTCDateTime),
    Column("last_synced_at", UTCDateTime),
    Column("last_error", Text),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_crm_account_due", "status", "next_attempt_at"),
    Index("ix_crm_account_account", "account_id"),
)

#: What happened to accounts' pushes, per account (the contacts' log is ``crm_sync_log``).
crm_account_log = Table(
    "crm_account_log",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey(*_WS, ondelete="CASCADE"), nullable=False),
    Column("connection_id", BigID, ForeignKey("crm_connection.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", BigID, ForeignKey("account.id", ondelete="CASCADE"), nullable=False),
    Column("outcome", String(12), nullable=False),  # synced|retry|failed
    Column("crm_id", String(100)),
    Column("detail", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_crm_account_log_account", "account_id", "id"),
)

#: What happened, per contact: pushes (synced, retried, failed) and deal changes read back.
crm_sync_log = Table(
    "crm_sync_log",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey(*_WS, ondelete="CASCADE"), nullable=False),
    Column("connection_id", BigID, ForeignKey("crm_connection.id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False),
    Column("direction", String(4), nullable=False),  # push|pull
    Column("outcome", String(12), nullable=False),  # synced|retry|failed|deal
    Column("crm_id", String(100)),
    Column("detail", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_crm_sync_log_contact", "contact_id", "id"),
)

#: Deals (HubSpot deals, Salesforce opportunities) read back, with the last stage seen: a
#: stage is turned into an event only when it differs from the one stored here, in the same
#: transaction, so each change becomes exactly one event however often it is read.
crm_deal = Table(
    "crm_deal",
    metadata,
    Column("connection_id", BigID, ForeignKey("crm_connection.id", ondelete="CASCADE"), primary_key=True),
    Column("deal_id", String(100), primary_key=True),
    Column("workspace_id", BigID, nullable=False),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="SET NULL")),
    Column("name", String(255)),
    Column("stage", String(100), nullable=False),
    Column("amount", Float),
    Column("currency", String(3)),
    Column("updated_at", UTCDateTime, nullable=False),
)
