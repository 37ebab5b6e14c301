"""Experiment variants that differ by more than their template: the channel (email against
SMS), an offer (each recipient's own coupon code in the message), or the audience (the same
content for two segments, measured side by side)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from kairos.campaigns.experiments import assign_variant, in_holdout, parse_experiment
from kairos.campaigns.tables import broadcast_recipient
from kairos.clock import FixedClock
from kairos.messaging.tables import message
from kairos.messaging.tracking import Outcome, record
from kairos.offers.tables import offer_assignment
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template, make_contact
from tests.messaging.fake_providers import TwilioFake

SID = "AC" + "7" * 32


@pytest.fixture
def twilio(api: Api) -> Iterator[TwilioFake]:
    fake = TwilioFake(SID, "tok")
    r = api.post("/channels", {"name": "sms", "provider": "twilio", "secrets": {"auth_token": "tok"},
                               "settings": {"account_sid": SID, "from_number": "+15005550006", "base_url": fake.url}})  # fmt: skip
    assert r.status_code == 201, r.text
    yield fake
    fake.stop()


def people(api: Api, count: int, tags: list[str], prefix: str = "p") -> dict[int, str]:
    """Contact id → email, with a phone each and these tags."""
    out = {}
    for i in range(count):
        address = f"{prefix}{i}@example.com"
        cid = make_contact(api, email=address, phone=f"+1212555{i:04d}", tags=tags)
        out[cid] = address
    return out


def tag_segment(api: Api, tag: str) -> int:
    r = api.post("/segments", {"name": tag, "definition": {"root": {"type": "tag", "tag": tag}}})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def sms_template(api: Api, text: str) -> int:
    r = api.post("/templates", {"name": f"sms-{text[:10]}", "channel": "sms", "fields": {"text": text}})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def recipients(engine: Engine, bid: int) -> dict[int, tuple[str | None, Any]]:
    """Contact id → (variant, its message row or None)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(broadcast_recipient.c.contact_id, broadcast_recipient.c.variant, message)
            .outerjoin(message, message.c.id == broadcast_recipient.c.message_id)
            .where(broadcast_recipient.c.broadcast_id == bid)
        ).all()
    return {r[0]: (r[1], r if r.id is not None else None) for r in rows}


def test_a_variant_on_another_channel_goes_out_there_and_is_reported_there(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], twilio: TwilioFake, worker: Worker,
    engine: Engine,
) -> None:  # fmt: skip
    contacts = people(api, 40, ["fans"])
    seg = tag_segment(api, "fans")
    worker.run_once()
    campaign = api.post("/campaigns", {"name": "Mail or text", "costs": {"email": 0.001, "sms": 0.05}}).json()
    assert api.post(f"/campaigns/{campaign['id']}/launch").status_code == 200
    mail = email_template(api, "mail", subject="The sale starts")
    text = sms_template(api, "The sale starts, {{ contact.email }}")
    experiment = {"variants": [{"name": "mail", "template_id": mail, "weight": 1},
                               {"name": "text", "template_id": text, "weight": 1, "channel": "sms"}],
                  "test_percent": 100}  # fmt: skip
    r = api.post("/broadcasts", {"name": "channels", "channel": "email", "segment_id": seg,
                                 "campaign_id": campaign["id"], "experiment": experiment})  # fmt: skip
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    assert api.post(f"/broadcasts/{bid}/schedule").status_code == 200
    worker.run_once()

    got = recipients(engine, bid)
    by_variant = {v: {cid for cid, (variant, _) in got.items() if variant == v} for v in ("mail", "text")}
    assert len(by_variant["mail"]) >= 5 and len(by_variant["text"]) >= 5
    assert by_variant["mail"] | by_variant["text"] == set(contacts)
    assert {cid: m.channel for cid, (_, m) in got.items()} == {
        cid: "email" if cid in by_variant["mail"] else "sms" for cid in contacts
    }
    assert {m.template_id for cid, (_, m) in got.items() if cid in by_variant["text"]} == {text}
    # the mail variant by SMTP, the text variant by Twilio, each to its own recipients
    assert sorted(r.rcpt_tos[0] for r in smtp.recorder.received) == sorted(
        contacts[cid] for cid in by_variant["mail"]
    )
    sms = [req.form() for req in twilio.requests]
    assert sorted(f["Body"] for f in sms) == sorted(
        f"The sale starts, {contacts[c]}" for c in by_variant["text"]
    )

    report = api.get(f"/reports/broadcasts/{bid}").json()
    channels = {row["channel"]: row for row in report["by_channel"]}
    assert (channels["email"]["sent"], channels["sms"]["sent"]) == (
        len(by_variant["mail"]),
        len(by_variant["text"]),
    )
    assert channels["sms"]["cost"] == pytest.approx(0.05 * len(by_variant["text"]))
    assert channels["email"]["cost"] == pytest.approx(0.001 * len(by_variant["mail"]))
    variants = {row["variant"]: row for row in report["by_variant"]}
    assert {v: (variants[v]["targeted"], variants[v]["sent"]) for v in ("mail", "text")} == {
        v: (len(by_variant[v]), len(by_variant[v])) for v in ("mail", "text")
    }


