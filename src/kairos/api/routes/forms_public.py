"""Hosted forms and landing pages (no API key): ``/f/{workspace}/{key}`` and
``/lp/{workspace}/{slug}`` (docs/forms.md).

A submission that looks automated (honeypot filled, render timestamp missing, forged, under
2 s or over 24 h old) gets the same thank-you page as a real one and stores nothing. A failed
CAPTCHA (422), an unreachable CAPTCHA provider (503) and a client over the form's rate limit
(429 with ``Retry-After``) get the form again with the message and the values kept, as
invalid input does (422): this route always answers HTML. After a real submission, the
visitor is redirected (303) only to a ``return_url`` on the form's allowlist; anything else
gets the thank-you page, so this is no open redirect.

The client's address is ``request.client.host``: behind a reverse proxy, uvicorn replaces it
with the ``X-Forwarded-For`` client when the proxy is trusted (``--forwarded-allow-ips`` /
``FORWARDED_ALLOW_IPS``, default 127.0.0.1).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kairos.api.deps import AppState, StateDep
from kairos.api.input_guard import form_body
from kairos.api.page_headers import LANDING_PAGE_SOURCES, form_sources, page_headers
from kairos.db.engine import reading
from kairos.errors import InvalidInput, KairosError, Unavailable
from kairos.forms import pages, render, service

log = logging.getLogger(__name__)
router = APIRouter(tags=["public"])
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _headers(state: AppState, form: dict[str, Any] | None, landing_page: bool = False) -> dict[str, str]:
    """The security headers of a form or landing page (``kairos.api.page_headers``)."""
    sources = form_sources(form, render.ANON_SCRIPT_HASH)
    if landing_page:
        for directive, values in LANDING_PAGE_SOURCES.items():
            sources.setdefault(directive, []).extend(values)
    return page_headers(sources=sources, frame_ancestors=state.settings.form_frame_ancestors.split())


def _html(state: AppState, doc: tuple[str, int], form: dict[str, Any] | None = None) -> HTMLResponse:
    return HTMLResponse(doc[0], status_code=doc[1], headers=_headers(state, form))


def _missing(state: AppState) -> HTMLResponse:
    return _html(state, render.page("Not found", "<p>This page is not available.</p>", 404))


def _first(values: dict[str, list[str]], name: str) -> str | None:
    found = values.get(name)
    return found[0] if found else None


def _form_path(workspace_id: int, key: str) -> str:
    return f"/f/{workspace_id}/{key}"


def _visit(request: Request) -> tuple[str, str | None]:
    """The page a form is shown on and the page that led there (its acquisition source):
    in an iframe (``Sec-Fetch-Dest: iframe``), the embedding page (the ``Referer``; what led
    to that page is not known here); else the form's own URL and its ``Referer``."""
    referer = request.headers.get("referer")
    if request.headers.get("sec-fetch-dest") == "iframe" and referer:
        return referer, None
    return str(request.url), referer


@router.get("/f/{workspace_id}/{key}", include_in_schema=False)
def show_form(
    workspace_id: int,
    key: str,
    request: Request,
    state: StateDep,
    anonymous_id: str | None = None,
    return_url: str | None = None,
    ajs_anonymous_id: Annotated[str | None, Cookie()] = None,
) -> HTMLResponse:
    """The form page. ``anonymous_id`` (query) or the ``ajs_anonymous_id`` cookie links the
    submission to earlier anonymous visits; ``return_url`` is kept for after submitting; a
    hidden field takes the query parameter of its name (``?utm_source=…``), else its value."""
    with reading(state.engine) as conn:
        form = service.form_by_key(conn, workspace_id, key)
    if form is None:
        return _missing(state)
    token = service.render_token(state.keyring, workspace_id, form["id"], state.clock.now())
    anon = service.clean_anonymous_id(anonymous_id or ajs_anonymous_id)
    hidden = {
        f["name"]: [request.query_params[f["name"]][: service.MAX_VALUE_LENGTH]]
        for f in form["fields"]
        if f["type"] == "hidden" and request.query_params.get(f["name"])
    }
    page_url, referrer = _visit(request)
    body = render.form_html(
        form, action=_form_path(workspace_id, key), token=token, anonymous_id=anon,
        return_url=return_url, values=hidden, page_url=page_url, referrer=referrer,
    )  # fmt: skip
    return _html(state, render.page(form["name"], body), form)


