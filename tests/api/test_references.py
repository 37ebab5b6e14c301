"""Every field of a request that names another object (channel, template, topic, segment,
offer, campaign, form, journey, contact …) must name one of the caller's own workspace.

One table of cases: each saves a reference to an object of *another* workspace and must be
refused (404 or 422, ``{code, message}``) with nothing written. A new field that names an
object belongs in this table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from kairos.campaigns.tables import broadcast, campaign
from kairos.forms.tables import form, landing_page
from kairos.journeys.tables import enrollment, journey
from kairos.messaging.tables import message, subscription_topic
from kairos.segments.tables import segment
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api


@dataclass
class Objects:
    contact: int
    template: int  # inapp
    email_template: int
    channel: int  # inapp
    topic: int
    segment: int
    segment2: int
    static_list: int
    offer: int
    offer_key: str
    campaign: int
    form: int
    journey: int


def _objects(api: Api, tag: str) -> Objects:
    def created(path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = api.post(path, body)
        assert r.status_code == 201, (path, r.text)
        return dict(r.json())

    contact = created("/contacts", {"email": f"{tag}@example.com", "external_id": f"u-{tag}"})
    template = created(
        "/templates", {"name": "note", "channel": "inapp", "fields": {"title": "Hi", "body": "Yo"}}
    )
    email_t = created(
        "/templates",
        {
            "name": "mail",
            "channel": "email",
            "fields": {"subject": "Hi", "format": "html", "body": "<p>x</p>"},
        },
    )
    channel = created("/channels", {"name": "inbox", "provider": "inapp"})
    topic = created("/topics", {"key": "news", "name": "News"})
    seg = created("/segments", {"name": "vip", "definition": {"root": {"type": "tag", "tag": "vip"}}})
    seg2 = created("/segments", {"name": "new", "definition": {"root": {"type": "tag", "tag": "new"}}})
    static = created("/segments", {"name": "list", "kind": "static"})
    offer = created("/offers", {"key": f"gift-{tag}", "name": "Gift", "kind": "gift"})
    camp = created("/campaigns", {"name": "spring"})
    frm = created(
        "/forms",
        {
            "key": "signup",
            "name": "Sign up",
            "fields": [{"name": "email", "label": "Email", "type": "email", "required": True}],
        },
    )
    jour = created(
        "/journeys",
        {"name": "j", "definition": {"trigger": {"type": "api"}, "start": "s",
                                     "nodes": {"s": {"type": "exit"}}}},
    )  # fmt: skip
    assert api.post(f"/journeys/{jour['id']}/publish").status_code == 200
    return Objects(
        contact=contact["id"], template=template["id"], email_template=email_t["id"], channel=channel["id"],
        topic=topic["id"], segment=seg["id"], segment2=seg2["id"], static_list=static["id"], offer=offer["id"], offer_key=offer["key"], campaign=camp["id"],
        form=frm["id"], journey=jour["id"],
    )  # fmt: skip


@pytest.fixture
def mine(api: Api) -> Objects:
    return _objects(api, "mine")


@pytest.fixture
def theirs(client: TestClient, other_workspace: CreatedWorkspace) -> Objects:
    return _objects(Api(client, other_workspace.api_key), "theirs")


def _journey(trigger: dict[str, Any] | None = None, **nodes: Any) -> dict[str, Any]:
    return {
        "trigger": trigger or {"type": "api"},
        "start": "a",
        "nodes": {"a": {**nodes.get("a", {"type": "exit"})}, **{k: v for k, v in nodes.items() if k != "a"}},
    }


Case = Callable[[Objects, Objects], tuple[str, str, dict[str, Any]]]

CASES: dict[str, Case] = {
    # messages
    "message.channel_id": lambda m, t: ("POST", "/messages", {
        "contact_id": m.contact, "channel": "inapp", "template_id": m.template, "channel_id": t.channel}),
    "message.template_id": lambda m, t: ("POST", "/messages", {
        "contact_id": m.contact, "channel": "inapp", "template_id": t.template}),
    "message.topic_id": lambda m, t: ("POST", "/messages", {
        "contact_id": m.contact, "channel": "inapp", "template_id": m.template, "topic_id": t.topic,
        "transactional": False}),
    "message.contact_id": lambda m, t: ("POST", "/messages", {
        "contact_id": t.contact, "channel": "inapp", "template_id": m.template}),
    "template.preview.contact_id": lambda m, t: ("POST", f"/templates/{m.template}/preview", {"contact_id": t.contact}),
    "template.test_send.contact_id": lambda m, t: ("POST", f"/templates/{m.template}/test-send", {"contact_id": t.contact}),
    # consent
    "topic.confirmation_template_id": lambda m, t: ("POST", "/topics", {
        "key": "other", "name": "Other", "double_opt_in": True, "opt_in": True,
        "confirmation_template_id": t.email_template}),
    "topic.update.confirmation_template_id": lambda m, t: ("PATCH", f"/topics/{m.topic}", {
        "confirmation_template_id": t.email_template}),
    "subscription.topic_id": lambda m, t: ("POST", f"/contacts/{m.contact}/subscriptions", {
        "topic_id": t.topic, "status": "subscribed"}),
    # segments
    "segment.definition.segment_id": lambda m, t: ("POST", "/segments", {
        "name": "in theirs", "definition": {"root": {"type": "segment", "segment_id": t.segment}}}),
    "segment.preview.segment_id": lambda m, t: ("POST", "/segments/preview", {
        "definition": {"root": {"type": "segment", "segment_id": t.segment}}}),
    "tag_rule.segment_id": lambda m, t: ("POST", "/tag-rules", {"segment_id": t.segment, "tag": "x"}),
    "offer.eligibility.segment_id": lambda m, t: ("POST", "/offers", {
        "key": "elig", "name": "Elig", "kind": "gift", "eligibility": {"type": "segment", "segment_id": t.segment}}),
    # journeys
    "journey.campaign_id": lambda m, t: ("POST", "/journeys", {"name": "x", "definition": _journey(),
                                                               "campaign_id": t.campaign}),
    "journey.trigger.segment_id": lambda m, t: ("POST", "/journeys", {"name": "x", "definition": _journey(
        {"type": "segment_entered", "segment_id": t.segment})}),
    "journey.send.template_id": lambda m, t: ("POST", "/journeys", {"name": "x", "definition": _journey(
        a={"type": "send", "channel": "inapp", "template_id": t.template})}),
    "journey.send.topic_id": lambda m, t: ("POST", "/journeys", {"name": "x", "definition": _journey(
        a={"type": "send", "channel": "inapp", "template_id": m.template, "topic_id": t.topic})}),
    "journey.condition.segment_id": lambda m, t: ("POST", "/journeys", {"name": "x", "definition": _journey(
        a={"type": "condition", "condition": {"type": "segment", "segment_id": t.segment}})}),
    "journey.assign_offer.offer_keys": lambda m, t: ("POST", "/journeys", {"name": "x", "definition": _journey(
        a={"type": "assign_offer", "offer_keys": [t.offer_key]})}),
    "journey.update.campaign_id": lambda m, t: ("PATCH", f"/journeys/{m.journey}", {"campaign_id": t.campaign}),
    "journey.enrollment.contact_id": lambda m, t: ("POST", f"/journeys/{m.journey}/enrollments", {"contact_id": t.contact}),
    "journey.simulate.contact_id": lambda m, t: ("POST", f"/journeys/{m.journey}/simulate", {"contact_id": t.contact}),
    # campaigns
    "campaign.segment_id": lambda m, t: ("POST", "/campaigns", {"name": "c", "segment_id": t.segment}),
    "campaign.offer_id": lambda m, t: ("POST", "/campaigns", {"name": "c", "offer_id": t.offer}),
    "campaign.template_ids": lambda m, t: ("POST", "/campaigns", {"name": "c", "template_ids": [t.template]}),
    "campaign.update.segment_id": lambda m, t: ("PATCH", f"/campaigns/{m.campaign}", {"segment_id": t.segment}),
    "broadcast.campaign_id": lambda m, t: ("POST", "/broadcasts", {
        "name": "b", "campaign_id": t.campaign, "segment_id": m.segment, "channel": "inapp", "template_id": m.template}),
    "broadcast.segment_id": lambda m, t: ("POST", "/broadcasts", {
        "name": "b", "segment_id": t.segment, "channel": "inapp", "template_id": m.template}),
    "broadcast.template_id": lambda m, t: ("POST", "/broadcasts", {
        "name": "b", "segment_id": m.segment, "channel": "inapp", "template_id": t.template}),
    "broadcast.topic_id": lambda m, t: ("POST", "/broadcasts", {
        "name": "b", "segment_id": m.segment, "channel": "inapp", "template_id": m.template, "topic_id": t.topic}),
    "broadcast.variant.template_id": lambda m, t: ("POST", "/broadcasts", {
        "name": "b", "segment_id": m.segment, "channel": "inapp", "experiment": {
            "variants": [{"name": "a", "template_id": m.template, "weight": 1},
                         {"name": "b", "template_id": t.template, "weight": 1}],
            "metric": "open", "window_hours": 4, "test_percent": 20}}),
    "broadcast.variant.segment_id": lambda m, t: ("POST", "/broadcasts", {
        "name": "b", "channel": "inapp", "experiment": {
            "variants": [{"name": "a", "template_id": m.template, "segment_id": m.segment},
                         {"name": "b", "template_id": m.template, "segment_id": t.segment2}],
            "metric": "open"}}),
    "broadcast.variant.offer_id": lambda m, t: ("POST", "/broadcasts", {
        "name": "b", "segment_id": m.segment, "channel": "inapp", "experiment": {
            "variants": [{"name": "a", "template_id": m.template, "weight": 1},
                         {"name": "b", "template_id": m.template, "offer_id": t.offer, "weight": 1}],
            "metric": "open", "window_hours": 4, "test_percent": 20}}),
    # offers
    "offer.assign.contact_id": lambda m, t: ("POST", f"/offers/{m.offer}/assign", {"contact_id": t.contact}),
    # forms
    "form.consent.topic_id": lambda m, t: ("POST", "/forms", {
        "key": "f2", "name": "F", "fields": [{"name": "email", "label": "E", "type": "email", "required": True}],
        "consent": [{"topic_id": t.topic, "label": "News"}]}),
    "landing_page.template_id": lambda m, t: ("POST", "/landing-pages", {
        "slug": "lp", "title": "LP", "template_id": t.email_template}),
    "landing_page.form_id": lambda m, t: ("POST", "/landing-pages", {
        "slug": "lp", "title": "LP", "template_id": m.email_template, "form_id": t.form}),
    # segment membership
    "segment.members.contact_ids": lambda m, t: ("POST", f"/segments/{m.static_list}/members", {"contact_ids": [t.contact]}),
}  # fmt: skip

COUNTED = [message, subscription_topic, segment, journey, enrollment, campaign, broadcast, form, landing_page]


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in COUNTED}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_reference_to_another_workspace_is_refused(
    case: str, api: Api, engine: Engine, mine: Objects, theirs: Objects
) -> None:
    method, path, body = CASES[case](mine, theirs)
    before = _counts(engine)
    r = api.http.request(method, "/api/v1" + path, json=body, headers={"Authorization": f"Bearer {api.key}"})
    assert r.status_code in (404, 422), (case, r.status_code, r.text)
    assert set(r.json()) == {"code", "message"}
    assert _counts(engine) == before, f"{case}: something was written"


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_same_reference_to_ones_own_object_is_accepted(
    case: str, api: Api, engine: Engine, mine: Objects, theirs: Objects
) -> None:
    """The control: with the caller's own ids, each request of the table is valid — so a
    refusal above is about ownership, not a malformed body."""
    method, path, body = CASES[case](mine, mine)
    r = api.http.request(method, "/api/v1" + path, json=body, headers={"Authorization": f"Bearer {api.key}"})
    assert r.status_code < 300, (case, r.status_code, r.text)
