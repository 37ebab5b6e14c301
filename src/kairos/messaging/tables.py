"""Messaging tables: channel configurations, templates, consent, suppression, the outbox,
message events, tracked links and the in-app inbox."""

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

_WS = ("workspace.id",)

#: A configured provider connection. ``secrets`` is encrypted (``kairos.crypto``) and never
#: returned by the API. A paused channel (provider outage) holds its messages until
#: ``paused_until`` instead of spending their retries.
channel_config = Table(
    "channel_config",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey(*_WS, ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("kind", String(10), nullable=False),  # email|sms|push|wechat|webhook|inapp
    Column("provider", String(20), nullable=False),
    Column("settings", JSONDoc, nullable=False),
    Column("secrets", Text),  # Fernet token of the JSON secrets
    Column("is_default", Boolean, nullable=False, default=False),
    Column("rate_limit", Float),  # messages per second, None = unlimited
    Column("paused_until", UTCDateTime),
    Column("pause_reason", Text),
    Column("failures", Integer, nullable=False, default=0),  # consecutive outages
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

template = Table(
    "template",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey(*_WS, ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("fields", JSONDoc, nullable=False),  # channel-shaped: subject/body/format/text, text, ...
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

#: What a contact can subscribe to. ``opt_in`` topics need an explicit "subscribed"
#: (optionally confirmed by email: ``double_opt_in``); the others reach everyone who has not
#: unsubscribed.
subscription_topic = Table(
    "subscription_topic",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey(*_WS, ondelete="CASCADE"), nullable=False),
    Column("key", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("channel", String(10)),  # None: any channel
    Column("opt_in", Boolean, nullable=False, default=False),
    Column("double_opt_in", Boolean, nullable=False, default=False),
    Column("confirmation_template_id", BigID, ForeignKey("template.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "key"),
)

#: A contact's current consent per scope: ``topic:<id>`` or ``channel:<kind>`` (all marketing
#: on that channel). The history lives in ``consent_event``.
subscription = Table(
    "subscription",
    metadata,
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("scope", String(40), primary_key=True),
    Column("workspace_id", BigID, nullable=False),
    Column("status", String(12), nullable=False),  # subscribed|unsubscribed|pending
    Column("updated_at", UTCDateTime, nullable=False),
)

#: The consent ledger: every change, with where it came from, the wording shown and the IP.
consent_event = Table(
    "consent_event",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey(*_WS, ondelete="CASCADE"), nullable=False),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False),
    Column("scope", String(40), nullable=False),
    Column("status", String(12), nullable=False),
    Column("source", String(40), nullable=False),
    Column("wording_version", String(100)),
    Column("ip", String(45)),
    Column("user_agent", Text),
    Column("message_id", BigID),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_consent_event_contact", "contact_id", "created_at"),
)

#: Addresses nothing may be sent to on a channel: hard bounces, complaints, manual, erasure.
suppression = Table(
    "suppression",
    metadata,
    Column("workspace_id", BigID, ForeignKey(*_WS, ondelete="CASCADE"), primary_key=True),
    Column("channel", String(10), primary_key=True),
    Column("address", String(320), primary_key=True),
    Column("reason", String(20), nullable=False),  # hard_bounce|complaint|manual|erasure
    Column("detail", Text),
    Column("contact_id", BigID),
    Column("created_at", UTCDateTime, nullable=False),
)

#: The outbox. One row per message, unique per idempotency key, so the same journey step or
#: broadcast can never create two. See ``outbox.py`` for the status lifecycle.
message = Table(
    "message",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey(*_WS, ondelete="CASCADE"), nullable=False),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("channel_config_id", BigID, ForeignKey("channel_config.id", ondelete="SET NULL")),
    Column("template_id", BigID, ForeignKey("template.id", ondelete="SET NULL")),
    Column("topic_id", BigID, ForeignKey("subscription_topic.id", ondelete="SET NULL")),
    Column("transactional", Boolean, nullable=False, default=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("source", String(20), nullable=False),  # api|journey|broadcast|test|double_opt_in|notify_sales
    Column("source_id", String(100)),
    Column("variant", String(64)),  # a broadcast experiment's variant
    Column("data", JSONDoc),  # template variables: payload, event; inline content; address
    Column("status", String(10), nullable=False),
    Column("reason", String(40)),  # why skipped / deferred / failed
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("provider_id", String(255)),
    Column("address", String(2048)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "idempotency_key"),
    Index("ix_message_due", "status", "next_attempt_at"),
    Index("ix_message_contact_sent", "contact_id", "sent_at"),
    Index("ix_message_provider", "provider_id"),
    # reports: a campaign's messages counted by channel, status (and variant) from the index
    # alone, in its order (no sort)
    Index(
        "ix_message_source", "workspace_id", "source", "source_id", "channel", "status", "variant", "sent_at"
    ),
)

#: What happened to a message after it left: delivered, opened, clicked, bounced,
#: complained, unsubscribed, failed. Also recorded as events on the contact.
message_event = Table(
    "message_event",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey(*_WS, ondelete="CASCADE"), nullable=False),
    Column("message_id", BigID, ForeignKey("message.id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", BigID, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("link_id", BigID),
    Column("machine", Boolean, nullable=False, default=False),  # privacy-proxy opens, scanners
    Column("detail", JSONDoc),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_message_event_message", "message_id", "kind"),
    Index("ix_message_event_workspace_kind", "workspace_id", "kind", "created_at"),
)

#: Every URL a rendered message links to. Click tokens name a link by the hash of its URL,
#: so the redirect target always comes from here, never from the request.
tracked_link = Table(
    "tracked_link",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey(*_WS, ondelete="CASCADE"), nullable=False),
    Column("url_hash", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "url_hash"),
)

inbox_message = Table(
    "inbox_message",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey(*_WS, ondelete="CASCADE"), nullable=False),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False),
    Column("message_id", BigID, ForeignKey("message.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("title", Text),
    Column("body", Text),
    Column("data", JSONDoc),
    Column("created_at", UTCDateTime, nullable=False),
    Column("read_at", UTCDateTime),
    Column("dismissed_at", UTCDateTime),
    Index("ix_inbox_message_contact", "contact_id", "id"),
)
