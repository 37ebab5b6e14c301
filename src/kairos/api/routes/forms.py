"""/api/v1/forms and /api/v1/landing-pages — thin: parse, call ``kairos.forms``, shape the
answer (docs/forms.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from kairos.api.deps import IdempotencyKey, PageDep, StateDep, WorkspaceDep, encode_cursor, int_cursor
from kairos.api.schemas import Page
from kairos.api.transactions import idempotent_create
from kairos.db.engine import reading
from kairos.forms import pages, render, service

router = APIRouter(tags=["forms"])

Status = Literal["active", "paused"]


class FormField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="email, phone, first_name, last_name or a custom trait name")
    label: str | None = Field(None, max_length=500)
    type: Literal["text", "email", "tel", "number", "date", "checkbox", "select", "hidden"] = Field(
        "text",
        description="`number` is stored as a number, `date` as YYYY-MM-DD; `hidden` is not shown: "
        "it takes the form link's query parameter of its name (`?utm_source=…`), else `value`",
    )
    required: bool = Field(False, description="Not for hidden fields")
    options: list[str] | None = Field(None, description="The choices of a select")
    value: str | None = Field(None, max_length=1000, description="A hidden field's default value")


class ConsentItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic_id: int
    label: str = Field(min_length=1, max_length=2000, description="The wording shown next to the box")
    wording_version: str = Field("1", min_length=1, max_length=64)
    required: bool = False


class RateLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max: int = Field(description="Accepted submissions per client (IP address) and form, 1 to 1000")
    window_seconds: int = Field(description="Within this many seconds, 1 to 86400")


class CaptchaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field(description="turnstile, hcaptcha or recaptcha")
    site_key: str = Field(max_length=200, description="The provider's public site key")
    secret: str | None = Field(
        None,
        max_length=500,
        description="The provider's secret key; stored encrypted, never returned. May be left out "
        "of an update that keeps the provider.",
    )


class CaptchaRead(BaseModel):
    provider: str
    site_key: str


class FormFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[FormField] | None = Field(None, max_length=50)
    consent: list[ConsentItem] | None = Field(None, max_length=20)
    return_urls: list[str] | None = Field(
        None, max_length=50, description="Allowed return URLs: exact https URLs or prefixes"
    )
    success_message: str | None = Field(None, max_length=2000)
    rate_limit: RateLimit | None = Field(
        None, description="Per-client limit of accepted submissions; null: none (default 5 per 600 s)"
    )
    captcha: CaptchaConfig | None = Field(None, description="A CAPTCHA on the form; null: none")


class FormCreate(FormFields):
    key: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    fields: list[FormField] = Field(min_length=1, max_length=50)
    status: Status = "active"


class FormUpdate(FormFields):
    name: str | None = Field(None, min_length=1, max_length=200)
    status: Status | None = None


class FormRead(BaseModel):
    id: int
    key: str
    name: str
    fields: list[dict[str, Any]]
    consent: list[dict[str, Any]]
    return_urls: list[str]
    success_message: str | None
    status: str
    rate_limit: RateLimit | None
    captcha: CaptchaRead | None
    captcha_secret_set: bool = Field(description="Whether a CAPTCHA secret is stored (never returned)")
    url: str = Field(description="Path of the hosted form")
    created_at: datetime
    updated_at: datetime


BodyFormat = Literal["mjml", "html"]


class PageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=200)
    template_id: int | None = Field(
        None, description="An email template whose body (MJML or HTML) is the page; or give `body`"
    )
    body_format: BodyFormat | None = Field(None, description="Of `body`: mjml (the default) or html")
    body: str | None = Field(
        None,
        description="The page's own MJML or HTML (Liquid: {{ page.title }}, {{ form }}); or give "
        "`template_id`",
    )
    form_id: int | None = Field(None, description="Embedded where the body says {{ form }}")
    status: Status = "active"


class PageUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=200)
    template_id: int | None = Field(None, description="Set `body` to null when switching to a template")
    body_format: BodyFormat | None = None
    body: str | None = Field(None, description="Set `template_id` to null when switching to a body")
    form_id: int | None = None
    status: Status | None = None


class PageRead(BaseModel):
    id: int
    slug: str
    title: str
    template_id: int | None
    body_format: str | None
    body: str | None
    form_id: int | None
    status: str
    url: str = Field(description="Path of the hosted page")
    created_at: datetime
    updated_at: datetime


class FormPreview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str | None = Field(None, max_length=100, description="The form's key, for the form's action")
    name: str = Field(min_length=1, max_length=200)
    fields: list[FormField] = Field(min_length=1, max_length=50)
    consent: list[ConsentItem] = Field(default_factory=list, max_length=20)
    success_message: str | None = Field(None, max_length=2000)


class PagePreview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field("preview", max_length=100)
    title: str = Field(min_length=1, max_length=200)
    template_id: int | None = None
    body_format: BodyFormat | None = None
    body: str | None = None
    form_id: int | None = None


class PreviewHtml(BaseModel):
    html: str = Field(description="A whole HTML document; show it in a sandboxed frame")


class SubmissionRead(BaseModel):
    id: int = Field(description="The `form_submitted` event")
    contact_id: int
    submitted_at: datetime
    values: dict[str, Any] = Field(description="The submitted fields, by name (empty ones left out)")
    consents: list[int] = Field(description="Topics whose consent box was ticked")


def _form_out(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "captcha_secret"}  # encrypted, yet never shown
    return {
        **out,
        "captcha_secret_set": row["captcha_secret"] is not None,
        "url": f"/f/{row['workspace_id']}/{row['key']}",
    }


def _page_out(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "url": f"/lp/{row['workspace_id']}/{row['slug']}"}


@router.get("/forms", response_model=Page[FormRead])
def read_forms(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {"data": [_form_out(r) for r in service.list_forms(conn, ws.id)], "next": None}


@router.post("/forms", response_model=FormRead, status_code=201)
def create_form(
    body: FormCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """422 for an invalid field name or type, an unknown topic, a return URL that is not an
    absolute https URL, a bad rate limit or CAPTCHA; 409 `form_exists` for a taken key."""
    values = body.model_dump(exclude_none=True)
    if "rate_limit" in body.model_fields_set and body.rate_limit is None:
        values["rate_limit"] = None  # null: no limit (left out: the default)

    def create(conn: Any) -> tuple[int, Any]:
        row = service.create_form(conn, ws.id, state.now(ws), keyring=state.keyring, **values)
        return 201, jsonable_encoder(FormRead.model_validate(_form_out(row)))

    return idempotent_create(state, ws.id, idempotency_key, "POST /forms", values, create)


@router.post("/forms/preview", response_model=PreviewHtml)
def preview_form(body: FormPreview, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The hosted form page an unsaved form would show (no CAPTCHA), checked as on save: 422
    names the field. Stores nothing; only reads (analysts may call it)."""
    with reading(state.engine) as conn:
        draft = service.draft_form(conn, ws.id, body.model_dump(exclude_none=True), state.keyring)
    token = service.render_token(state.keyring, ws.id, 0, state.clock.now())
    html = render.form_html(draft, action=f"/f/{ws.id}/{draft['key']}", token=token, script=False)
    return {"html": render.page(draft["name"], html)[0]}


