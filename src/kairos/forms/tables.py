"""Form and landing-page tables (docs/forms.md).

A **form** is a hosted HTML form: fields mapped to profile attributes or traits, consent
checkboxes for subscription topics, and an allowlist of return URLs. A **landing page** is
a hosted page rendered from an email-channel template (MJML or HTML), optionally embedding
one form at ``{{ form }}``.
"""

from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint

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
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "key"),
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
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "slug"),
)
