"""From an outbox row to provider-ready content: the template context, tracking and headers.

Used by the dispatcher for every message and by template previews, so a preview shows
exactly what would be sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from kairos.contacts.tables import contact
from kairos.db.dialect import chunks, in_ids
from kairos.messaging.templates import CompiledTemplate, compile_template
from kairos.messaging.tracking import Links, link_part, url_hash
from kairos.offers.display import template_view as offer_view
from kairos.segments.traits import traits_of

_DIGESTS: dict[str, bytes] = {}


def _digest(url: str) -> bytes:
    """URL hashes, remembered: a broadcast links to the same few URLs in every message."""
    found = _DIGESTS.get(url)
    if found is None:
        if len(_DIGESTS) > 10_000:
            _DIGESTS.clear()
        found = _DIGESTS[url] = url_hash(url)
    return found


CONTACT_FIELDS = (
    "id", "external_id", "email", "phone", "first_name", "last_name", "timezone", "locale",
    "lifecycle_stage", "score", "created_at",
)  # fmt: skip


def load_contacts(conn: Connection, contact_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Contact id → template view of the contact (fields, custom traits, computed traits)."""
    return _views(conn, contact_ids, follow_merges=False)[1]


def load_recipients(
    conn: Connection, contact_ids: Sequence[int]
) -> tuple[dict[int, int], dict[int, dict[str, Any]]]:
    """For a batch of messages' contacts: contact id → the contact that receives its messages
    (a merged contact's go to the one it was merged into), and the views of those receivers.
    One query for the contacts (a second only for merged ones), one for computed traits."""
    return _views(conn, contact_ids, follow_merges=True)


def _views(
    conn: Connection, contact_ids: Sequence[int], *, follow_merges: bool
) -> tuple[dict[int, int], dict[int, dict[str, Any]]]:
    receivers: dict[int, int] = {}
    out: dict[int, dict[str, Any]] = {}
    cols = [contact.c[f] for f in CONTACT_FIELDS]
    todo = set(contact_ids)
    for round_ in range(2):  # as before: one step along merged_into, never a chain
        follow = follow_merges and round_ == 0
        merged: dict[int, int] = {}
        for part in chunks(todo):
            q = select(*cols, contact.c.traits, contact.c.merged_into)
            for row in conn.execute(q.where(in_ids(contact.c.id, part, conn.dialect.name))).mappings():
                cid = row["id"]
                if follow and row["merged_into"] is not None:
                    merged[cid] = row["merged_into"]
                    continue
                receivers.setdefault(cid, cid)
                traits = row["traits"] or {}
                view = {**traits, **{f: row[f] for f in CONTACT_FIELDS}, "traits": traits}
                if isinstance(view.get("created_at"), datetime):
                    view["created_at"] = view["created_at"].isoformat()
                out[cid] = view
        receivers.update(merged)
        todo = set(merged.values()) - set(out)
        if not todo:
            break
    computed = traits_of(conn, list(out))
    for cid, view in out.items():
        view["_computed"] = computed.get(cid, {})
    return receivers, out


def context(
    contact_view: dict[str, Any], data: dict[str, Any] | None, message_id: int, links: dict[str, str]
) -> dict[str, Any]:
    data = data or {}
    view = {k: v for k, v in contact_view.items() if k != "_computed"}
    return {
        "contact": view,
        "computed": contact_view.get("_computed", {}),
        "event": data.get("event") or {},
        "payload": data.get("payload") or {},
        "offer": offer_view(data.get("offer"), view.get("locale")),
        "message": {"id": message_id},
        "links": links,
    }


@dataclass(slots=True)
class TemplateCache:
    """Compiled templates by (id, version); inline content by its JSON."""

    compiled: dict[tuple[int, int], CompiledTemplate] = field(default_factory=dict)

    def get(self, template_id: int, version: int, channel: str, fields: dict[str, Any]) -> CompiledTemplate:
        key = (template_id, version)
        found = self.compiled.get(key)
        if found is None:
            if len(self.compiled) > 500:
                self.compiled.clear()
            found = self.compiled[key] = compile_template(channel, fields)
        return found


@dataclass(slots=True)
class Tracking:
    opens: bool = True
    clicks: bool = True


def render_content(
    compiled: CompiledTemplate,
    channel: str,
    ctx: dict[str, Any],
    *,
    message_id: int,
    links: Links,
    tracking: Tracking,
    seen_links: dict[bytes, str],
    marketing: bool,
    now: datetime,
    strict: bool = False,
) -> dict[str, Any]:
    """Render one message. Tracked URLs are collected into ``seen_links`` (hash → URL), to be
    stored before the message is sent."""
    rewriter = None
    if channel == "email" and tracking.clicks:
        prefix = links.click_prefix(message_id)

        def rewriter(url: str) -> str:
            digest = _digest(url)
            seen_links[digest] = url
            return prefix + link_part(digest)

    pixel = links.open_url(message_id) if channel == "email" and tracking.opens else None
    rendered = compiled.render(ctx, link_rewriter=rewriter, open_pixel_url=pixel, strict=strict)
    content = dict(rendered.content)
    if channel == "email":
        headers: dict[str, str] = {}
        unsubscribe = ctx["links"].get("unsubscribe_url")
        if marketing and unsubscribe:  # internal messages have no unsubscribe link
            token = unsubscribe.rsplit("/", 1)[-1]
            mailto = ctx["links"].get("unsubscribe_mailto")
            value = f"<{unsubscribe}>"
            if mailto:
                value += f", <mailto:{mailto}?subject=unsubscribe%20{token}>"
            headers["List-Unsubscribe"] = value
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        content["headers"] = headers
        content["date"] = now
    return content
