"""Acquisition source: first and last touch from page calls and form submissions, the
channel grouping, merges, the contact's ``acquisition``, segment conditions and scoring
condition rules on it (docs/leads.md, "Acquisition source")."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kairos.clock import FixedClock
from kairos.contacts.acquisition import channel_of, touch_of
from kairos.contacts.tables import contact, contact_acquisition
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.segments.compiler import evaluate, parse_definition
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api

_seq = iter(range(1_000_000))
SITE = "https://acme.example"


def page(
    engine: Engine,
    ws: CreatedWorkspace,
    at: datetime,
    *,
    anon: str = "anon-1",
    url: str = SITE + "/",
    referrer: str | None = None,
    campaign: dict[str, str] | None = None,
    user: str | None = None,
) -> None:
    """A page call as analytics.js sends it (``context.page``, ``context.campaign``)."""
    ctx: dict[str, Any] = {"page": {"url": url, **({"referrer": referrer} if referrer else {})}}
    if campaign:
        ctx["campaign"] = campaign
    msg = {"type": "page", "anonymousId": anon, "properties": {"url": url}, "context": ctx,
           "timestamp": at.isoformat(), "messageId": f"p-{next(_seq)}",
           **({"userId": user} if user else {})}  # fmt: skip
    with engine.begin() as conn:
        ingest(conn, ws.id, [parse_message(msg, None, at)], at)


def identify(engine: Engine, ws: CreatedWorkspace, at: datetime, anon: str, email: str) -> None:
    msg = {
        "type": "identify",
        "anonymousId": anon,
        "traits": {"email": email},
        "messageId": f"i-{next(_seq)}",
    }
    with engine.begin() as conn:
        ingest(conn, ws.id, [parse_message(msg, None, at)], at)


def contact_of(engine: Engine, anon: str = "anon-1") -> int:
    from kairos.contacts.service import find_contact_id

    with engine.connect() as conn:
        found = find_contact_id(conn, _ws(conn), "anonymous_id", anon)
    assert found is not None
    return found


def _ws(conn: Any) -> int:
    return int(conn.execute(select(contact.c.workspace_id).limit(1)).scalar_one())


def acquisition(api: Api, contact_id: int) -> Any:
    r = api.get(f"/contacts/{contact_id}")
    assert r.status_code == 200, r.text
    return r.json()["acquisition"]


@pytest.mark.parametrize(
    ("url", "referrer", "channel", "source", "medium"),
    [
        (
            SITE + "/?utm_source=google&utm_medium=cpc&utm_campaign=spring",
            None,
            "paid_search",
            "google",
            "cpc",
        ),
        (SITE + "/?gclid=abc", None, "paid_search", "google", "cpc"),
        (SITE + "/?msclkid=abc", None, "paid_search", "bing", "cpc"),
        (SITE + "/?fbclid=abc", None, "paid_social", "facebook", "paid_social"),
        (
            SITE + "/?utm_source=facebook&utm_medium=paid_social",
            None,
            "paid_social",
            "facebook",
            "paid_social",
        ),
        (SITE + "/?utm_source=newsletter&utm_medium=email", None, "email", "newsletter", "email"),
        (SITE + "/?utm_source=partner&utm_medium=affiliate", None, "affiliates", "partner", "affiliate"),
        (SITE + "/?utm_source=gdn&utm_medium=display", None, "display", "gdn", "display"),
        (SITE + "/?utm_source=weird&utm_medium=thing", None, "other", "weird", "thing"),
        (SITE + "/", "https://www.google.co.uk/", "organic_search", "google", "organic"),
        (SITE + "/", "https://www.baidu.com/s?wd=kairos", "organic_search", "baidu", "organic"),
        (SITE + "/", "https://duckduckgo.com/", "organic_search", "duckduckgo", "organic"),
        (SITE + "/", "https://l.facebook.com/", "organic_social", "facebook", "social"),
        (SITE + "/", "https://t.co/xyz", "organic_social", "twitter", "social"),
        (SITE + "/", "https://www.zhihu.com/question/1", "organic_social", "zhihu", "social"),
        (SITE + "/", "https://blog.example.org/post", "referral", "blog.example.org", "referral"),
        (SITE + "/", "https://mail.google.com/", "referral", "mail.google.com", "referral"),
        (SITE + "/", None, "direct", "(direct)", "(none)"),
        (SITE + "/pricing", SITE + "/", "direct", "(direct)", "(none)"),  # inside the site
    ],
)
def test_channel_grouping(url: str, referrer: str | None, channel: str, source: str, medium: str) -> None:
    t = touch_of(datetime(2026, 1, 1), url, referrer)
    assert (t.channel, t.source, t.medium) == (channel, source, medium)


def test_channel_rules_by_source_and_medium() -> None:
    assert channel_of("Google", "CPC") == "paid_search"
    assert channel_of("linkedin.com", "ppc") == "paid_social"
    assert channel_of("whatever", "paid") == "paid_other"
    assert channel_of("whatever", "social") == "organic_social"
    assert channel_of("bing", None) == "organic_search"
    assert channel_of("ref.example", "referral") == "referral"
    assert channel_of("sms", "text") == "sms"
    assert channel_of(None, None) == "direct"


def test_first_touch_stays_and_last_touch_follows_non_direct_visits(
    api: Api, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    t0 = clock.now()
    landing = SITE + "/lp?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=crm&utm_content=ad1"
    page(engine, workspace, t0, url=landing, referrer="https://www.google.com/",
         campaign={"source": "google", "medium": "cpc", "name": "spring", "term": "crm", "content": "ad1"})  # fmt: skip
    cid = contact_of(engine)
    first = acquisition(api, cid)
    assert first["first"] == first["last"]
    assert first["first"] == {
        "at": first["first"]["at"], "channel": "paid_search", "source": "google", "medium": "cpc",
        "campaign": "spring", "term": "crm", "content": "ad1", "referrer": "https://www.google.com/",
        "landing_url": landing,
    }  # fmt: skip
    assert datetime.fromisoformat(first["first"]["at"]) == t0

    # a second visit from a newsletter: the last touch only
    page(engine, workspace, t0 + timedelta(days=2), url=SITE + "/blog?utm_source=newsletter&utm_medium=email")
    second = acquisition(api, cid)
    assert second["first"] == first["first"]
    assert (second["last"]["channel"], second["last"]["source"], second["last"]["campaign"]) == (
        "email", "newsletter", None,
    )  # fmt: skip
    assert datetime.fromisoformat(second["last"]["at"]) == t0 + timedelta(days=2)

    # a direct visit and a page inside the site change nothing (last non-direct click)
    page(engine, workspace, t0 + timedelta(days=3), url=SITE + "/")
    page(engine, workspace, t0 + timedelta(days=3, minutes=1), url=SITE + "/pricing", referrer=SITE + "/")
    assert acquisition(api, cid) == second

    # an organic search visit becomes the last touch
    page(engine, workspace, t0 + timedelta(days=4), url=SITE + "/", referrer="https://www.bing.com/")
    last = acquisition(api, cid)["last"]
    assert (last["channel"], last["source"], last["medium"], last["referrer"]) == (
        "organic_search", "bing", "organic", "https://www.bing.com/",
    )  # fmt: skip


def test_a_direct_first_visit_then_a_referral(
    api: Api, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    t0 = clock.now()
    page(engine, workspace, t0, anon="d")
    cid = contact_of(engine, "d")
    got = acquisition(api, cid)
    assert got["first"]["channel"] == got["last"]["channel"] == "direct"
    assert (got["first"]["source"], got["first"]["medium"], got["first"]["referrer"]) == (
        "(direct)",
        "(none)",
        None,
    )
    page(
        engine,
        workspace,
        t0 + timedelta(hours=1),
        anon="d",
        referrer="https://news.ycombinator.com/item?id=1",
    )
    got = acquisition(api, cid)
    assert got["first"]["channel"] == "direct"
    assert (got["last"]["channel"], got["last"]["source"]) == ("referral", "news.ycombinator.com")


def test_touches_in_one_batch_and_out_of_order(
    api: Api, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    """Several visits in one batch: the earliest is the first touch, the latest non-direct the
    last; a visit arriving late with an earlier timestamp becomes the first touch."""
    t0 = clock.now()
    msgs = [
        {"type": "page", "anonymousId": "b", "messageId": f"b-{i}", "timestamp": (t0 + timedelta(hours=h)).isoformat(),
         "properties": {"url": url, **({"referrer": ref} if ref else {})}}
        for i, (h, url, ref) in enumerate([
            (2, SITE + "/?utm_source=linkedin&utm_medium=paid_social", None),
            (1, SITE + "/", "https://www.google.com/"),
            (3, SITE + "/", None),
        ])
    ]  # fmt: skip
    with engine.begin() as conn:
        ingest(conn, workspace.id, [parse_message(m, None, t0) for m in msgs], t0)
    cid = contact_of(engine, "b")
    got = acquisition(api, cid)
    assert got["first"]["channel"] == "organic_search"
    assert (got["last"]["channel"], got["last"]["source"]) == ("paid_social", "linkedin")
    page(
        engine, workspace, t0 - timedelta(days=1), anon="b", url=SITE + "/?utm_source=weibo&utm_medium=social"
    )
    got = acquisition(api, cid)
    assert (got["first"]["channel"], got["first"]["source"]) == ("organic_social", "weibo")
    assert got["last"]["source"] == "linkedin"  # the late visit is older than the last touch


def test_a_contact_never_seen_on_a_page_has_none(api: Api) -> None:
    r = api.post("/contacts", {"email": "imported@example.com"})
    assert r.status_code == 201, r.text
    assert acquisition(api, r.json()["id"]) is None


def test_merge_keeps_the_earliest_first_and_the_latest_last_touch(
    api: Api, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    t0 = clock.now()
    # the person known by email, first seen from an ad last week
    page(
        engine,
        workspace,
        t0 - timedelta(days=7),
        anon="desk",
        url=SITE + "/?utm_source=google&utm_medium=cpc",
    )
    identify(engine, workspace, t0 - timedelta(days=7), "desk", "ada@example.com")
    # on the phone, anonymous: a newsletter click today
    page(engine, workspace, t0, anon="phone", url=SITE + "/?utm_source=newsletter&utm_medium=email")
    desk, phone = contact_of(engine, "desk"), contact_of(engine, "phone")
    assert desk != phone
    identify(engine, workspace, t0 + timedelta(minutes=1), "phone", "ada@example.com")  # the merge
    survivor = contact_of(engine, "phone")
    assert survivor == contact_of(engine, "desk")
    got = acquisition(api, survivor)
    assert (got["first"]["channel"], got["first"]["source"]) == ("paid_search", "google")
    assert (got["last"]["channel"], got["last"]["source"]) == ("email", "newsletter")
    with engine.connect() as conn:
        rows = conn.execute(select(contact_acquisition.c.contact_id)).scalars().all()
    assert rows == [survivor]  # the merged-away contact's row is gone


FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def test_form_submission_with_utm_hidden_fields(
    api: Api, client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    r = api.post("/forms", {
        "key": "demo", "name": "Book a demo",
        "fields": [{"name": "email", "label": "Email", "type": "email", "required": True},
                   {"name": "utm_source", "label": "utm_source", "type": "hidden"},
                   {"name": "utm_medium", "label": "utm_medium", "type": "hidden"},
                   {"name": "utm_campaign", "label": "utm_campaign", "type": "hidden"}],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    form = r.json()
    shown = client.get(
        form["url"],
        params={"utm_source": "baidu", "utm_medium": "cpc", "utm_campaign": "exam-2027"},
        headers={"Referer": "https://www.baidu.com/s?wd=mba"},
    )
    assert shown.status_code == 200, shown.text
    hidden = dict(re.findall(r"type='hidden' name='([^']+)' value='([^']*)'", shown.text))
    assert hidden["kairos_referrer"] == "https://www.baidu.com/s?wd=mba"
    clock.advance(timedelta(seconds=5))
    body = httpx.QueryParams({**hidden, "email": "li@example.com"})
    posted = client.post(form["url"], content=str(body), headers=FORM_HEADERS, follow_redirects=False)
    assert posted.status_code == 200, posted.text
    cid = api.get("/contacts", params={"email": "li@example.com"}).json()["data"][0]["id"]
    got = acquisition(api, cid)
    assert got["first"] == got["last"]
    touch = got["first"]
    assert (touch["channel"], touch["source"], touch["medium"], touch["campaign"]) == (
        "paid_search", "baidu", "cpc", "exam-2027",
    )  # fmt: skip
    assert touch["referrer"] == "https://www.baidu.com/s?wd=mba"
    assert (
        touch["landing_url"].startswith("http://testserver/f/")
        and "utm_campaign=exam-2027" in touch["landing_url"]
    )


def test_a_form_embedded_in_a_page_takes_that_page_as_its_landing_url(
    api: Api, client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    form = api.post("/forms", {
        "key": "news", "name": "Newsletter",
        "fields": [{"name": "email", "label": "Email", "type": "email", "required": True}],
    }).json()  # fmt: skip
    shown = client.get(form["url"], headers={"Referer": SITE + "/blog/post", "Sec-Fetch-Dest": "iframe"})
    hidden = dict(re.findall(r"type='hidden' name='([^']+)' value='([^']*)'", shown.text))
    assert hidden["kairos_page_url"] == SITE + "/blog/post" and "kairos_referrer" not in hidden
    clock.advance(timedelta(seconds=5))
    body = httpx.QueryParams({**hidden, "email": "bo@example.com"})
    assert client.post(form["url"], content=str(body), headers=FORM_HEADERS).status_code == 200
    cid = api.get("/contacts", params={"email": "bo@example.com"}).json()["data"][0]["id"]
    touch = acquisition(api, cid)["first"]
    assert (touch["channel"], touch["landing_url"], touch["referrer"]) == (
        "direct",
        SITE + "/blog/post",
        None,
    )


def test_segment_conditions_on_the_touches(
    api: Api, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    t0 = clock.now()
    page(
        engine, workspace, t0, anon="ad", url=SITE + "/?utm_source=google&utm_medium=cpc&utm_campaign=spring"
    )
    page(engine, workspace, t0, anon="seo", referrer="https://www.google.com/")
    page(
        engine, workspace, t0 + timedelta(days=1), anon="seo", url=SITE + "/?utm_source=google&utm_medium=cpc"
    )
    api.post("/contacts", {"email": "nobody@example.com"})
    ad, seo = contact_of(engine, "ad"), contact_of(engine, "seo")

    def members(condition: dict[str, Any]) -> set[int]:
        definition = parse_definition({"root": condition})
        with engine.connect() as conn:
            whole = evaluate(conn, workspace.id, definition, clock.now())
            some = evaluate(conn, workspace.id, definition, clock.now(), [ad, seo])
        assert some == whole & {ad, seo}
        return whole

    def attr(name: str, operator: str, value: Any = None) -> dict[str, Any]:
        return {"type": "attribute", "attribute": name, "operator": operator, "value": value}

    assert members(attr("acquisition.first.channel", "eq", "paid_search")) == {ad}
    assert members(attr("acquisition.last.channel", "eq", "paid_search")) == {ad, seo}
    assert members(attr("acquisition.first.campaign", "eq", "spring")) == {ad}
    assert members(attr("acquisition.last.source", "in", ["google", "bing"])) == {ad, seo}
    assert members(attr("acquisition.first.channel", "is_set")) == {ad, seo}
    assert members(attr("acquisition.first.at", "after", (t0 - timedelta(hours=1)).isoformat())) == {ad, seo}
    assert members({"type": "not", "condition": attr("acquisition.first.channel", "eq", "organic_search")}) == {
        ad, *(set(members(attr("email", "is_set"))))
    }  # fmt: skip

    r = api.post("/segments/preview", {"definition": {"root": attr("acquisition.first.medium", "eq", "cpc")}})
    assert r.status_code == 200, r.text
    seg = api.post(
        "/segments",
        {"name": "From ads", "definition": {"root": attr("acquisition.first.medium", "eq", "cpc")}},
    )
    assert seg.status_code == 201, seg.text
    why = api.get(f"/segments/{seg.json()['id']}/explain/{seo}")
    assert why.status_code == 200, why.text
    assert why.json()["matches"] is False
    assert 'acquisition.first.medium is \\"organic\\" (condition: equals \\"cpc\\")' in why.text
    bad = api.post(
        "/segments/preview", {"definition": {"root": attr("acquisition.first.colour", "eq", "red")}}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_attribute", bad.text
    reference = api.get("/segments/reference").json()
    assert {
        "name": "acquisition.first.channel",
        "type": "string",
        "source": "field",
        "label": None,
    } in reference["fields"]
    assert {"name": "acquisition.last.at", "type": "datetime", "source": "field", "label": None} in reference[
        "fields"
    ]


def test_scoring_condition_rule_on_the_first_touch(
    api: Api, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    r = api.post("/score-models", {"key": "fit", "name": "Fit"})
    assert r.status_code == 201, r.text
    model = r.json()["id"]
    condition = {
        "type": "attribute",
        "attribute": "acquisition.first.channel",
        "operator": "eq",
        "value": "paid_search",
    }
    r = api.post(f"/score-models/{model}/rules", {"name": "From paid search", "points": 15,
                                                  "rule": {"kind": "condition", "condition": condition}})  # fmt: skip
    assert r.status_code == 201, r.text
    Worker(engine, clock).run_once()  # the recompute the new rule queued
    page(engine, workspace, clock.now(), anon="p", url=SITE + "/?gclid=xyz")
    page(engine, workspace, clock.now(), anon="q", referrer="https://www.google.com/")
    Worker(engine, clock).run_once()
    scores = {}
    for anon in ("p", "q"):
        data = api.get(f"/contacts/{contact_of(engine, anon)}/scores").json()["data"]
        scores[anon] = next((s["score"] for s in data if s["model"]["key"] == "fit"), 0)
    assert scores == {"p": 15, "q": 0}


def test_a_new_last_touch_re_evaluates_segments_and_direct_visits_write_nothing(
    api: Api, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    t0 = clock.now()
    page(engine, workspace, t0, anon="r")
    cid = contact_of(engine, "r")
    condition = {
        "type": "attribute",
        "attribute": "acquisition.last.channel",
        "operator": "eq",
        "value": "email",
    }
    seg = api.post("/segments", {"name": "Back from email", "definition": {"root": condition}}).json()["id"]
    Worker(engine, clock).run_once()
    assert api.get(f"/segments/{seg}/members").json()["data"] == []

    def updated() -> Any:
        with engine.connect() as conn:
            return conn.execute(select(contact.c.updated_at).where(contact.c.id == cid)).scalar_one()

    before, touches = updated(), acquisition(api, cid)
    clock.advance(timedelta(hours=1))
    page(engine, workspace, clock.now(), anon="r", url=SITE + "/pricing")  # direct again
    assert (updated(), acquisition(api, cid)) == (before, touches)

    clock.advance(timedelta(hours=1))
    page(engine, workspace, clock.now(), anon="r", url=SITE + "/?utm_source=newsletter&utm_medium=email")
    assert updated() == clock.now()
    Worker(engine, clock).run_once()
    assert [m["id"] for m in api.get(f"/segments/{seg}/members").json()["data"]] == [cid]
