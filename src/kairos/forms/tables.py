"""Form and landing-page tables (docs/forms.md).

A **form** is a hosted HTML form: fields mapped to profile attributes or traits, consent
checkboxes for subscription topics, an allowlist of return URLs, and its spam protection
(a per-client rate limit, an optional CAPTCHA). A **landing page** is a hosted page rendered
from its own MJML or HTML body or from an email-channel template's, optionally embedding one
form at ``{{ form }}``. A **form rate hit** is one accepted submission of a client, kept while it
counts toward the form's rate limit.
"""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint, text

from kairos.db.metadata import metadata
from kairos.db.types import BigID, JSONDoc, UTCDateTime

form = Table(
    "form",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(100), nullable=False),  # slug in the public URL
    Column("name", String(200), nullable=False),
    Column("fields", JSONDoc, nullable=False),  # [{name, label, type, required, options?}]
    Column("consent", JSONDoc, nullable=False),  # [{topic_id, label, wording_version, required}]
    Column("return_urls", JSONDoc, nullable=False),  # https URLs or prefixes allowed as return_url
    Column("success_message", Text),
    Column("status", String(10), nullable=False),  # active|paused
    # at most rate_limit_max accepted submissions per client in rate_limit_window seconds;
    # both null: no limit. The server defaults give forms created before 0014 the default.
    Column("rate_limit_max", Integer, server_default=text("5")),
    Column("rate_limit_window", Integer, server_default=text("600")),
    Column("captcha_provider", String(20)),  # turnstile|hcaptcha|recaptcha, null: no CAPTCHA
    Column("captcha_site_key", String(200)),
    Column("captcha_secret", Text),  # Fernet-encrypted {"secret": …}, never returned
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "key"),
)

form_rate_hit = Table(
    "form_rate_hit",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("form_id", BigID, ForeignKey("form.id", ondelete="CASCADE"), nullable=False),
    # keyed hash (HMAC) of the workspace and the client's address, never the address itself
    Column("client_hash", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_form_rate_hit_client", "form_id", "client_hash", "created_at"),
    Index("ix_form_rate_hit_created", "created_at"),  # the worker's purge
)

landing_page = Table(
    "landing_page",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("slug", String(100), nullable=False),
    Column("title", String(200), nullable=False),
    # a deleted template leaves the page unpublishable (404) until another is set
    Column("template_id", BigID, ForeignKey("template.id", ondelete="SET NULL")),
    Column("form_id", BigID, ForeignKey("form.id", ondelete="SET NULL")),
    Column("status", String(10), nullable=False),  # active|paused
    # the page's own content (0022), used instead of a template: mjml|html and the source
    Column("body_format", String(10)),
    Column("body", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "slug"),
)
