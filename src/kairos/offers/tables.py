"""Offer tables: the offer library, coupon pools, and assignments (docs/offers.md).

An **offer** is what a contact may be given ("10% off shoes", free shipping, a gift). An
**assignment** is one giving of an offer to one contact: one row, carrying the code the
contact received when the offer has codes. A **coupon** is one code of an offer's pool,
free until an assignment claims it; codes are the unit of redemption, since that is what a
shop sees on an order.
"""

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from kairos.db.metadata import metadata
from kairos.db.types import BigID, JSONDoc, UTCDateTime

offer = Table(
    "offer",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(100), nullable=False),  # slug journeys and templates refer to; immutable
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("kind", String(20), nullable=False),  # discount_percent|discount_amount|free_shipping|gift|points
    Column("value", Float),
    Column("currency", String(3)),
    Column("eligibility", JSONDoc),  # a segment definition's root condition; None: everyone
    Column("priority", Integer, nullable=False, default=0),  # higher wins
    Column("starts_at", UTCDateTime),  # None: from creation
    Column("ends_at", UTCDateTime),  # exclusive; None: open-ended
    Column("per_contact_limit", Integer, nullable=False, default=1),
    Column("total_limit", Integer),  # assignments over all contacts; None: unlimited
    Column("status", String(10), nullable=False),  # active|paused|archived
    Column("coupon_mode", String(10), nullable=False),  # none|pool|static
    Column("static_code", String(64)),  # coupon_mode static: the one shared code, upper-case
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "key"),
)

#: One code of an offer's pool. ``assigned_at`` is set when an assignment claims it (free
#: codes: ``assigned_at`` and ``redeemed_at`` both null); ``redeemed_*`` when an order used it,
#: by whoever placed the order. Codes are stored upper-case and unique per workspace, so a
#: code on an order leads to exactly one coupon whatever case the shopper typed.
coupon = Table(
    "coupon",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("offer_id", BigID, ForeignKey("offer.id", ondelete="CASCADE"), nullable=False),
    Column("code", String(64), nullable=False),
    # A deleted contact leaves its code used, never free again: it was sent out.
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="SET NULL")),
    Column("assigned_at", UTCDateTime),
    Column("redeemed_at", UTCDateTime),
    Column("redeemed_by", BigID, ForeignKey("contact.id", ondelete="SET NULL")),
    Column("redemption_event_id", BigID),  # no foreign key: events may be purged
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "code"),
    # the next free code of an offer; also the pool counts
    Index("ix_coupon_offer_assigned", "offer_id", "assigned_at"),
)

#: One giving of an offer to a contact: the ``nth`` time this contact got this offer
#: (1 … ``per_contact_limit``; a next one only after the previous was redeemed). The unique
#: constraint is what makes assignment exactly-once under races. ``code`` is the code given:
#: the claimed coupon's (``coupon_id``), the offer's static code, or None.
offer_assignment = Table(
    "offer_assignment",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("offer_id", BigID, ForeignKey("offer.id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False),
    Column("nth", Integer, nullable=False, default=1),
    Column("coupon_id", BigID, ForeignKey("coupon.id", ondelete="SET NULL"), unique=True),
    Column("code", String(64)),
    # who gave it ("journey:12", "api"): a redemption can then be credited to its source
    Column("source", String(100)),
    Column("assigned_at", UTCDateTime, nullable=False),
    Column("redeemed_at", UTCDateTime),
    Column("redemption_event_id", BigID),
    UniqueConstraint("offer_id", "contact_id", "nth"),
    Index("ix_offer_assignment_contact", "contact_id"),
)
