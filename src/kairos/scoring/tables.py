"""Score models, their rules, the ledger of every change and the current scores."""

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

#: A named score per contact ("engagement", "fit"), with its decay, bounds and the state
#: of its full recompute (``recompute_*``: readable progress while the worker runs it).
score_model = Table(
    "score_model",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("decay", JSONDoc, nullable=False),  # {"type": "none" | "half_life" | "points", …}
    Column("min_score", Float),
    Column("max_score", Float),
    # the model the contact's legacy ``score`` field mirrors (one per workspace at most)
    Column("is_default", Boolean, nullable=False, default=False),
    Column("recompute_status", String(10), nullable=False, default="pending"),  # idle | pending | running
    Column("recompute_cursor", BigID, nullable=False, default=0),
    Column("recompute_done", Integer, nullable=False, default=0),
    Column("recompute_total", Integer, nullable=False, default=0),
    Column("recompute_started_at", UTCDateTime),
    Column("recompute_finished_at", UTCDateTime),
    # half-life decay is applied in whole days from here
    Column("decayed_at", UTCDateTime),
    # condition rules that look at time are re-checked from here
    Column("conditions_checked_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "key"),
)

#: One rule of a model: an event match (``kind`` event) or a segment-format condition
#: (``kind`` condition), worth ``points`` (negative allowed), events optionally capped.
score_rule = Table(
    "score_rule",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("model_id", BigID, ForeignKey("score_model.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(10), nullable=False),  # event | condition
    Column("definition", JSONDoc, nullable=False),  # {"event", "where"} or {"condition"}
    Column("points", Float, nullable=False),
    Column("cap_points", Float),
    Column("cap_per", String(5)),  # day | week | month | ever
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_score_rule_model", "model_id"),
)

#: The current score of a contact for a model; no row reads as 0.
contact_score = Table(
    "contact_score",
    metadata,
    Column("model_id", BigID, ForeignKey("score_model.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", BigID, nullable=False),
    Column("score", Float, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    # the last award from an event rule (points decay counts inactivity from it)
    Column("active_at", UTCDateTime),
    # points decay: the next step is due then
    Column("decay_due_at", UTCDateTime),
    # events up to this id were counted by a recompute (incremental scoring skips them)
    Column("covered_event_id", BigID, nullable=False, default=0),
    Index("ix_contact_score_model_score", "model_id", "score"),
    Index("ix_contact_score_contact", "contact_id"),
)

#: Contacts a condition rule currently awards (awarded on entry, removed on exit).
score_condition_hold = Table(
    "score_condition_hold",
    metadata,
    Column("rule_id", BigID, ForeignKey("score_rule.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("model_id", BigID, nullable=False),
    Column("points", Float, nullable=False),  # what entry awarded: exit takes exactly this back
    Column("since", UTCDateTime, nullable=False),
    Index("ix_score_condition_hold_contact", "contact_id"),
)

#: Every change of a score with its reason: ``kind`` event | entered | exited | decay |
#: recompute; ``delta`` is the change actually applied (after caps and bounds), so a
#: contact's score is the sum of its ledger.
score_ledger = Table(
    "score_ledger",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("model_id", BigID, ForeignKey("score_model.id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False),
    Column("rule_id", BigID, ForeignKey("score_rule.id", ondelete="SET NULL")),
    Column("kind", String(10), nullable=False),
    Column("delta", Float, nullable=False),
    Column("score", Float, nullable=False),  # after the change
    Column("reason", Text, nullable=False),
    Column("params", JSONDoc, nullable=False),
    Column("event_id", BigID),
    Column("occurred_at", UTCDateTime),  # the event's timestamp (caps count by its period)
    Column("at", UTCDateTime, nullable=False),
    Index("ix_score_ledger_contact", "contact_id", "model_id", "id"),
    Index("ix_score_ledger_model_at", "model_id", "at"),
    Index("ix_score_ledger_rule_event", "rule_id", "event_id"),
)
