"""Hosted forms and landing pages, end to end through the HTTP API on a driven clock:
render, wait, submit; spam is dropped silently; identity resolution merges the lead with its
earlier anonymous visits; consent goes through double opt-in; return URLs are allowlisted."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from kairos.clock import FixedClock
from kairos.contacts.tables import contact
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.events.tables import event
from kairos.forms.service import return_url_allowed
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template

FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def topic(api: Api) -> dict[str, Any]:
    r = api.post(
        "/topics", {"key": "newsletter", "name": "Newsletter", "opt_in": True, "double_opt_in": True}
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.fixture
def form(api: Api, topic: dict[str, Any]) -> dict[str, Any]:
    r = api.post(
        "/forms",
        {
            "key": "whitepaper",
            "name": "Get the whitepaper",
            "fields": [
                {"name": "email", "label": "Work email", "type": "email", "required": True},
                {"name": "first_name", "label": "First name <script>alert(1)</script>"},
                {"name": "company", "label": "Company", "required": True},
            ],
            "consent": [
                {"topic_id": topic["id"], "label": "Send me the newsletter", "wording_version": "2026-03"}
            ],
            "return_urls": ["https://acme.example/thanks"],
            "success_message": "Check your inbox!",
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def render(client: TestClient, form: dict[str, Any], **params: str) -> dict[str, str]:
    r = client.get(form["url"], params=params)
    assert r.status_code == 200, r.text
    return dict(re.findall(r"type='hidden' name='([^']+)' value='([^']*)'", r.text))


def post(client: TestClient, form: dict[str, Any], hidden: dict[str, str], **fields: Any) -> httpx.Response:
    body = httpx.QueryParams({**hidden, **fields})
    r: httpx.Response = client.post(
        form["url"], content=str(body), headers=FORM_HEADERS, follow_redirects=False
    )
    return r


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def contacts(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        q = select(contact).where(contact.c.merged_into.is_(None)).order_by(contact.c.id)
        return [dict(r._mapping) for r in conn.execute(q)]


def form_events(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        q = select(event).where(event.c.name == "form_submitted").order_by(event.c.id)
        return [dict(r._mapping) for r in conn.execute(q)]


LEAD = {"email": "Ada@Example.com", "first_name": "Ada", "company": "Acme"}


def test_form_renders_escaped_with_spam_guards(client: TestClient, form: dict[str, Any]) -> None:
    r = client.get(form["url"], params={"anonymous_id": "anon-1"})
    assert "<script>alert(1)</script>" not in r.text
    assert "First name &lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "Send me the newsletter" in r.text and "name='consent'" in r.text
    assert "name='_k_hp'" in r.text and "ajs_anonymous_id" in r.text
    hidden = render(client, form, anonymous_id="anon-1")
    assert hidden["anonymous_id"] == "anon-1" and hidden["_k_ts"]
    assert client.get("/f/999/nope").status_code == 404


def test_spam_is_thanked_and_dropped(
    client: TestClient, engine: Engine, clock: FixedClock, form: dict[str, Any]
) -> None:
    hidden = render(client, form)
    too_fast = post(client, form, hidden, **LEAD)
    assert too_fast.status_code == 200 and "Check your inbox!" in too_fast.text
    clock.advance(timedelta(seconds=5))
    honeypot = post(client, form, {**hidden, "_k_hp": "http://spam.example"}, **LEAD)
    assert honeypot.status_code == 200 and "Check your inbox!" in honeypot.text
    forged = post(client, form, {**hidden, "_k_ts": "AAAA"}, **LEAD)
    assert forged.status_code == 200
    clock.advance(timedelta(hours=25))
    assert post(client, form, hidden, **LEAD).status_code == 200  # replayed a day later
    assert contacts(engine) == [] and form_events(engine) == []


def test_submission_creates_contact_event_and_pending_subscription(
    client: TestClient,
    api: Api,
    engine: Engine,
    clock: FixedClock,
    form: dict[str, Any],
    topic: dict[str, Any],
    smtp: SmtpServer,
    email_channel: dict[str, Any],
    worker: Worker,
) -> None:
    hidden = render(client, form)
    clock.advance(timedelta(seconds=5))
    r = post(client, form, hidden, consent=str(topic["id"]), **LEAD)
    assert r.status_code == 200 and "Check your inbox!" in r.text
    [lead] = contacts(engine)
    assert (lead["email"], lead["first_name"], lead["traits"]["company"]) == (
        "ada@example.com",
        "Ada",
        "Acme",
    )
    [ev] = form_events(engine)
    assert ev["contact_id"] == lead["id"]
    assert ev["properties"]["form_key"] == "whitepaper" and ev["properties"]["company"] == "Acme"
    subs = api.get(f"/contacts/{lead['id']}/subscriptions").json()["topics"]
    assert [s["status"] for s in subs] == ["pending"]
    worker.run_once()
    assert len(smtp.recorder.to("ada@example.com")) == 1  # the double opt-in confirmation

    # the same email again: the same contact; a public form only fills what is empty on a
    # known contact (anyone can type anyone's email), the submission itself is on the event
    hidden = render(client, form)
    clock.advance(timedelta(seconds=5))
    r = post(client, form, hidden, **{**LEAD, "company": "Acme Corp", "email": "ada@example.com"})
    assert r.status_code == 200
    [again] = contacts(engine)
    assert again["id"] == lead["id"] and again["traits"]["company"] == "Acme"
    assert [e["properties"]["company"] for e in form_events(engine)] == ["Acme", "Acme Corp"]


def test_earlier_anonymous_visits_are_merged(
    client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace, form: dict[str, Any]
) -> None:
    visit = parse_message(
        {"type": "page", "anonymousId": "anon-42", "name": "Pricing", "properties": {"path": "/pricing"}},
        None,
        clock.now(),
    )
    with engine.begin() as conn:
        ingest(conn, workspace.id, [visit], clock.now())
    [visitor] = contacts(engine)
    hidden = render(client, form, anonymous_id="anon-42")
    clock.advance(timedelta(seconds=3))
    assert post(client, form, hidden, **LEAD).status_code == 200
    [lead] = contacts(engine)
    assert lead["id"] == visitor["id"] and lead["email"] == "ada@example.com"
    with engine.connect() as conn:
        owners = set(conn.execute(select(event.c.contact_id)).scalars())
    assert owners == {lead["id"]}


def test_return_url_only_when_allowlisted(
    client: TestClient, clock: FixedClock, form: dict[str, Any]
) -> None:
    hidden = render(client, form, return_url="https://acme.example/thanks")
    clock.advance(timedelta(seconds=5))
    r = post(client, form, hidden, **LEAD)
    assert r.status_code == 303 and r.headers["location"] == "https://acme.example/thanks"
    for bad in ("https://evil.example/thanks", "https://acme.example/thanksgiving", "//evil.example"):
        hidden = render(client, form)
        clock.advance(timedelta(seconds=5))
        r = post(client, form, {**hidden, "return_url": bad}, **LEAD)
        assert r.status_code == 200 and "location" not in r.headers and "Check your inbox!" in r.text


def test_return_url_prefixes() -> None:
    allow = ["https://acme.example/thanks", "https://acme.example/docs/"]
    assert return_url_allowed("https://acme.example/thanks?x=1", allow)
    assert return_url_allowed("https://acme.example/docs/a", allow)
    assert not return_url_allowed("https://acme.example/thanksgiving", allow)
    assert not return_url_allowed("https://acme.example.evil.example/thanks", allow)
    assert not return_url_allowed("http://acme.example/thanks", allow)
    assert not return_url_allowed("https://user@acme.example/thanks", allow)


def test_invalid_input_answers_422(
    client: TestClient,
    api: Api,
    engine: Engine,
    clock: FixedClock,
    form: dict[str, Any],
    topic: dict[str, Any],
) -> None:
    hidden = render(client, form)
    clock.advance(timedelta(seconds=5))
    r = post(client, form, hidden, **{**LEAD, "email": "not-an-email"})
    assert r.status_code == 422 and "Work email: not a valid email address" in r.text
    r = post(client, form, hidden, email="ada@example.com")
    assert r.status_code == 422 and "Company: this field is required" in r.text
    required = api.patch(
        f"/forms/{form['id']}",
        {"consent": [{"topic_id": topic["id"], "label": "I agree <b>", "required": True}]},
    )
    assert required.status_code == 200, required.text
    r = post(client, form, hidden, **LEAD)
    assert r.status_code == 422 and "I agree &lt;b&gt;: please tick this box" in r.text
    assert contacts(engine) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"fields": [{"name": "email", "type": "text"}]}, "invalid_field"),
        ({"fields": [{"name": "company"}]}, "invalid_fields"),
        (
            {"fields": [{"name": "user_id", "type": "text"}, {"name": "email", "type": "email"}]},
            "invalid_field",
        ),
        ({"consent": [{"topic_id": 9999, "label": "x"}]}, "invalid_consent"),
        ({"return_urls": ["http://acme.example/thanks"]}, "invalid_return_url"),
        ({"return_urls": ["/thanks"]}, "invalid_return_url"),
    ],
)
def test_bad_management_input(api: Api, form: dict[str, Any], change: dict[str, Any], code: str) -> None:
    r = api.patch(f"/forms/{form['id']}", change)
    assert r.status_code == 422 and r.json()["code"] == code, r.text
    created = api.post(
        "/forms", {"key": "other", "name": "Other", "fields": [{"name": "email", "type": "email"}]} | change
    )
    assert created.status_code == 422, created.text


def test_management_api(api: Api, form: dict[str, Any]) -> None:
    assert api.get("/forms").json()["data"][0]["key"] == "whitepaper"
    assert api.get(f"/forms/{form['id']}").json()["return_urls"] == ["https://acme.example/thanks"]
    dup = api.post(
        "/forms", {"key": "whitepaper", "name": "x", "fields": [{"name": "email", "type": "email"}]}
    )
    assert dup.status_code == 409
    assert (
        api.post(
            "/forms", {"key": "Bad Key", "name": "x", "fields": [{"name": "email", "type": "email"}]}
        ).status_code
        == 422
    )
    assert api.get("/forms/9999").status_code == 404


def test_landing_page_embeds_form_and_records_known_visits(
    client: TestClient,
    api: Api,
    engine: Engine,
    clock: FixedClock,
    workspace: CreatedWorkspace,
    form: dict[str, Any],
) -> None:
    tid = email_template(api, "lp", body="<html><body><h1>{{ page.title }}</h1>{{ form }}</body></html>")
    assert api.post("/landing-pages", {"slug": "wp", "title": "X", "template_id": 9999}).status_code == 422
    assert (
        api.post(
            "/landing-pages", {"slug": "wp", "title": "X", "template_id": tid, "form_id": 9999}
        ).status_code
        == 422
    )
    r = api.post(
        "/landing-pages",
        {"slug": "wp", "title": "Whitepaper <2026>", "template_id": tid, "form_id": form["id"]},
    )
    assert r.status_code == 201, r.text
    page = r.json()
    assert api.get(f"/landing-pages/{page['id']}").json()["slug"] == "wp"
    assert api.get("/landing-pages").json()["data"][0]["id"] == page["id"]

    html = client.get(page["url"]).text
    assert "<h1>Whitepaper &lt;2026&gt;</h1>" in html
    assert "<form class='kairos-form'" in html and f"action='{form['url']}'" in html
    assert count(engine, event) == 0  # unknown visitor: nothing recorded

    visit = parse_message({"type": "track", "anonymousId": "anon-7", "event": "Visited"}, None, clock.now())
    with engine.begin() as conn:
        ingest(conn, workspace.id, [visit], clock.now())
    client.cookies.set("ajs_anonymous_id", '"anon-7"')
    html = client.get(page["url"]).text
    assert "value='anon-7'" in html
    with engine.connect() as conn:
        kinds = [r.type for r in conn.execute(select(event.c.type).order_by(event.c.id))]
    assert kinds == ["track", "page"]

    assert api.patch(f"/landing-pages/{page['id']}", {"status": "paused"}).status_code == 200
    assert client.get(page["url"]).status_code == 404
