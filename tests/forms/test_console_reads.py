"""What the console's form builder and landing-page editor need besides the basics: the
number, date and hidden (UTM) field types, live previews of unsaved forms and pages, the
submissions list, and landing pages that carry their own MJML or HTML body."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kairos.clock import FixedClock
from tests.conftest import Api
from tests.forms.test_forms import post, render
from tests.messaging.conftest import email_template


@pytest.fixture
def topic(api: Api) -> dict[str, Any]:
    r = api.post("/topics", {"key": "news", "name": "News", "opt_in": True})
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.fixture
def event_form(api: Api, topic: dict[str, Any]) -> dict[str, Any]:
    r = api.post(
        "/forms",
        {
            "key": "webinar",
            "name": "Webinar",
            "fields": [
                {"name": "email", "label": "Email", "type": "email", "required": True},
                {"name": "seats", "label": "Seats", "type": "number"},
                {"name": "visit_on", "label": "Day", "type": "date"},
                {"name": "plan", "label": "Plan", "type": "select", "options": ["Basic", "Pro"]},
                {"name": "utm_source", "type": "hidden", "value": "direct"},
                {"name": "utm_campaign", "type": "hidden"},
            ],
            "consent": [{"topic_id": topic["id"], "label": "Send me news"}],
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_number_date_and_hidden_fields(
    client: TestClient, api: Api, clock: FixedClock, event_form: dict[str, Any], topic: dict[str, Any]
) -> None:
    page = client.get(event_form["url"], params={"utm_campaign": "spring<1>"}).text
    assert "type='number' name='seats'" in page and "type='date' name='visit_on'" in page
    assert "name='utm_source' value='direct'" in page  # the default
    assert "name='utm_campaign' value='spring&lt;1&gt;'" in page  # from the link, escaped
    hidden = render(client, event_form, utm_campaign="spring")
    clock.advance(timedelta(seconds=5))
    bad = post(client, event_form, hidden, email="a@example.com", seats="many")
    assert bad.status_code == 422 and "Seats: not a number" in bad.text
    bad = post(client, event_form, hidden, email="a@example.com", visit_on="2026-02-30")
    assert bad.status_code == 422 and "Day: not a date" in bad.text
    ok = post(
        client, event_form, hidden, email="a@example.com", seats="3", visit_on="2026-05-01",
        plan="Pro", consent=str(topic["id"]),
    )  # fmt: skip
    assert ok.status_code == 200, ok.text

    subs = api.get(f"/forms/{event_form['id']}/submissions").json()
    [sub] = subs["data"]
    assert sub["values"] == {
        "email": "a@example.com", "seats": 3, "visit_on": "2026-05-01", "plan": "Pro",
        "utm_source": "direct", "utm_campaign": "spring",
    }  # fmt: skip
    assert sub["consents"] == [topic["id"]] and subs["next"] is None
    contact = api.get(f"/contacts/{sub['contact_id']}").json()
    assert contact["email"] == "a@example.com"


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"name": "x", "type": "hidden", "required": True}, "cannot be required"),
        ({"name": "x", "type": "text", "value": "v"}, "only hidden fields have a value"),
    ],
)
def test_hidden_field_rules(api: Api, field: dict[str, Any], message: str) -> None:
    fields = [{"name": "email", "type": "email"}, field]
    r = api.post("/forms", {"key": "k", "name": "K", "fields": fields})
    assert r.status_code == 422 and message in r.json()["message"]


def test_submissions_are_paged_newest_first_per_form(
    client: TestClient, api: Api, clock: FixedClock, event_form: dict[str, Any]
) -> None:
    other = api.post("/forms", {"key": "other", "name": "O", "fields": [{"name": "email", "type": "email"}]})
    for i in range(3):
        hidden = render(client, event_form)
        clock.advance(timedelta(seconds=5))
        assert post(client, event_form, hidden, email=f"p{i}@example.com").status_code == 200
    hidden = render(client, other.json())
    clock.advance(timedelta(seconds=5))
    assert post(client, other.json(), hidden, email="o@example.com").status_code == 200

    first = api.get(f"/forms/{event_form['id']}/submissions", params={"limit": 2}).json()
    assert [s["values"]["email"] for s in first["data"]] == ["p2@example.com", "p1@example.com"]
    rest = api.get(
        f"/forms/{event_form['id']}/submissions", params={"limit": 2, "after": first["next"]}
    ).json()
    assert [s["values"]["email"] for s in rest["data"]] == ["p0@example.com"] and rest["next"] is None
    assert api.get("/forms/9999/submissions").status_code == 404


def test_form_preview_renders_a_draft_and_names_bad_fields(api: Api, topic: dict[str, Any]) -> None:
    draft = {
        "name": "Draft <b>",
        "fields": [{"name": "email", "label": "Email", "type": "email", "required": True}],
        "consent": [{"topic_id": topic["id"], "label": "News please"}],
    }
    r = api.post("/forms/preview", draft)
    assert r.status_code == 200, r.text
    html = r.json()["html"]
    assert "<title>Draft &lt;b&gt;</title>" in html and "News please" in html and "<form" in html
    assert api.get("/forms").json()["data"] == []  # nothing stored
    bad = api.post("/forms/preview", {**draft, "fields": [{"name": "company"}]})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_fields"
    bad = api.post("/forms/preview", {**draft, "consent": [{"topic_id": 999, "label": "x"}]})
    assert bad.status_code == 422 and bad.json()["message"].startswith("consent[0].topic_id")


def test_landing_page_with_its_own_body(client: TestClient, api: Api, event_form: dict[str, Any]) -> None:
    body = "<html><body><h1>{{ page.title }}</h1>{{ form }}</body></html>"
    bad = api.post("/landing-pages", {"slug": "p", "title": "P", "body_format": "html", "body": "{{ x"})
    assert bad.status_code == 422 and bad.json()["message"].startswith("body:")
    tid = email_template(api, "lp", body=body)
    both = api.post("/landing-pages", {"slug": "p", "title": "P", "template_id": tid, "body": body})
    assert both.status_code == 422 and both.json()["code"] == "invalid_body"
    assert api.post("/landing-pages", {"slug": "p", "title": "P"}).status_code == 422
    r = api.post(
        "/landing-pages",
        {"slug": "spring", "title": "Spring <sale>", "body_format": "html", "body": body,
         "form_id": event_form["id"], "status": "paused"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    page = r.json()
    assert (page["body_format"], page["template_id"]) == ("html", None)
    assert client.get(page["url"]).status_code == 404  # paused: not published
    assert api.patch(f"/landing-pages/{page['id']}", {"status": "active"}).status_code == 200
    html = client.get(page["url"]).text
    assert "<h1>Spring &lt;sale&gt;</h1>" in html and f"action='{event_form['url']}'" in html

    # switching to a template drops the page's own body
    r = api.patch(f"/landing-pages/{page['id']}", {"template_id": tid, "body": None})
    assert r.status_code == 200 and (r.json()["body"], r.json()["body_format"]) == (None, None)
    assert "<h1>Spring &lt;sale&gt;</h1>" in client.get(page["url"]).text


def test_landing_page_preview(api: Api, event_form: dict[str, Any]) -> None:
    r = api.post(
        "/landing-pages/preview",
        {"title": "Hello", "body": "<mjml><mj-body><mj-section><mj-column><mj-text>{{ page.title }}</mj-text>"
         "<mj-raw>{{ form }}</mj-raw></mj-column></mj-section></mj-body></mjml>",
         "form_id": event_form["id"]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert "Hello" in r.json()["html"] and "kairos-form" in r.json()["html"]
    assert api.post("/landing-pages/preview", {"title": "x", "template_id": 999}).status_code == 422
    bad = api.post(
        "/landing-pages/preview", {"title": "x", "body_format": "html", "body": "<p>x</p>", "form_id": 999}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_form"
