"""Every public HTML page carries the security headers (``kairos.api.page_headers``): a CSP
that lets nothing load or run but what the page needs, no framing, no sniffing, no referrer."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from kairos.api.app import create_app
from kairos.clock import FixedClock
from kairos.config import Settings
from kairos.contacts.tables import contact
from kairos.forms import render
from kairos.messaging.tables import message
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.forms.test_forms import LEAD, form, post, topic
from tests.messaging.conftest import email_template

__all__ = ["form", "topic"]


def csp(r: httpx.Response) -> dict[str, list[str]]:
    policy = r.headers["content-security-policy"]
    return {d.split()[0]: d.split()[1:] for d in policy.split("; ")}


def assert_locked_down(r: httpx.Response) -> dict[str, list[str]]:
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    policy = csp(r)
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in policy.get("script-src", [])
    return policy


def contact_with_message(engine: Engine, ws: int, clock: FixedClock) -> tuple[int, int]:
    now = clock.now()
    with engine.begin() as conn:
        cid = conn.execute(
            insert(contact).values(
                workspace_id=ws, email="ada@example.com", traits={}, created_at=now, updated_at=now
            )
        ).inserted_primary_key[0]
        mid = conn.execute(
            insert(message).values(
                workspace_id=ws, contact_id=cid, channel="email", idempotency_key="m1", source="api",
                status="sent", next_attempt_at=now, address="ada@example.com", created_at=now, updated_at=now,
            )
        ).inserted_primary_key[0]  # fmt: skip
    return int(cid), int(mid)


def test_unsubscribe_preference_and_confirmation_pages(
    client: TestClient, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    links = client.app.state.links  # type: ignore[attr-defined]
    cid, mid = contact_with_message(engine, workspace.id, clock)
    path = lambda url: "/" + url.split("/", 3)[3]  # noqa: E731
    pages = [
        client.get(path(links.unsubscribe_url(mid))),
        client.post(path(links.unsubscribe_url(mid))),
        client.get(path(links.preferences_url(workspace.id, cid))),
        client.post(path(links.preferences_url(workspace.id, cid)), content=b""),
        client.get(path(links.confirm_url(cid, 1))),
        client.get("/u/forged-token"),  # the "link not valid" page
        client.get("/p/forged-token"),
    ]
    for r in pages:
        policy = assert_locked_down(r)
        assert "script-src" not in policy  # these pages run no script at all
        assert policy["form-action"] == ["'self'"]
    assert [r.status_code for r in pages] == [200, 200, 200, 200, 200, 404, 404]


def test_form_pages_allow_their_inline_script_and_return_url_origins_only(
    client: TestClient, clock: FixedClock, form: dict[str, Any]
) -> None:
    r = client.get(form["url"])
    policy = assert_locked_down(r)
    script = re.search(r"<script>(.*?)</script>", r.text, re.S)
    assert script is not None
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert policy["script-src"] == [f"'sha256-{digest}'"] == [f"'{render.ANON_SCRIPT_HASH}'"]
    assert policy["form-action"] == ["'self'", "https://acme.example"]  # the 303 to return_url
    assert policy["img-src"] == ["'self'", "data:", "https:"]
    hidden = dict(re.findall(r"type='hidden' name='([^']+)' value='([^']*)'", r.text))
    clock.advance(timedelta(seconds=5))
    assert_locked_down(post(client, form, hidden, email="not-an-email", company="Acme"))  # 422, form again
    clock.advance(timedelta(seconds=5))
    thanks = post(client, form, hidden, **LEAD)
    assert thanks.status_code == 200 and "Check your inbox!" in thanks.text
    assert_locked_down(thanks)
    assert_locked_down(client.get("/f/999/nope"))  # 404 page


@pytest.mark.parametrize(
    ("provider", "script_origin", "frame_origin"),
    [
        ("turnstile", "https://challenges.cloudflare.com", "https://challenges.cloudflare.com"),
        ("hcaptcha", "https://*.hcaptcha.com", "https://*.hcaptcha.com"),
        ("recaptcha", "https://www.google.com/recaptcha/", "https://www.google.com/recaptcha/"),
    ],
)
def test_a_captcha_form_may_load_its_providers_widget(
    client: TestClient, api: Api, provider: str, script_origin: str, frame_origin: str
) -> None:
    r = api.post(
        "/forms",
        {"key": f"c-{provider}", "name": "Captcha", "fields": [{"name": "email", "label": "Email", "type": "email"}],
         "captcha": {"provider": provider, "site_key": "site", "secret": "secret"}},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    policy = assert_locked_down(client.get(r.json()["url"]))
    assert script_origin in policy["script-src"] and frame_origin in policy["frame-src"]


def test_landing_pages_carry_the_headers_with_web_fonts_allowed(
    client: TestClient, api: Api, form: dict[str, Any]
) -> None:
    tid = email_template(api, "lp", body="<html><body><h1>{{ page.title }}</h1>{{ form }}</body></html>")
    r = api.post(
        "/landing-pages", {"slug": "wp", "title": "Paper", "template_id": tid, "form_id": form["id"]}
    )
    assert r.status_code == 201, r.text
    policy = assert_locked_down(client.get(r.json()["url"]))
    assert f"'{render.ANON_SCRIPT_HASH}'" in policy["script-src"]
    assert "https:" in policy["style-src"] and "https:" in policy["font-src"]
    assert_locked_down(client.get("/lp/999/nope"))


@pytest.fixture
def framing_client(settings: Settings, engine: Engine, clock: FixedClock) -> Iterator[TestClient]:
    configured = settings.model_copy(update={"form_frame_ancestors": "https://www.acme.example 'self'"})
    with TestClient(create_app(configured, clock=clock)) as c:
        yield c


def test_sites_may_be_allowed_to_frame_forms_but_never_the_unsubscribe_page(
    framing_client: TestClient, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    api = Api(framing_client, workspace.api_key)
    r = api.post(
        "/forms", {"key": "embed", "name": "E", "fields": [{"name": "email", "label": "E", "type": "email"}]}
    )
    assert r.status_code == 201, r.text
    page = framing_client.get(r.json()["url"])
    assert csp(page)["frame-ancestors"] == ["https://www.acme.example", "'self'"]
    assert "x-frame-options" not in page.headers
    _cid, mid = contact_with_message(engine, workspace.id, clock)
    with engine.connect() as conn:
        assert conn.execute(select(message.c.id)).scalar_one() == mid
    unsubscribe = framing_client.app.state.links.unsubscribe_url(mid)  # type: ignore[attr-defined]
    assert_locked_down(framing_client.get("/" + unsubscribe.split("/", 3)[3]))