def test_an_offer_variant_gives_each_recipient_its_own_code_once(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, engine: Engine,
    clock: FixedClock,
) -> None:  # fmt: skip
    vips = people(api, 24, ["shoppers", "vip"])
    others = people(api, 8, ["shoppers"], prefix="o")  # the offer is for VIPs only
    contacts = {**vips, **others}
    seg = tag_segment(api, "shoppers")
    worker.run_once()
    pool = api.post("/offers", {"key": "shoes-10", "name": "10% off shoes", "kind": "discount_percent", "value": 10,
                                "coupon_mode": "pool", "eligibility": {"type": "tag", "tag": "vip"}}).json()  # fmt: skip
    codes = [f"SHOE-{i:03d}" for i in range(40)]
    assert api.post(f"/offers/{pool['id']}/codes/import", {"codes": codes}).status_code == 201
    coupon = email_template(api, "coupon", subject="Your code {{ offer.code }}",
                            body="<p>{{ offer.value }}% off with {{ offer.code }}</p>")  # fmt: skip
    plain = email_template(api, "plain", subject="Our shoes")
    experiment = {"variants": [{"name": "coupon", "template_id": coupon, "weight": 1, "offer_id": pool["id"]},
                               {"name": "plain", "template_id": plain, "weight": 1}], "test_percent": 100}  # fmt: skip
    r = api.post(
        "/broadcasts", {"name": "shoes", "channel": "email", "segment_id": seg, "experiment": experiment}
    )
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    # a VIP of the coupon variant already holds a code (a journey gave it): it gets that one again
    exp = parse_experiment(experiment)
    holder = next(cid for cid in vips if assign_variant(exp, bid, cid) == "coupon")
    held = api.post(f"/offers/{pool['id']}/assign", {"contact_id": holder}).json()["code"]
    assert api.post(f"/broadcasts/{bid}/schedule").status_code == 200
    clock.advance(timedelta(minutes=1))
    worker.run_once()

    got = recipients(engine, bid)
    group = {v: {cid for cid, (variant, _) in got.items() if variant == v} for v in ("coupon", "plain")}
    assert len(group["coupon"] & set(others)) >= 1 and len(group["coupon"] & set(vips)) >= 5
    assert len(group["plain"]) >= 5
    with engine.connect() as conn:
        assigned = {cid: (code, n) for cid, code, n in conn.execute(
            select(offer_assignment.c.contact_id, func.max(offer_assignment.c.code), func.count())
            .where(offer_assignment.c.offer_id == pool["id"]).group_by(offer_assignment.c.contact_id))}  # fmt: skip
    # the coupon variant's VIPs got it exactly once, nobody else did; the holder kept its code
    assert set(assigned) == group["coupon"] & set(vips)
    assert all(n == 1 for _, n in assigned.values()) and assigned[holder][0] == held
    assert len({code for code, _ in assigned.values()}) == len(assigned)
    # each one's email shows its own code (subject and body)
    mails = {r.rcpt_tos[0]: r.message for r in smtp.recorder.received}
    for cid, (code, _) in assigned.items():
        assert mails[contacts[cid]]["Subject"] == f"Your code {code}"
        assert f"10% off with {code}" in mails[contacts[cid]].get_body(("html",)).get_content()
        assert got[cid][1].data["offer"] == {"key": "shoes-10", "name": "10% off shoes", "description": None,
                                             "kind": "discount_percent", "value": 10.0, "currency": None,
                                             "ends_at": None, "code": code}  # fmt: skip
    # the plain variant's emails carry no offer; non-VIPs of the coupon variant get no message
    assert {mails[contacts[cid]]["Subject"] for cid in group["plain"]} == {"Our shoes"}
    refused = group["coupon"] & set(others)
    assert {(got[cid][1].status, got[cid][1].reason) for cid in refused} == {("skipped", "no_offer")}
    assert not refused & {cid for cid, a in contacts.items() if a in mails}
    assert len(mails) == len(contacts) - len(refused)
    assert api.get(f"/offers/{pool['id']}").json()["codes"]["assigned"] == len(assigned)

    # the experiment ends: nothing is queued nor assigned again
    clock.advance(timedelta(hours=5))
    worker.run_once()
    assert api.get(f"/broadcasts/{bid}").json()["status"] == "queued"
    assert api.get(f"/offers/{pool['id']}").json()["given"] == len(assigned)
    assert len(smtp.recorder.received) == len(mails)


