"""Lead management tables: lifecycle rules, stage SLAs and their escalations, assignment
rules, each lead's owner, and human tasks."""

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from kairos.db.metadata import metadata
from kairos.db.types import BigID, JSONDoc, UTCDateTime

#: Ordered rules setting a contact's lifecycle stage when a segment condition holds for it
#: (``condition``) or when it performs an event (``event``: an EventMatch), optionally only
#: from some stages (``from_stages``: a list, null in it meaning "no stage yet").
lifecycle_rule = Table(
    "lifecycle_rule",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("position", Integer, nullable=False),
    Column("stage", String(40), nullable=False),
    Column("from_stages", JSONDoc),
    Column("condition", JSONDoc),
    Column("event", JSONDoc),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "name"),
    Index("ix_lifecycle_rule_workspace", "workspace_id", "position"),
)

#: How long a lead may sit in a stage before its owner's escalation (hours).
lifecycle_sla = Table(
    "lifecycle_sla",
    metadata,
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("stage", String(40), nullable=False),
    Column("hours", Float, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("workspace_id", "stage"),
)

#: One escalation per stage entry (``change_id``: the lifecycle_change row that began it).
lead_escalation = Table(
    "lead_escalation",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False),
    Column("change_id", BigID, nullable=False),
    Column("stage", String(40), nullable=False),
    Column("stage_since", UTCDateTime, nullable=False),
    Column("owner_user_id", BigID),
    Column("notified", JSONDoc, nullable=False),  # the user ids told
    Column("escalated_at", UTCDateTime, nullable=False),
    UniqueConstraint("change_id"),
    Index("ix_lead_escalation_contact", "contact_id"),
)

#: Who gets a contact entering ``stage``: in turn among ``users`` (round_robin), the user
#: a ``territories`` map gives for the contact's ``attribute`` (territory), or the user whose
#: email or id the ``attribute`` holds (account_owner). ``cursor`` is the round robin's turn.
assignment_rule = Table(
    "assignment_rule",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("position", Integer, nullable=False),
    Column("stage", String(40), nullable=False),
    Column("method", String(20), nullable=False),
    Column("users", JSONDoc),
    Column("attribute", String(100)),
    Column("territories", JSONDoc),
    Column("reassign", Boolean, nullable=False),
    Column("cursor", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "name"),
    Index("ix_assignment_rule_workspace", "workspace_id", "stage", "position"),
)

#: A contact's sales owner (a console user), since when and by which rule (null: by hand).
lead = Table(
    "lead",
    metadata,
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("owner_user_id", BigID, ForeignKey("app_user.id", ondelete="SET NULL")),
    Column("rule_id", BigID),
    Column("assigned_at", UTCDateTime, nullable=False),
    Index("ix_lead_owner", "workspace_id", "owner_user_id"),
)

#: Human work a journey (``task`` node) hands to a person: call, WeChat message, visit…
#: ``status``: open → done (with an ``outcome``) or expired (the node's timeout); ``key``
#: makes creation idempotent (``journey:<enrollment>:<node>:<step>``).
task = Table(
    "task",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(200), nullable=False),
    Column("journey_id", BigID),
    Column("enrollment_id", BigID, ForeignKey("enrollment.id", ondelete="SET NULL")),
    Column("node", String(64)),
    Column("kind", String(10), nullable=False),  # call|wechat|visit|custom
    Column("title", String(200), nullable=False),
    Column("script", Text),
    Column("assignee_user_id", BigID, ForeignKey("app_user.id", ondelete="SET NULL")),
    Column("queue", String(64)),
    Column("outcomes", JSONDoc, nullable=False),
    Column("status", String(10), nullable=False),
    Column("outcome", String(64)),
    Column("notes", Text),
    Column("due_at", UTCDateTime),
    Column("timeout_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("claimed_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    Column("completed_by", BigID),
    Column("escalated_at", UTCDateTime),
    UniqueConstraint("workspace_id", "key"),
    Index("ix_task_status_assignee", "workspace_id", "status", "assignee_user_id"),
    Index("ix_task_due", "status", "due_at"),
    Index("ix_task_enrollment", "enrollment_id"),
)
