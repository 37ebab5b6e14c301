from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, String, Table, Text, UniqueConstraint

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

# --- computed traits and tag rules (docs/segments.md) ------------------------------------

#: A named per-contact value computed from events (``kairos.segments.traits``).
computed_trait = Table(
    "computed_trait",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("description", Text),
    Column("definition", JSONDoc, nullable=False),
    # Denormalised from the definition: what segment conditions and readers need per row.
    Column("function", String(20), nullable=False),
    Column("value_type", String(10), nullable=False),  # number | string | datetime
    Column("time_dependent", Boolean, nullable=False, default=False),
    Column("needs_refresh", Boolean, nullable=False, default=True),
    Column("refreshed_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

#: One row per (trait, contact) that has a value, in the column of the trait's value type,
#: so segment conditions compare a typed, indexed column instead of parsing JSON.
computed_trait_value = Table(
    "computed_trait_value",
    metadata,
    Column("trait_id", BigID, ForeignKey("computed_trait.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", BigID, nullable=False),
    Column("number", Float),
    Column("text", Text),
    Column("instant", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),  # when the value last changed
    Index("ix_computed_trait_value_contact", "contact_id"),
)

#: While a contact is a member of ``segment_id`` it carries ``tag`` (``kairos.segments.tag_rules``).
tag_rule = Table(
    "tag_rule",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("segment_id", BigID, ForeignKey("segment.id", ondelete="CASCADE"), nullable=False),
    Column("tag", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "segment_id", "tag"),
)
