from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

from kairos.db.metadata import metadata
from kairos.db.types import BigID, JSONDoc, UTCDateTime

contact = Table(
    "contact",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("external_id", String(255)),  # Segment userId
    Column("email", String(320)),
    Column("phone", String(32)),  # E.164
    Column("first_name", String(200)),
    Column("last_name", String(200)),
    Column("timezone", String(64)),  # IANA name
    Column("locale", String(35)),  # BCP 47
    Column("lifecycle_stage", String(40)),
    Column("score", Float, nullable=False, default=0),
    Column("traits", JSONDoc, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Set when this contact was merged into another; its data then lives on the survivor.
    Column("merged_into", BigID, ForeignKey("contact.id", ondelete="SET NULL")),
    Index("ix_contact_workspace_id", "workspace_id", "id"),
    Index("ix_contact_merged_into", "merged_into"),
    # the lifecycle report's current stages; only contacts with a stage are in it
    Index(
        "ix_contact_stage",
        "workspace_id",
        "lifecycle_stage",
        "merged_into",
        sqlite_where=text("lifecycle_stage IS NOT NULL"),
        postgresql_where=text("lifecycle_stage IS NOT NULL"),
    ),
)

# the console's name search: "starts with", any case (``contacts.service._name_matches``);
# on PostgreSQL with text_pattern_ops, so LIKE 'prefix%' uses them whatever the collation
for _column in ("first_name", "last_name"):
    Index(
        f"ix_contact_{_column}_lower",
        contact.c.workspace_id,
        func.lower(contact.c[_column]).label(f"lower_{_column}"),
        postgresql_ops={f"lower_{_column}": "text_pattern_ops"},
        sqlite_where=text("merged_into IS NULL"),
        postgresql_where=text("merged_into IS NULL"),
    )

#: Every identifier known for a contact. (kind, value) is unique per workspace, so each
#: identifier leads to exactly one live contact. Kinds: user_id, anonymous_id, email, phone.
identity = Table(
    "identity",
    metadata,
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("value", String(320), primary_key=True),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_identity_contact", "contact_id"),
)

contact_merge = Table(
    "contact_merge",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("survivor_id", BigID, nullable=False),
    Column("merged_id", BigID, nullable=False),
    Column("reason", Text, nullable=False),  # which identifier tied the two
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_contact_merge_workspace", "workspace_id", "survivor_id"),
)

attribute_definition = Table(
    "attribute_definition",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("type", String(10), nullable=False),  # string|number|boolean|datetime|list
    Column("label", String(200)),
    Column("description", Text),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

tag = Table(
    "tag",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

contact_tag = Table(
    "contact_tag",
    metadata,
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", BigID, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", BigID, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_contact_tag_tag", "tag_id"),
)

#: Tags taken from contacts, with when: "tag removed" journey triggers read it (a removal
#: leaves no other trace). Written only on removals, never on the ingest path.
tag_removal = Table(
    "tag_removal",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False),
    Column("tag_id", BigID, ForeignKey("tag.id", ondelete="CASCADE"), nullable=False),
    Column("workspace_id", BigID, nullable=False),
    Column("removed_at", UTCDateTime, nullable=False),
    Index("ix_tag_removal_tag_removed_at", "tag_id", "removed_at"),
)

#: Contacts whose data changed since the worker last looked: the worker's work queue.
contact_change = Table(
    "contact_change",
    metadata,
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", BigID, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    Index("ix_contact_change_changed_at", "changed_at"),
)

#: Every change of a contact's lifecycle stage (lead → MQL → SQL → customer …), for the
#: lifecycle movement report. Written by ``contacts.lifecycle.set_stage`` only.
lifecycle_change = Table(
    "lifecycle_change",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False),
    Column("from_stage", String(40)),  # None: the contact had no stage
    Column("to_stage", String(40)),  # None: the stage was cleared
    Column("source", String(40), nullable=False),  # api, journey, import, scoring …
    Column("changed_at", UTCDateTime, nullable=False),
    # covering: a day's moves are read from the index alone
    Index("ix_lifecycle_change_workspace_changed_at", "workspace_id", "changed_at", "from_stage", "to_stage"),
    Index("ix_lifecycle_change_contact", "contact_id"),
)

#: Where a contact came from (docs/leads.md, "Acquisition source"): one row per contact with
#: at least one attributed visit — the first touch (the earliest, never replaced by a later
#: one) and the last touch (the latest non-direct visit; direct only until there is one),
#: each with its instant, channel group, UTM values, referrer and landing URL. Written by
#: ingest (``contacts.acquisition.record_touches``) from page calls and form submissions.
contact_acquisition = Table(
    "contact_acquisition",
    metadata,
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    *(
        column
        for touch in ("first", "last")
        for column in (
            Column(f"{touch}_at", UTCDateTime, nullable=False),
            Column(f"{touch}_channel", String(20), nullable=False),
            Column(f"{touch}_source", String(255)),
            Column(f"{touch}_medium", String(255)),
            Column(f"{touch}_campaign", String(255)),
            Column(f"{touch}_term", String(255)),
            Column(f"{touch}_content", String(255)),
            Column(f"{touch}_referrer", Text),
            Column(f"{touch}_landing_url", Text),
        )
    ),
    Column("updated_at", UTCDateTime, nullable=False),
    # deleting a workspace (its foreign key)
    Index("ix_contact_acquisition_workspace", "workspace_id"),
)
