from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from kairos.db.metadata import metadata
from kairos.db.types import BigID, JSONDoc, UTCDateTime

#: One row per accepted Segment message (track, page, screen, identify, group, alias).
#: ``properties`` holds track/page/screen properties, identify/group traits (group adds
#: ``groupId``), or alias' ``previousId``.
event = Table(
    "event",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(10), nullable=False),
    Column("name", String(200)),
    Column("message_id", String(255), nullable=False),
    Column("user_id", String(255)),
    Column("anonymous_id", String(255)),
    Column("properties", JSONDoc, nullable=False),
    Column("context", JSONDoc),
    Column("integrations", JSONDoc),
    Column("timestamp", UTCDateTime, nullable=False),  # skew-corrected
    Column("original_timestamp", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("received_at", UTCDateTime, nullable=False),
    # "this contact did X between t1 and t2", and the timeline (a contact's events are few
    # enough to sort; a separate (contact_id, timestamp) index cost 20% of insert time);
    # received_at lets the worker read what a changed contact received since it was queued
    # from the index alone
    Index("ix_event_contact_name_ts", "contact_id", "name", "timestamp", "received_at"),
    # "who did X between t1 and t2", from the index alone (segments over a workspace)
    Index("ix_event_workspace_name_ts", "workspace_id", "name", "timestamp", "contact_id"),
)

#: The duplicate check's memory: every stored event's ``messageId`` (unique per workspace).
#: A table of its own, not a unique index of ``event``: PostgreSQL partitions ``event`` by
#: month (``events/partitions.py``) and requires the partition key in every unique index.
#: message_id leads: the check probes it once per incoming id, and no other index starts with
#: it, so PostgreSQL cannot pick a workspace-prefix scan instead (which it did for a workspace
#: its statistics did not know yet: a scan of all its events per id). ``timestamp`` is the
#: event's, for retention.
event_message = Table(
    "event_message",
    metadata,
    Column("message_id", String(255), primary_key=True),
    # no foreign key: a row is written with every event, whose own keys check the workspace,
    # and a per-row check of it cost a third of this table's insert time on PostgreSQL
    Column("workspace_id", BigID, primary_key=True),
    Column("timestamp", UTCDateTime, nullable=False),
    Index("ix_event_message_timestamp", "timestamp"),
)

#: The ingest log: what ``/v1`` accepted and has not processed yet (``events/log.py``). One
#: row per request, appended and committed before the ``200``; the processor turns rows into
#: events, contacts and profile changes in large groups and deletes them in the same
#: transaction. No secondary index: appends must stay cheap, and the processor reads in id
#: order. ``error`` is set on a row that fails on its own (kept, never dropped: an operator
#: can read it and replay it with ``kairos ingest replay``).
ingest_log = Table(
    "ingest_log",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    #: a sandbox workspace's virtual now when the request arrived (NULL: the real clock)
    Column("virtual_now", UTCDateTime),
    Column("count", Integer, nullable=False),
    #: random, by which the appending process finds the messages it still holds in memory
    Column("token", BigInteger),
    Column("error", Text),
    #: the validated messages (``events/log.encode_messages``), last: SQLite reads a row's
    #: large columns only when asked for them
    Column("messages", Text, nullable=False),
)
