"""Landing pages: hosted pages rendered from an email template's MJML/HTML body, optionally
embedding a form, and the ``page`` events of their known visitors (docs/forms.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from kairos.contacts.service import find_contact_id
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.forms.service import MAX_URL, STATUSES, check_slug, clean_anonymous_id, get_form
from kairos.forms.tables import landing_page
from kairos.messaging.service import get_template
from kairos.messaging.tables import template
from kairos.messaging.templates import compile_template

PAGE_FIELDS = ("title", "template_id", "form_id", "status", "body_format", "body")
BODY_FORMATS = ("mjml", "html")


def _check_page(conn: Connection, workspace_id: int, values: dict[str, Any]) -> dict[str, Any]:
    title = values.get("title")
    if not isinstance(title, str) or not title.strip():
        raise InvalidInput("title: required", code="invalid_title")
    if values.get("status") not in STATUSES:
        raise InvalidInput(f"status: use one of {', '.join(STATUSES)}", code="invalid_status")
    template_id, body = values.get("template_id"), values.get("body")
    body_format = values.get("body_format")
    if body is not None:
        if template_id is not None:
            raise InvalidInput(
                "body: a page has its own body or a template_id, not both", code="invalid_body"
            )
        body_format = body_format or "mjml"
        if body_format not in BODY_FORMATS:
            raise InvalidInput(f"body_format: use one of {', '.join(BODY_FORMATS)}", code="invalid_body")
        page_fields(title, body_format, body)  # 422 naming `body` when it does not compile
    else:
        body_format = None
        channel = conn.execute(
            select(template.c.channel).where(
                template.c.workspace_id == workspace_id, template.c.id == template_id
            )
        ).scalar()
        if channel != "email":
            raise InvalidInput(f"template_id: no email template {template_id}", code="invalid_template")
    form_id = values.get("form_id")
    if form_id is not None:
        try:
            get_form(conn, workspace_id, form_id)
        except NotFound:
            raise InvalidInput(f"form_id: no form {form_id}", code="invalid_form") from None
    return {
        "title": title, "template_id": template_id, "form_id": form_id, "status": values["status"],
        "body_format": body_format, "body": body,
    }  # fmt: skip


def page_fields(title: str, body_format: str, body: str) -> dict[str, Any]:
    """A page's own body as the email template fields it is rendered with; checked (a 422
    ``template_invalid`` naming ``body``, or ``invalid_body`` when empty)."""
    if not isinstance(body, str) or not body.strip():
        raise InvalidInput("body: the page needs content", code="invalid_body")
    fields = {"subject": title, "format": body_format, "body": body}
    compile_template("email", fields)
    return fields


def content_fields(conn: Connection, workspace_id: int, page: dict[str, Any]) -> dict[str, Any] | None:
    """The email template fields a page renders: its own body, else its template's; None
    when it has neither (its template was deleted)."""
    if page.get("body") is not None:
        return {"subject": page["title"], "format": page["body_format"] or "mjml", "body": page["body"]}
    if page["template_id"] is None:
        return None
    return dict(get_template(conn, workspace_id, page["template_id"])["fields"])


def create_landing_page(
    conn: Connection, workspace_id: int, now: datetime, *, slug: str, **fields: Any
) -> dict[str, Any]:
    values = _check_page(conn, workspace_id, {"status": "active", **fields})
    row = {
        **values,
        "workspace_id": workspace_id,
        "slug": check_slug(slug, "slug"),
        "created_at": now,
        "updated_at": now,
    }
    try:
        with conn.begin_nested():
            new_id = conn.execute(insert(landing_page).values(row).returning(landing_page.c.id)).scalar_one()
    except IntegrityError:
        raise Conflict(
            f"slug: a landing page with slug {slug!r} exists", code="landing_page_exists"
        ) from None
    return get_landing_page(conn, workspace_id, new_id)


def update_landing_page(
    conn: Connection, workspace_id: int, page_id: int, now: datetime, changes: dict[str, Any]
) -> dict[str, Any]:
    unknown = set(changes) - set(PAGE_FIELDS)
    if unknown:
        raise InvalidInput(f"{sorted(unknown)[0]}: cannot be changed", code="invalid_field")
    current = get_landing_page(conn, workspace_id, page_id)
    values = _check_page(conn, workspace_id, {f: current[f] for f in PAGE_FIELDS} | changes)
    conn.execute(
        update(landing_page).where(landing_page.c.id == page_id).values({**values, "updated_at": now})
    )
    return get_landing_page(conn, workspace_id, page_id)


def get_landing_page(conn: Connection, workspace_id: int, page_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(landing_page).where(landing_page.c.workspace_id == workspace_id, landing_page.c.id == page_id)
    ).first()
    if row is None:
        raise NotFound(f"no landing page {page_id}", code="landing_page_not_found")
    return dict(row._mapping)


def landing_page_by_slug(conn: Connection, workspace_id: int, slug: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(landing_page).where(
            landing_page.c.workspace_id == workspace_id,
            landing_page.c.slug == slug,
            landing_page.c.status == "active",
        )
    ).first()
    return None if row is None else dict(row._mapping)


def list_landing_pages(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(landing_page).where(landing_page.c.workspace_id == workspace_id).order_by(landing_page.c.id)
    )
    return [dict(r._mapping) for r in rows]


def record_page_view(
    conn: Connection,
    workspace_id: int,
    page: dict[str, Any],
    url: str,
    anonymous_id: str | None,
    now: datetime,
    referrer: str | None = None,
) -> bool:
    """A ``page`` event for a landing-page view, only when the visitor's anonymous id is
    already known in the workspace (a GET never creates contacts, e.g. for crawlers); with
    the ``referrer`` (the request's ``Referer``) for the acquisition source."""
    anon = clean_anonymous_id(anonymous_id)
    if anon is None or find_contact_id(conn, workspace_id, "anonymous_id", anon) is None:
        return False
    props = {"title": page["title"], "url": url, "landing_page_id": page["id"], "slug": page["slug"]}
    if referrer:
        props["referrer"] = referrer[:MAX_URL]
    message = parse_message(
        {"type": "page", "anonymousId": anon, "name": page["title"], "properties": props,
         "context": {"library": {"name": "kairos-landing-pages"}}},
        None, now,
    )  # fmt: skip
    ingest(conn, workspace_id, [message], now)
    return True


def preview_parts(
    conn: Connection, workspace_id: int, values: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """What an unsaved page renders: its content fields (its own body, else the template's)
    and its form (None without one), each checked with a 422 naming the field."""
    title = values.get("title") or ""
    if values.get("body") is not None:
        fields = page_fields(title, values.get("body_format") or "mjml", values["body"])
    else:
        checked = _check_page(conn, workspace_id, {**values, "status": "active", "form_id": None})
        fields = dict(get_template(conn, workspace_id, checked["template_id"])["fields"])
    form_id = values.get("form_id")
    if form_id is None:
        return fields, None
    try:
        return fields, get_form(conn, workspace_id, form_id)
    except NotFound:
        raise InvalidInput(f"form_id: no form {form_id}", code="invalid_form") from None