def test_the_same_content_for_two_audiences_is_measured_per_audience(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, engine: Engine,
    clock: FixedClock, workspace: CreatedWorkspace,
) -> None:  # fmt: skip
    students = people(api, 60, ["students"], prefix="s")
    parents = people(api, 60, ["parents"], prefix="p")
    both = people(api, 20, ["students", "parents"], prefix="b")  # in both: the first variant listed
    outsiders = people(api, 5, ["teachers"], prefix="t")
    young, old = tag_segment(api, "students"), tag_segment(api, "parents")
    worker.run_once()
    tid = email_template(api, "sale", subject="Back to school")
    experiment = {"variants": [{"name": "young", "template_id": tid, "segment_id": young},
                               {"name": "old", "template_id": tid, "segment_id": old}],
                  "holdout_percent": 10, "metric": "open", "window_hours": 4}  # fmt: skip
    r = api.post("/broadcasts", {"name": "audiences", "channel": "email", "experiment": experiment})
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    assert r.json()["segment_id"] is None
    assert api.post(f"/broadcasts/{bid}/schedule").status_code == 200
    worker.run_once()

    exp = parse_experiment(experiment)
    expected = {cid: "holdout" if in_holdout(exp, bid, cid) else "young" if cid in students or cid in both else "old"
                for cid in {**students, **parents, **both}}  # fmt: skip
    got = recipients(engine, bid)
    assert {cid: variant for cid, (variant, _) in got.items()} == expected
    assert not set(outsiders) & set(got)
    count = {v: sum(1 for x in expected.values() if x == v) for v in ("young", "old", "holdout")}
    assert count["holdout"] >= 3 and count["young"] > 60 and count["old"] > 40
    state = api.get(f"/broadcasts/{bid}").json()
    assert (state["status"], state["audience"]) == ("testing", 140)
    contacts = {**students, **parents, **both}
    assert sorted(r.rcpt_tos[0] for r in smtp.recorder.received) == sorted(
        contacts[cid] for cid, v in expected.items() if v != "holdout"
    )

    # the young open 10 of theirs, the old 30 of theirs
    clock.advance(timedelta(hours=1))
    opened = {"young": 10, "old": 30}
    with engine.begin() as conn:
        for v, n in opened.items():
            mids = sorted(m.id for _, (variant, m) in got.items() if variant == v)[:n]
            record(conn, [Outcome(mid, "opened") for mid in mids], clock.now())
    clock.advance(timedelta(hours=3, minutes=1))
    worker.run_once()
    state = api.get(f"/broadcasts/{bid}").json()
    assert (state["status"], state["winner"]) == ("queued", None)  # no winner across audiences
    results = state["results"]
    assert results["confidence"] is None
    assert {v: (results["variants"][v]["sent"], results["variants"][v]["successes"]) for v in opened} == {
        v: (count[v], opened[v]) for v in opened
    }
    assert results["holdout"]["holdout"]["size"] == count["holdout"]
    assert len(smtp.recorder.received) == count["young"] + count["old"]  # nobody got a second one

    report = api.get(f"/reports/broadcasts/{bid}").json()
    rows = {row["variant"]: row for row in report["by_variant"]}
    assert {v: (rows[v]["targeted"], rows[v]["sent"], rows[v]["opened"]) for v in rows} == {
        "young": (count["young"], count["young"], 10), "old": (count["old"], count["old"], 30),
        "holdout": (count["holdout"], 0, 0)}  # fmt: skip
    assert (report["experiment"]["state"], report["experiment"]["winner"]) == ("measured", None)


