from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table

from kairos.db.metadata import metadata
from kairos.db.types import BigID, JSONDoc, UTCDateTime

#: People who sign in to the console. ``email`` is stored lower-cased; the password only as
#: an argon2id hash (``accounts/passwords.py``).
app_user = Table(
    "app_user",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
)

#: A user's role in one workspace: admin, marketer or analyst; ``approver`` lets them
#: approve campaigns (a permission of its own, whatever the role).
membership = Table(
    "membership",
    metadata,
    Column("user_id", BigID, ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("approver", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_membership_workspace", "workspace_id"),
)

#: Server-side sessions: the cookie carries a random token, only its SHA-256 is stored.
user_session = Table(
    "user_session",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie's token
    Column("user_id", BigID, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),  # absolute expiry
    Column("ip", String(64)),
    Column("user_agent", String(500)),
    Index("ix_user_session_user", "user_id"),
)

#: Failed sign-ins, per account and per client address, for throttling; purged as they expire.
login_failure = Table(
    "login_failure",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("key", String(400), nullable=False),  # "email:…" or "ip:…"
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_login_failure_key", "key", "created_at"),
)

#: One-time tokens that let the first admin be created from the browser (SHA-256 only).
setup_token = Table(
    "setup_token",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
)

#: Every change made through the API or the console: who (a user or an API key), what, to
#: which object, the fields that changed (before → after), from where. Append-only.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE")),
    Column("actor_type", String(10), nullable=False),  # "user" | "key" | "system"
    Column("actor_id", BigID),
    Column("actor_label", String(400), nullable=False),
    Column("action", String(200), nullable=False),  # "PATCH /segments/{segment_id}"
    Column("object_type", String(60)),
    Column("object_id", String(100)),
    Column("status_code", BigID, nullable=False),
    Column("changes", JSONDoc),  # {"field": [before, after]}; a create has only "after" values
    Column("ip", String(64)),
    Column("user_agent", String(500)),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_audit_log_workspace", "workspace_id", "id"),
)

#: In-app notifications, one per user and workspace (``accounts/notifications.py``): a
#: ``kind`` and its ``params`` (the console words them in the reader's language), the page
#: it leads to, and when it was read. Written in the transaction of what it tells about.
notification = Table(
    "notification",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigID, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(40), nullable=False),  # approval_requested, campaign_approved, …
    Column("params", JSONDoc, nullable=False),  # {campaign_id, campaign, actor, comment}
    Column("link", String(400), nullable=False),  # a console path: "/campaigns/12"
    Column("created_at", UTCDateTime, nullable=False),
    Column("read_at", UTCDateTime),
    Index("ix_notification_user", "user_id", "workspace_id", "id"),
)

__all__ = [
    "app_user", "audit_log", "login_failure", "membership", "notification", "setup_token", "user_session",
]  # fmt: skip