def _form_again(
    state: AppState,
    workspace_id: int,
    form: dict[str, Any],
    values: dict[str, list[str]],
    message: str,
    status: int,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The form once more, the visitor's values kept and ``message`` shown."""
    token = service.render_token(state.keyring, workspace_id, form["id"], state.clock.now())
    body = render.form_html(
        form, action=_form_path(workspace_id, form["key"]), token=token,
        anonymous_id=_first(values, "anonymous_id"),
        return_url=_first(values, "return_url"), values=values, error=message,
        page_url=_first(values, service.PAGE_URL), referrer=_first(values, service.REFERRER),
    )  # fmt: skip
    doc, code = render.page(form["name"], body, status)
    return HTMLResponse(doc, status_code=code, headers={**_headers(state, form), **(headers or {})})


@router.post("/f/{workspace_id}/{key}", include_in_schema=False)
async def submit_form(workspace_id: int, key: str, request: Request, state: StateDep) -> Response:
    values = await form_body(request, 200)
    referer = request.headers.get("referer")
    if referer and not values.get(service.PAGE_URL):  # posted from a page of the site itself
        values[service.PAGE_URL] = [referer]
    ip = request.client.host if request.client else None
    user_agent = request.headers.get("user-agent")
    # blocking work (the database, the CAPTCHA provider) stays off the event loop
    return await run_in_threadpool(_submit, state, workspace_id, key, values, ip, user_agent)


def _submit(
    state: AppState,
    workspace_id: int,
    key: str,
    values: dict[str, list[str]],
    ip: str | None,
    user_agent: str | None,
) -> Response:
    now = state.clock.now()
    with reading(state.engine) as conn:
        form = service.form_by_key(conn, workspace_id, key)
    if form is None:
        return _missing(state)
    reason = service.spam_reason(state.keyring, workspace_id, form["id"], values, now)
    if reason is not None:
        log.warning("form %s/%s: submission from %s dropped as spam (%s)", workspace_id, key, ip, reason)
        return _html(state, render.thank_you(form))
    try:
        # a network call: before the transaction, so no lock is held while the provider answers
        service.check_captcha(state.keyring, form, values, ip, verify_url=state.settings.captcha_verify_url)
    except KairosError as exc:
        log.warning("form %s/%s: submission from %s refused (%s)", workspace_id, key, ip, exc.code)
        status = 503 if isinstance(exc, Unavailable) else 422
        return _form_again(state, workspace_id, form, values, exc.message, status)
    client = service.client_hash(state.keyring, workspace_id, ip)
    at = state.now(workspace_id)  # when it happened, in the workspace's time (a sandbox's own)
    try:
        with state.engine.begin() as conn:
            retry_after = service.take_rate_slot(conn, form, client, now)
            if retry_after is None:
                service.submit(
                    conn, workspace_id, form, values, ip=ip, user_agent=user_agent,
                    anonymous_id=_first(values, "anonymous_id"), now=at,
                )  # fmt: skip
    except InvalidInput as exc:
        return _form_again(state, workspace_id, form, values, exc.message, 422)
    if retry_after is not None:
        log.warning("form %s/%s: submission from %s over the rate limit", workspace_id, key, ip)
        minutes = (retry_after + 59) // 60
        wait = f"{minutes} minute{'s' if minutes > 1 else ''}"
        message = f"Too many submissions from your network. Please try again in {wait}."
        return _form_again(state, workspace_id, form, values, message, 429, {"Retry-After": str(retry_after)})
    state.wake()
    return_url = (values.get("return_url") or [""])[0]
    target = service.allowed_return_url(return_url, form["return_urls"]) if return_url else None
    if target is not None:  # normalised: the URL checked is the URL the browser goes to
        return RedirectResponse(target, status_code=303, headers=HEADERS)
    return _html(state, render.thank_you(form))


@router.get("/lp/{workspace_id}/{slug}", include_in_schema=False)
def show_landing_page(
    workspace_id: int,
    slug: str,
    request: Request,
    state: StateDep,
    anonymous_id: str | None = None,
    ajs_anonymous_id: Annotated[str | None, Cookie()] = None,
) -> HTMLResponse:
    """The page's body (its own, or its template's) rendered with ``{page, form}``; a
    ``page`` event is recorded when the visitor's anonymous id is already known."""
    now = state.clock.now()  # the form token's time: real, as the visitor's
    at = state.now(workspace_id)  # the page view's: the workspace's (a sandbox's own)
    anon = service.clean_anonymous_id(anonymous_id or ajs_anonymous_id)
    with state.engine.begin() as conn:
        page = pages.landing_page_by_slug(conn, workspace_id, slug)
        fields = None if page is None else pages.content_fields(conn, workspace_id, page)
        if page is None or fields is None:
            return _missing(state)
        form = service.get_form(conn, workspace_id, page["form_id"]) if page["form_id"] else None
        if form is not None and form["status"] != "active":
            form = None
        referrer = request.headers.get("referer")
        recorded = pages.record_page_view(conn, workspace_id, page, str(request.url), anon, at, referrer)
    form_html = None
    if form is not None:
        token = service.render_token(state.keyring, workspace_id, form["id"], now)
        form_html = render.form_html(
            form, action=_form_path(workspace_id, form["key"]), token=token, anonymous_id=anon,
            page_url=str(request.url), referrer=referrer,
        )  # fmt: skip
    try:
        doc = render.landing_page_html(page, fields, form_html, str(request.url))
    except InvalidInput as exc:
        log.warning("landing page %s/%s does not render: %s", workspace_id, slug, exc.message)
        return _missing(state)
    if recorded:
        state.wake()
    return HTMLResponse(doc, headers=_headers(state, form, landing_page=True))
