"""A ``notify_sales`` email goes to the sales owner, about the lead: it never carries the
lead's consent links or tracking, and nothing the owner does with it is the lead's doing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select

from kairos.clock import FixedClock
from kairos.events.tables import event
from kairos.messaging.tables import message
from kairos.messaging.tracking import Links
from kairos.worker.loop import Worker
from tests.conftest import Api
from tests.journeys.conftest import journey
from tests.messaging.conftest import SmtpServer, email_template, make_contact

OWNER = "ana@shop.example"
#: a shared footer, as marketing templates have it
FOOTER = (
    '<p><a href="{{ links.unsubscribe_url }}">Unsubscribe</a> · '
    '<a href="{{ links.preferences_url }}">Preferences</a></p>'
)


def lead_events(engine: Engine, contact_id: int) -> list[str]:
    with engine.connect() as conn:
        names = conn.execute(select(event.c.name).where(event.c.contact_id == contact_id)).scalars()
        return [n for n in names if n.startswith(("Email", "Webhook", "Unsubscribed"))]


def hand_over(api: Api, worker: Worker, **node: Any) -> tuple[int, int]:
    """A lead (unsubscribed from email marketing) handed to sales; (lead id, journey id)."""
    tid = email_template(
        api, "lead", subject="New lead: {{ contact.first_name }}",
        body=("<html><body><p>{{ contact.first_name }} ({{ contact.email }}) is ready.</p>"
              '<p><a href="https://crm.example/leads/{{ contact.id }}">Open in the CRM</a></p>'
              + FOOTER + "</body></html>"),
    )  # fmt: skip
    lead = make_contact(api, external_id="lead", first_name="Lea", email="lea@x.example")
    r = api.post(f"/contacts/{lead}/subscriptions", {"channel": "email", "status": "unsubscribed"})
    assert r.status_code == 200, r.text
    jid = journey(api, {
        "trigger": {"type": "api"}, "start": "sales",
        "nodes": {"sales": {"type": "notify_sales", "owners": [OWNER], "template_id": tid, "next": None, **node}},
    })  # fmt: skip
    api.post(f"/journeys/{jid}/enrollments", {"contact_id": lead})
    worker.run_once()
    return lead, jid


def consent(api: Api, lead: int) -> list[tuple[str, str]]:
    return [(e["scope"], e["status"]) for e in api.get(f"/contacts/{lead}/consent-log").json()["data"]]


def test_the_owners_email_has_no_consent_links_of_the_lead_and_no_tracking(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, engine: Engine
) -> None:
    lead, _ = hand_over(api, worker)
    # sent although the lead unsubscribed from marketing: it is the owner's, transactional
    [got] = smtp.recorder.to(OWNER)
    assert not smtp.recorder.to("lea@x.example")
    m = got.message
    assert m["Subject"] == "New lead: Lea"
    assert m["List-Unsubscribe"] is None and m["List-Unsubscribe-Post"] is None
    html = m.get_body(("html",)).get_content()
    text = m.get_body(("plain",)).get_content()
    assert "Lea (lea@x.example) is ready." in html
    assert f'href="https://crm.example/leads/{lead}"' in html  # not rewritten for tracking
    for part in (html, text):
        assert "/u/" not in part and "/p/" not in part  # no unsubscribe, no preference centre
        assert "/t/o/" not in part and "/t/c/" not in part  # no open pixel, no click tracking
    with engine.connect() as conn:
        [row] = conn.execute(select(message).where(message.c.contact_id == lead)).mappings()
    assert (row["source"], row["transactional"], row["address"]) == ("notify_sales", True, OWNER)
    assert consent(api, lead) == [("channel:email", "unsubscribed")]
    assert lead_events(engine, lead) == []


def test_nothing_done_with_the_owners_email_is_recorded_on_the_lead(
    api: Api,
    smtp: SmtpServer,
    email_channel: dict[str, Any],
    worker: Worker,
    engine: Engine,
    clock: FixedClock,
) -> None:
    lead, _ = hand_over(api, worker)
    api.post(f"/contacts/{lead}/subscriptions", {"channel": "email", "status": "subscribed"})
    with engine.connect() as conn:
        mid = conn.execute(select(message.c.id).where(message.c.contact_id == lead)).scalar_one()
    clock.advance(timedelta(minutes=5))
    links: Links = api.http.app.state.links  # type: ignore[attr-defined]
    browser = {"User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15"}

    # the links the email would have had, were it a message to the lead
    unsubscribe = "/u/" + links.unsubscribe_token(mid)
    r = api.http.post(unsubscribe, content=b"List-Unsubscribe=One-Click",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 404
    assert (
        api.http.get("/t/o/" + links.open_url(mid).split("/t/o/", 1)[1], headers=browser).status_code == 200
    )
    # the owner marks it as spam: their address is suppressed, the lead stays subscribed
    report = "/hooks/reports/" + email_channel["report_url"].rsplit("/", 1)[1]
    for kind in ("delivered", "complained"):
        assert api.http.post(report, json={"type": kind, "message_id": mid}).status_code in (200, 202, 204)

    assert consent(api, lead) == [("channel:email", "unsubscribed"), ("channel:email", "subscribed")]
    assert api.get(f"/contacts/{lead}/subscriptions").json()["channels"] == {"email": "subscribed"}
    assert lead_events(engine, lead) == []  # no Email Opened, Delivered, Marked as Spam, Unsubscribed
    kinds = [e["kind"] for e in api.get(f"/messages/{mid}").json()["events"]]
    assert kinds == ["opened", "delivered", "complained"]  # the message's own report keeps them
    supp = api.get("/suppressions").json()["data"]
    assert [(s["address"], s["contact_id"]) for s in supp] == [(OWNER, None)]  # the owner's, not the lead's
    # erasing the lead leaves the owner's suppression as it was
    assert (
        api.http.delete(
            f"/api/v1/contacts/{lead}", headers={"Authorization": f"Bearer {api.key}"}
        ).status_code
        == 204
    )
    assert [s["address"] for s in api.get("/suppressions").json()["data"]] == [OWNER]


def test_the_crm_webhook_is_internal_too(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, engine: Engine
) -> None:
    lead, _ = hand_over(api, worker, webhook_url="https://93.184.215.14/hook")
    with engine.connect() as conn:
        sources = conn.execute(
            select(message.c.channel, message.c.source).where(message.c.contact_id == lead)
        ).all()
    assert sorted(sources) == [("email", "notify_sales"), ("webhook", "notify_sales")]
