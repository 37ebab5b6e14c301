from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint

from kairos.db.metadata import metadata
from kairos.db.types import BigID, JSONDoc, UTCDateTime

segment = Table(
    "segment",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("kind", String(10), nullable=False),  # dynamic | static
    Column("definition", JSONDoc),  # dynamic segments only
    # dynamic segments whose definition looks at time are refreshed periodically
    Column("time_dependent", Boolean, nullable=False, default=False),
    Column("needs_refresh", Boolean, nullable=False, default=True),
    Column("refreshed_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

segment_membership = Table(
    "segment_membership",
    metadata,
    Column("segment_id", BigID, ForeignKey("segment.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", BigID, nullable=False),
    Column("entered_at", UTCDateTime, nullable=False),
    Index("ix_segment_membership_contact", "contact_id"),
)

#: Every entry and exit, with its instant: the history and what journeys will trigger on.
membership_transition = Table(
    "membership_transition",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("segment_id", BigID, ForeignKey("segment.id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(7), nullable=False),  # entered | exited
    Column("at", UTCDateTime, nullable=False),
    Index("ix_membership_transition_segment_at", "segment_id", "at"),
    Index("ix_membership_transition_contact", "contact_id"),
)
