"""Campaign plans and broadcasts."""

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

_WS = "workspace.id"

#: A plan: what it wants (goal), for whom (audience), with what (offer, templates, channels),
#: at what cost (budget, cost per message per channel), who owns it, when, and its status.
campaign = Table(
    "campaign",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey(_WS, ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("goal", JSONDoc),  # {event, where, window_days}: what counts as a conversion
    Column("budget", Float),
    Column("currency", String(3)),
    Column("costs", JSONDoc),  # {channel: cost per message}
    Column("segment_id", BigID, ForeignKey("segment.id", ondelete="SET NULL")),
    Column("offer_id", BigID),
    Column("template_ids", JSONDoc),  # materials
    Column("channels", JSONDoc),
    Column("owner", String(200)),
    Column("starts_at", UTCDateTime),
    Column("ends_at", UTCDateTime),
    # draft → (pending_approval → approved) → active → completed | cancelled
    Column("status", String(20), nullable=False),
    Column("requires_approval", Boolean, nullable=False, default=False),
    Column("requested_by", BigID),  # the API key that asked for approval …
    Column("requested_by_user", BigID),  # … or the console user
    Column("approved_by", BigID),  # a different API key …
    Column("approved_by_user", BigID),  # … or a different user with the approver permission
    Column("approved_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

#: A one-off or scheduled send to a segment: at an instant (``send_at``), or at a local time
#: in each contact's own time zone (``local_date`` + ``local_time``).
broadcast = Table(
    "broadcast",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey(_WS, ondelete="CASCADE"), nullable=False),
    Column("campaign_id", BigID, ForeignKey("campaign.id", ondelete="SET NULL")),
    Column("name", String(200), nullable=False),
    Column("segment_id", BigID, ForeignKey("segment.id", ondelete="SET NULL")),
    Column("channel", String(10), nullable=False),
    Column("template_id", BigID, ForeignKey("template.id", ondelete="SET NULL")),
    Column("topic_id", BigID),
    Column("send_at", UTCDateTime),
    Column("local_date", String(10)),  # YYYY-MM-DD
    Column("local_time", String(5)),  # HH:MM
    Column("starts_at", UTCDateTime),  # when the snapshot is taken (the earliest send)
    # draft → scheduled → sending → queued; paused, cancelled
    Column("status", String(10), nullable=False),
    Column("audience", Integer),  # recipients in the snapshot
    Column("queued", Integer, nullable=False, default=0),
    Column("snapshot_at", UTCDateTime),
    Column("experiment", JSONDoc),  # variants, holdout, test group, metric, window (experiments.py)
    Column("test_ends_at", UTCDateTime),  # when the test phase is judged
    Column("winner", String(64)),
    Column("results", JSONDoc),  # per variant, the winner's confidence, the lift over the holdout
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_broadcast_due", "status", "starts_at"),
)

#: The audience as it was when the broadcast started, and each recipient's message: a
#: broadcast that stops (crash, pause) resumes with the recipients that have none yet.
broadcast_recipient = Table(
    "broadcast_recipient",
    metadata,
    Column("broadcast_id", BigID, ForeignKey("broadcast.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("message_id", BigID),
    Column("variant", String(64)),  # experiments: a variant, "holdout", or None (waits for the winner)
    Index("ix_broadcast_recipient_pending", "broadcast_id", "message_id"),
    Index("ix_broadcast_recipient_variant", "broadcast_id", "variant"),  # reports by variant, holdout
)

#: A campaign's thread: comments, and the approval steps with the comment that came with them
#: (``approval_requested``, ``approved``, ``rejected``). Plain text, never HTML.
campaign_comment = Table(
    "campaign_comment",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey(_WS, ondelete="CASCADE"), nullable=False),
    Column("campaign_id", BigID, ForeignKey("campaign.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),  # comment | approval_requested | approved | rejected
    Column("body", Text),  # the comment (optional on an approval step)
    Column("author_type", String(10), nullable=False),  # "user" | "key"
    Column("author_id", BigID),  # the user's or the API key's id
    Column("author_name", String(400), nullable=False),  # as it was when written
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_campaign_comment_campaign", "campaign_id", "id"),
)