@router.get("/forms/{form_id}/submissions", response_model=Page[SubmissionRead])
def read_submissions(form_id: int, state: StateDep, ws: WorkspaceDep, page: PageDep) -> dict[str, Any]:
    """Accepted submissions, newest first (spam and refused ones store nothing). `next` is the
    cursor of older ones."""
    with reading(state.engine) as conn:
        rows = service.list_submissions(conn, ws.id, form_id, limit=page.limit, before=int_cursor(page.after))
    return {"data": rows, "next": encode_cursor(rows[-1]["id"]) if len(rows) == page.limit else None}


@router.get("/forms/{form_id}", response_model=FormRead)
def read_form(form_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return _form_out(service.get_form(conn, ws.id, form_id))


@router.patch("/forms/{form_id}", response_model=FormRead)
def update_form(form_id: int, body: FormUpdate, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with state.engine.begin() as conn:
        row = service.update_form(
            conn, ws.id, form_id, state.now(ws), body.model_dump(exclude_unset=True),
            keyring=state.keyring,
        )  # fmt: skip
    return _form_out(row)


@router.get("/landing-pages", response_model=Page[PageRead])
def read_landing_pages(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {"data": [_page_out(r) for r in pages.list_landing_pages(conn, ws.id)], "next": None}


@router.post("/landing-pages", response_model=PageRead, status_code=201)
def create_landing_page(
    body: PageCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """422 for an unknown email template or form; 409 `landing_page_exists` for a taken slug."""
    values = body.model_dump()

    def create(conn: Any) -> tuple[int, Any]:
        row = pages.create_landing_page(conn, ws.id, state.now(ws), **values)
        return 201, jsonable_encoder(PageRead.model_validate(_page_out(row)))

    return idempotent_create(state, ws.id, idempotency_key, "POST /landing-pages", values, create)


@router.post("/landing-pages/preview", response_model=PreviewHtml)
def preview_landing_page(body: PagePreview, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The page an unsaved landing page would show, its form embedded (a form's preview need
    not be active). 422 names the field (`body: …`, `template_id`, `form_id`). Stores nothing."""
    with reading(state.engine) as conn:
        fields, form = pages.preview_parts(conn, ws.id, body.model_dump())
    form_html = None
    if form is not None:
        token = service.render_token(state.keyring, ws.id, form["id"], state.clock.now())
        form_html = render.form_html(form, action=f"/f/{ws.id}/{form['key']}", token=token, script=False)
    url = f"/lp/{ws.id}/{body.slug}"
    page = {"title": body.title, "slug": body.slug}
    return {"html": render.landing_page_html(page, fields, form_html, url)}


@router.get("/landing-pages/{page_id}", response_model=PageRead)
def read_landing_page(page_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return _page_out(pages.get_landing_page(conn, ws.id, page_id))


@router.patch("/landing-pages/{page_id}", response_model=PageRead)
def update_landing_page(page_id: int, body: PageUpdate, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with state.engine.begin() as conn:
        changes = body.model_dump(exclude_unset=True)
        row = pages.update_landing_page(conn, ws.id, page_id, state.now(ws), changes)
    return _page_out(row)
