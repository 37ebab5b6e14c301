"""B2B accounts, their members, and the account scores rolled up from the members' scores.

``kairos.accounts`` is the console's user accounts; the companies contacts belong to live
here (``b2b``), and the API calls them accounts (``/api/v1/accounts``), as Salesforce and
ABM tools do (docs/leads.md, "Accounts (B2B)")."""

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from kairos.db.metadata import metadata
from kairos.db.types import BigID, JSONDoc, UTCDateTime

#: A company. ``external_id`` is its id in the sending system (Segment's ``groupId``);
#: ``traits`` what ``group`` calls, the API or an import said about it (industry, employees,
#: plan …); ``owner_user_id`` the console user who owns it (assignment "by account owner").
#: ``member_count`` and ``rollup_*`` belong to the score roll-up (``b2b/rollup.py``): a
#: stale account is rolled up again by the worker.
account = Table(
    "account",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("external_id", String(255)),
    Column("name", String(200)),
    Column("domain", String(253)),
    Column("traits", JSONDoc, nullable=False),
    Column("owner_user_id", BigID, ForeignKey("app_user.id", ondelete="SET NULL")),
    Column("member_count", Integer, nullable=False, default=0),
    Column("rollup_stale", Boolean, nullable=False, default=True),
    Column("rolled_up_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "external_id"),
    Index("ix_account_workspace_domain", "workspace_id", "domain"),
    Index("ix_account_workspace_name", "workspace_id", "name"),
    Index("ix_account_stale", "rollup_stale"),
)

#: A contact's membership of an account (a contact may belong to several, as Segment allows
#: a user in several groups), with an optional role or title there, and where it came from
#: (``group`` call, ``api``, ``import``).
account_contact = Table(
    "account_contact",
    metadata,
    Column("account_id", BigID, ForeignKey("account.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", BigID, nullable=False),
    Column("role", String(100)),
    Column("source", String(10), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_account_contact_contact", "contact_id"),
)

#: The roll-up of the members' scores per score model: their sum, the highest, and how
#: many are engaged (score ≥ the model's ``account_score_setting.engaged_threshold``).
account_score = Table(
    "account_score",
    metadata,
    Column("account_id", BigID, ForeignKey("account.id", ondelete="CASCADE"), primary_key=True),
    Column("model_id", BigID, ForeignKey("score_model.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", BigID, nullable=False),
    Column("total", Float, nullable=False),
    Column("max_score", Float, nullable=False),
    Column("engaged", Integer, nullable=False),
    Column("refreshed_at", UTCDateTime, nullable=False),
    Index("ix_account_score_model_total", "model_id", "total"),
)

#: Per score model: the score from which a member counts as engaged (default
#: ``rollup.DEFAULT_ENGAGED``).
account_score_setting = Table(
    "account_score_setting",
    metadata,
    Column("model_id", BigID, ForeignKey("score_model.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", BigID, nullable=False),
    Column("engaged_threshold", Float, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
