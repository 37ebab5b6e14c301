from sqlalchemy import Column, ForeignKey, Index, String, Table

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
    Index("uq_event_message_id", "workspace_id", "message_id", unique=True),
    # "this contact did X between t1 and t2", and the timeline (a contact's events are few
    # enough to sort; a separate (contact_id, timestamp) index cost 20% of insert time);
    # received_at lets the worker read what a changed contact received since it was queued
    # from the index alone
    Index("ix_event_contact_name_ts", "contact_id", "name", "timestamp", "received_at"),
    # "who did X between t1 and t2", from the index alone (segments over a workspace)
    Index("ix_event_workspace_name_ts", "workspace_id", "name", "timestamp", "contact_id"),
)
