"""Journey tables: journeys with their draft, immutable published versions, enrollments (the
durable state of each contact in a journey) and the step log."""

from sqlalchemy import (
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

journey = Table(
    "journey",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("status", String(10), nullable=False),  # draft|active|paused|archived
    Column("draft", JSONDoc),  # the definition being edited (None: same as the live version)
    Column("layout", JSONDoc),  # UI positions of the draft's nodes
    Column("version_id", BigID),  # the live version: new enrollments use it
    Column("campaign_id", BigID, ForeignKey("campaign.id", ondelete="SET NULL")),  # reports roll up to it
    #: where each trigger source was read up to (segment transitions, tags): {source: marker}
    Column("cursor", JSONDoc),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

journey_version = Table(
    "journey_version",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("journey_id", BigID, ForeignKey("journey.id", ondelete="CASCADE"), nullable=False),
    Column("workspace_id", BigID, nullable=False),
    Column("number", Integer, nullable=False),
    Column("definition", JSONDoc, nullable=False),
    Column("layout", JSONDoc),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("journey_id", "number"),
)

#: One contact's way through one journey version. ``resume_at`` is when the scheduler
#: handles it next (None: it is waiting for an event without a due time, or it ended);
#: ``active_journey_id`` is set while it runs, so the unique constraint allows one running
#: enrollment per contact and journey; ``entry_key`` names the trigger occurrence (an event,
#: a segment transition, an API call) so the same occurrence never enrolls twice.
enrollment = Table(
    "enrollment",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, nullable=False),
    Column("journey_id", BigID, ForeignKey("journey.id", ondelete="CASCADE"), nullable=False),
    Column("version_id", BigID, ForeignKey("journey_version.id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False),
    Column("state", String(10), nullable=False),  # active|completed|converted|exited
    Column("node", String(64)),
    Column("phase", String(8), nullable=False),  # enter|wait (at a waiting node)
    Column("node_at", UTCDateTime, nullable=False),  # when it reached its current node
    Column("resume_at", UTCDateTime),
    Column("wait_event", String(200)),  # the event a wait_for_event node waits for
    Column("woken_at", UTCDateTime),  # when that event came
    Column("steps", Integer, nullable=False),
    Column("payload", JSONDoc),  # the trigger's event or API payload, for templates
    Column("entry_key", String(255), nullable=False),
    Column("active_journey_id", BigID),
    Column("exit_reason", String(40)),
    Column("entered_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    UniqueConstraint("journey_id", "entry_key"),
    UniqueConstraint("contact_id", "active_journey_id"),
    Index("ix_enrollment_due", "state", "resume_at"),
    Index("ix_enrollment_journey_contact", "journey_id", "contact_id"),
    Index("ix_enrollment_wait_event", "contact_id", "wait_event"),
)

#: Every node passage: for audit and per-node analytics.
journey_step = Table(
    "journey_step",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, nullable=False),
    Column("journey_id", BigID, nullable=False),
    Column("version_id", BigID, nullable=False),
    Column("enrollment_id", BigID, ForeignKey("enrollment.id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", BigID, nullable=False),
    Column("node", String(64), nullable=False),
    Column("outcome", String(64), nullable=False),  # the branch taken, "waiting", "ended" …
    Column("detail", JSONDoc),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_journey_step_journey_node", "journey_id", "node"),
    Index("ix_journey_step_enrollment", "enrollment_id"),
)

#: The last value of the attribute an ``attribute_changed`` journey watches, per contact:
#: the trigger compares each changed contact's value with it. Filled for every contact when
#: the journey goes live, so the first change after that counts.
journey_watch = Table(
    "journey_watch",
    metadata,
    Column("journey_id", BigID, ForeignKey("journey.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("value", Text),
)

#: The experiment of a split node with an automatic winner, per journey version and node:
#: when its test began (the first enrollment), and once decided the winning branch, the
#: confidence of the test and the per-branch results it was decided on.
journey_split = Table(
    "journey_split",
    metadata,
    Column("version_id", BigID, ForeignKey("journey_version.id", ondelete="CASCADE"), nullable=False),
    Column("node", String(64), nullable=False),
    Column("journey_id", BigID, ForeignKey("journey.id", ondelete="CASCADE"), nullable=False),
    Column("workspace_id", BigID, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime),
    Column("winner", String(64)),
    Column("confidence", Float),
    Column("results", JSONDoc),
    PrimaryKeyConstraint("version_id", "node"),
    Index("ix_journey_split_journey", "journey_id"),
)