def test_the_broadcast_segment_narrows_the_audiences(
    api: Api, email_channel: dict[str, Any], worker: Worker, engine: Engine
) -> None:
    a = people(api, 6, ["a", "subscribed"], prefix="a")
    people(api, 6, ["a"], prefix="x")  # in a, but not subscribed
    b = people(api, 6, ["b", "subscribed"], prefix="b")
    segs = {t: tag_segment(api, t) for t in ("a", "b", "subscribed")}
    worker.run_once()
    tid = email_template(api)
    experiment = {"variants": [{"name": "A", "template_id": tid, "segment_id": segs["a"]},
                               {"name": "B", "template_id": tid, "segment_id": segs["b"]}]}  # fmt: skip
    r = api.post("/broadcasts", {"name": "n", "channel": "email", "segment_id": segs["subscribed"],
                                 "experiment": experiment})  # fmt: skip
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    api.post(f"/broadcasts/{bid}/schedule")
    worker.run_once()
    assert {cid: v for cid, (v, _) in recipients(engine, bid).items()} == {
        **dict.fromkeys(a, "A"), **dict.fromkeys(b, "B")}  # fmt: skip


def test_bad_variants_are_refused(api: Api, email_channel: dict[str, Any]) -> None:
    seg = tag_segment(api, "x")
    other = tag_segment(api, "y")
    mail, text = email_template(api), sms_template(api, "Hi")
    email_topic = api.post("/topics", {"key": "news", "name": "News", "channel": "email"}).json()["id"]
    base = {"name": "b", "channel": "email", "segment_id": seg}

    def two(a: dict[str, Any], b: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"variants": [{"name": "A", "template_id": mail, "weight": 1} | a,
                             {"name": "B", "template_id": mail, "weight": 1} | b], **extra}  # fmt: skip

    audiences = {"weight": None, "segment_id": seg}
    for body, code, why in (
        ({**base, "experiment": two({}, {"template_id": text})}, "template_channel_mismatch", "is for sms, not email"),
        ({**base, "experiment": two({}, {"channel": "sms"})}, "template_channel_mismatch", "is for email, not sms"),
        ({**base, "experiment": two({}, {"channel": "fax"})}, "invalid_experiment", "channel is one of"),
        ({**base, "topic_id": email_topic, "experiment": two({}, {"template_id": text, "channel": "sms"})},
         "topic_channel_mismatch", "not sms"),
        ({**base, "experiment": two({}, {"offer_id": 999})}, "unknown_offer", "no offer 999"),
        ({**base, "experiment": two(audiences, {})}, "invalid_experiment", "every variant a segment_id"),
        ({**base, "experiment": two({"segment_id": seg}, {"segment_id": other})}, "invalid_experiment",
         "give no weight or percent"),
        ({**base, "experiment": two(audiences, audiences)}, "invalid_experiment", "must differ"),
        ({**base, "experiment": two(audiences, {"weight": None, "segment_id": other}, test_percent=50)},
         "invalid_experiment", "test_percent is 100"),
        ({**base, "experiment": two(audiences, {"weight": None, "segment_id": 999})}, "unknown_segment",
         "no segment 999"),
        ({"name": "b", "channel": "email", "experiment": two({}, {})}, "unknown_segment", "no segment None"),
    ):  # fmt: skip
        r = api.post("/broadcasts", body)
        assert (r.status_code, r.json()["code"]) == (422, code), r.json()
        assert why in r.json()["message"], r.json()
    ok = api.post("/broadcasts", {"name": "ok", "channel": "email",
                                  "experiment": two(audiences, {"weight": None, "segment_id": other})})  # fmt: skip
    assert ok.status_code == 201, ok.text
