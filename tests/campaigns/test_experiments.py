"""Story 6: the same audience gets two subject lines, a holdout gets nothing; after the test
window the better one goes to everyone else, with its confidence and the lift over the
holdout — on simulated data where the true difference is known."""

from __future__ import annotations

import base64
import math
import random
from datetime import timedelta
from typing import Any

from sqlalchemy import BigInteger, Engine, func, insert, literal, select, union_all

from kairos.campaigns.experiments import (
    assign_variant,
    bucket,
    bucket_sql,
    mean_difference_interval,
    parse_experiment,
    pick_winner,
    student_t_sf,
    two_proportion_test,
    variant_sql,
    welch_test,
)
from kairos.campaigns.tables import broadcast_recipient
from kairos.clock import FixedClock
from kairos.contacts.tables import contact
from kairos.contacts.tags import add_tags
from kairos.events.ingest import InternalEvent, record_internal
from kairos.messaging.tables import message
from kairos.messaging.tracking import Outcome, record
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template

AUDIENCE = 2000


def test_the_better_subject_line_wins_and_goes_to_the_rest(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, clock: FixedClock,
    engine: Engine, workspace: CreatedWorkspace,
) -> None:  # fmt: skip
    now = clock.now()
    with engine.begin() as conn:
        conn.execute(insert(contact), [{"workspace_id": workspace.id, "email": f"s{i}@example.com", "external_id": f"s{i}",
                                        "traits": {}, "score": 0, "created_at": now, "updated_at": now}
                                       for i in range(AUDIENCE)])  # fmt: skip
        ids = list(conn.execute(select(contact.c.id).where(contact.c.workspace_id == workspace.id)).scalars())
        add_tags(conn, workspace.id, [(cid, "students") for cid in ids], now)
    seg = api.post(
        "/segments", {"name": "students", "definition": {"root": {"type": "tag", "tag": "students"}}}
    ).json()
    worker.run_once()
    a = email_template(api, "a", subject="Back to school")
    b = email_template(api, "b", subject="Your student discount inside")
    experiment = {"variants": [{"name": "A", "template_id": a, "weight": 1}, {"name": "B", "template_id": b, "weight": 1}],
                  "holdout_percent": 10, "test_percent": 20, "metric": "open", "window_hours": 4}  # fmt: skip
    r = api.post(
        "/broadcasts",
        {"name": "subjects", "channel": "email", "segment_id": seg["id"], "experiment": experiment},
    )
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    api.post(f"/broadcasts/{bid}/schedule")
    worker.run_once()
    state = api.get(f"/broadcasts/{bid}").json()
    assert state["status"] == "testing" and state["audience"] == AUDIENCE

    with engine.connect() as conn:
        groups = dict(conn.execute(select(broadcast_recipient.c.variant, func.count())
                                   .where(broadcast_recipient.c.broadcast_id == bid)
                                   .group_by(broadcast_recipient.c.variant)).all())  # fmt: skip
        sent = conn.execute(select(message.c.id, broadcast_recipient.c.variant, message.c.contact_id)
                            .join(broadcast_recipient, broadcast_recipient.c.message_id == message.c.id)
                            .where(broadcast_recipient.c.broadcast_id == bid)).all()  # fmt: skip
    # 10 % holdout, 20 % of the rest in the test (split evenly), the rest waits: ±4 sd
    assert abs(groups["holdout"] - 200) < 60 and abs(groups["A"] + groups["B"] - 360) < 80
    assert abs(groups["A"] - groups["B"]) < 80 and groups[None] == AUDIENCE - sum(
        v for k, v in groups.items() if k
    )
    assert len(smtp.recorder.received) == groups["A"] + groups["B"]
    # each message says which variant it carried
    assert {api.get(f"/messages/{mid}").json()["variant"] for mid, _, _ in sent[:20]} <= {"A", "B"}
    assert all(api.get(f"/messages/{mid}").json()["variant"] == v for mid, v, _ in sent[:5])

    # the truth: B is opened 45 % of the time, A 20 %; treated contacts buy 12 %, the holdout 4 %
    rng = random.Random(6)
    clock.advance(timedelta(hours=1))
    with engine.begin() as conn:
        record(conn, [Outcome(mid, "opened") for mid, variant, _ in sent
                      if rng.random() < (0.45 if variant == "B" else 0.20)], clock.now())  # fmt: skip
        holdout = list(conn.execute(select(broadcast_recipient.c.contact_id).where(
            broadcast_recipient.c.broadcast_id == bid, broadcast_recipient.c.variant == "holdout")).scalars())  # fmt: skip
        buyers = [cid for _, _, cid in sent if rng.random() < 0.12] + [
            cid for cid in holdout if rng.random() < 0.04
        ]
        record_internal(conn, workspace.id, [InternalEvent(cid, "Order Completed", {"revenue": 30}, clock.now(),
                                                           f"order-{cid}") for cid in buyers], clock.now())  # fmt: skip

    clock.advance(timedelta(hours=3, minutes=1))
    worker.run_once()
    state = api.get(f"/broadcasts/{bid}").json()
    assert state["winner"] == "B" and state["status"] == "queued"
    results = state["results"]
    assert results["confidence"] > 0.99
    assert results["variants"]["B"]["rate"] > results["variants"]["A"]["rate"]
    lift = results["holdout"]
    assert (
        lift["holdout"]["size"] == groups["holdout"] and lift["treated"]["size"] == groups["A"] + groups["B"]
    )
    assert lift["ci95"][0] < lift["lift"] < lift["ci95"][1]
    # everyone but the holdout got exactly one email; the remainder got B's subject
    received = smtp.recorder.received
    assert len(received) == AUDIENCE - groups["holdout"]
    later = received[groups["A"] + groups["B"] :]
    assert {m.message["Subject"] for m in later} == {"Your student discount inside"}
    assert len({m.rcpt_tos[0] for m in received}) == len(received)


def test_assignment_is_stable_and_follows_the_weights() -> None:
    exp = parse_experiment({"variants": [{"name": "A", "template_id": 1, "weight": 3},
                                         {"name": "B", "template_id": 2, "weight": 1}],
                            "holdout_percent": 20, "test_percent": 100})  # fmt: skip
    picks = [assign_variant(exp, 7, cid) for cid in range(20_000)]
    assert picks == [assign_variant(exp, 7, cid) for cid in range(20_000)]  # stable
    share = {k: picks.count(k) / len(picks) for k in ("holdout", "A", "B")}
    assert (
        abs(share["holdout"] - 0.20) < 0.015
        and abs(share["A"] - 0.60) < 0.015
        and abs(share["B"] - 0.20) < 0.015
    )
    assert None not in picks  # test_percent 100: no remainder
    # another broadcast draws its holdout afresh: about 20 % of this one's, not the same people
    held = {cid for cid, pick in enumerate(picks) if pick == "holdout"}
    again = {cid for cid in held if assign_variant(exp, 8, cid) == "holdout"}
    assert 0.15 < len(again) / len(held) < 0.25


def test_the_database_assigns_exactly_as_python_does(engine: Engine) -> None:
    exp = parse_experiment({"variants": [{"name": "A", "template_id": 1, "percent": 30},
                                         {"name": "B", "template_id": 2, "percent": 25},
                                         {"name": "C", "template_id": 3, "percent": 35}],
                            "holdout_percent": 10, "test_percent": 40})  # fmt: skip
    big = [2**31 - 2, 2**31 - 1, 2**31, 2**40 + 17, 9_007_199_254_740_993]
    ids = [*range(1, 3001), *big]
    count = select(literal(1, BigInteger).label("id")).cte("ids", recursive=True)
    count = count.union_all(select(count.c.id + 1).where(count.c.id < 3000))
    table = union_all(select(count.c.id), *(select(literal(i, BigInteger)) for i in big)).subquery("ids")
    for broadcast_id in (1, 977, 2**31 + 5):
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    table.c.id,
                    bucket_sql(broadcast_id, table.c.id),
                    variant_sql(exp, broadcast_id, table.c.id),
                )
            ).all()
        assert {i: (p, v) for i, p, v in rows} == {
            i: (bucket(broadcast_id, i), assign_variant(exp, broadcast_id, i)) for i in ids
        }
    assert {assign_variant(exp, 1, i) for i in ids} == {"holdout", "A", "B", "C", None}


def test_the_z_test_matches_the_textbook() -> None:
    z, p = two_proportion_test(60, 200, 40, 200)  # 30 % vs 20 %
    assert abs(z - 2.315) < 0.01 and abs(p - 0.0103) < 0.001
    assert two_proportion_test(0, 0, 1, 10) == (0.0, 1.0)


def test_bad_experiments_are_refused(api: Api, email_channel: dict[str, Any]) -> None:
    seg = api.post("/segments", {"name": "s", "definition": {"root": {"type": "tag", "tag": "x"}}}).json()
    tid = email_template(api)
    base = {"name": "b", "channel": "email", "segment_id": seg["id"]}
    for experiment, code in (
        ({"variants": [{"name": "A", "template_id": tid, "weight": 1}]}, "invalid_experiment"),
        ({"variants": [{"name": "A", "template_id": tid, "weight": 1}, {"name": "A", "template_id": tid, "weight": 1}]}, "invalid_experiment"),
        ({"variants": [{"name": "A", "template_id": tid, "weight": 1}, {"name": "B", "template_id": tid, "weight": 1}], "metric": "likes"}, "invalid_experiment"),
        ({"variants": [{"name": "A", "template_id": tid, "weight": 1}, {"name": "B", "template_id": 999, "weight": 1}]}, "unknown_template"),
    ):  # fmt: skip
        r = api.post("/broadcasts", {**base, "experiment": experiment})
        assert (r.status_code, r.json()["code"]) == (422, code), r.json()
    both = api.post("/broadcasts", {**base, "template_id": tid, "experiment": {"variants": []}})
    assert both.status_code == 422


def test_variant_percents_with_the_holdout_make_100(api: Api, email_channel: dict[str, Any]) -> None:
    seg = api.post("/segments", {"name": "s", "definition": {"root": {"type": "tag", "tag": "x"}}}).json()
    tid = email_template(api)
    base = {"name": "b", "channel": "email", "segment_id": seg["id"]}

    def experiment(a: float, b: float, holdout: float) -> dict[str, Any]:
        return {"variants": [{"name": "A", "template_id": tid, "percent": a},
                             {"name": "B", "template_id": tid, "percent": b}], "holdout_percent": holdout}  # fmt: skip

    for bad, why in ((experiment(50, 45, 10), "add up to 105"), (experiment(40, 40, 10), "add up to 90"),
                     (experiment(60, 40, 0) | {"variants": [{"name": "A", "template_id": tid, "percent": 60},
                                                             {"name": "B", "template_id": tid, "weight": 1}]},
                      "every variant a percent"),
                     ({"variants": [{"name": "A", "template_id": tid, "percent": 50, "weight": 1},
                                    {"name": "B", "template_id": tid, "percent": 50}]}, "one of them")):  # fmt: skip
        r = api.post("/broadcasts", {**base, "experiment": bad})
        assert (r.status_code, r.json()["code"]) == (422, "invalid_experiment"), r.json()
        assert why in r.json()["message"], r.json()
    ok = api.post("/broadcasts", {**base, "experiment": experiment(67.5, 22.5, 10)})
    assert ok.status_code == 201, ok.text
    # the percents are the shares: A gets three times B's recipients
    exp = parse_experiment(experiment(67.5, 22.5, 10))
    picks = [assign_variant(exp, 1, cid) for cid in range(1, 20001)]
    share = {v: picks.count(v) / len(picks) for v in ("A", "B", "holdout")}
    assert abs(share["A"] - 0.675) < 0.015 and abs(share["B"] - 0.225) < 0.015
    assert abs(share["holdout"] - 0.10) < 0.01


def ingest(api: Api, ws: CreatedWorkspace, batch: list[dict[str, Any]]) -> None:
    """Segment messages through the ingest API (``/v1/batch``)."""
    auth = {"Authorization": "Basic " + base64.b64encode(f"{ws.write_key}:".encode()).decode()}
    for start in range(0, len(batch), 1000):
        r = api.http.post("/v1/batch", json={"batch": batch[start : start + 1000]}, headers=auth)
        assert r.status_code == 200, r.text


def identify(api: Api, ws: CreatedWorkspace, people: list[tuple[str, dict[str, Any]]]) -> None:
    ingest(api, ws, [{"type": "identify", "userId": user, "traits": traits, "messageId": f"id-{user}"}
                     for user, traits in people])  # fmt: skip


def orders(api: Api, ws: CreatedWorkspace, rows: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Track events: (user id, event, properties)."""
    ingest(api, ws, [{"type": "track", "userId": user, "event": name, "properties": props,
                      "messageId": f"m-{i}-{user}"} for i, (user, name, props) in enumerate(rows)])  # fmt: skip


def test_revenue_decides_with_welch_and_the_report_breaks_down_by_variant(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, clock: FixedClock,
    engine: Engine, workspace: CreatedWorkspace,
) -> None:  # fmt: skip
    """Same open rate, same share of buyers, but B's buyers spend three times as much: B wins
    on revenue per recipient, the remainder gets B, and the per-variant report shows exactly
    what was simulated (the holdout's own orders included)."""
    audience = 1000
    identify(api, workspace, [(f"r{i}", {"email": f"r{i}@example.com"}) for i in range(audience)])
    with engine.begin() as conn:
        ids = list(conn.execute(select(contact.c.id).where(contact.c.workspace_id == workspace.id)).scalars())
        assert len(ids) == audience
        add_tags(conn, workspace.id, [(cid, "shoppers") for cid in ids], clock.now())
    seg = api.post(
        "/segments", {"name": "shoppers", "definition": {"root": {"type": "tag", "tag": "shoppers"}}}
    ).json()
    worker.run_once()
    a = email_template(api, "a", subject="Spring sale")
    b = email_template(api, "b", subject="Spring sale: the premium picks")
    experiment = {"variants": [{"name": "A", "template_id": a, "weight": 1}, {"name": "B", "template_id": b, "weight": 1}],
                  "holdout_percent": 10, "test_percent": 40, "metric": "revenue", "window_hours": 4}  # fmt: skip
    r = api.post(
        "/broadcasts",
        {"name": "premium", "channel": "email", "segment_id": seg["id"], "experiment": experiment},
    )
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    api.post(f"/broadcasts/{bid}/schedule")
    worker.run_once()
    assert api.get(f"/broadcasts/{bid}").json()["status"] == "testing"

    with engine.connect() as conn:
        rows = conn.execute(select(broadcast_recipient.c.contact_id, broadcast_recipient.c.variant,
                                   broadcast_recipient.c.message_id, contact.c.external_id)
                            .join(contact, contact.c.id == broadcast_recipient.c.contact_id)
                            .where(broadcast_recipient.c.broadcast_id == bid)).all()  # fmt: skip
    group = {v: [r for r in rows if r.variant == v] for v in ("A", "B", "holdout", None)}
    assert all(len(g) > 30 for g in group.values())

    # the truth: a quarter of each variant's recipients buy once; A's orders are 20, B's 60;
    # 5 % of the holdout buy (20) unprompted. Views with a "revenue" are not orders.
    rng = random.Random(7)
    clock.advance(timedelta(hours=1))
    spent: dict[str, list[float]] = {"A": [], "B": [], "holdout": []}
    events: list[tuple[str, str, dict[str, Any]]] = []
    for v, amount, share in (("A", 20.0, 0.25), ("B", 60.0, 0.25), ("holdout", 20.0, 0.05)):
        for row in group[v]:
            if rng.random() < share:
                spent[v].append(amount)
                key = "revenue" if len(spent[v]) % 2 else "total"  # both read as revenue
                events.append((row.external_id, "Order Completed", {key: amount}))
    events += [(row.external_id, "Product Viewed", {"revenue": 999}) for row in group["A"][:20]]
    orders(api, workspace, events)
    with engine.begin() as conn:  # opens: people on 10 of A's messages, a machine on 5 of B's
        record(conn, [Outcome(row.message_id, "opened") for row in group["A"][:10]], clock.now())
        record(conn, [Outcome(row.message_id, "opened", machine=True) for row in group["B"][:5]], clock.now())

    report = api.get(f"/reports/broadcasts/{bid}").json()
    assert report["experiment"]["state"] == "testing" and report["experiment"]["winner"] is None
    assert report["experiment"]["waiting"] == len(group[None])

    clock.advance(timedelta(hours=3, minutes=1))
    worker.run_once()
    state = api.get(f"/broadcasts/{bid}").json()
    assert (state["winner"], state["status"]) == ("B", "queued")
    results = state["results"]
    assert results["metric"] == "revenue" and results["confidence"] > 0.99
    for v in ("A", "B"):
        got = results["variants"][v]
        assert (got["sent"], got["successes"]) == (len(group[v]), len(spent[v]))
        assert got["revenue"] == sum(spent[v]) and got["sum_squares"] == sum(x * x for x in spent[v])
        assert abs(got["rate"] - sum(spent[v]) / len(group[v])) < 1e-9
    _, _, p = welch_test(len(group["B"]), sum(spent["B"]), sum(x * x for x in spent["B"]),
                         len(group["A"]), sum(spent["A"]), sum(x * x for x in spent["A"]))  # fmt: skip
    assert abs(results["confidence"] - (1 - p)) < 1e-9
    lift = results["holdout"]
    assert lift["holdout"] == {"converted": len(spent["holdout"]), "size": len(group["holdout"]),
                               "revenue": sum(spent["holdout"])}  # fmt: skip
    assert (
        lift["revenue_lift"]["ci95"][0]
        < lift["revenue_lift"]["per_contact"]
        < lift["revenue_lift"]["ci95"][1]
    )
    # the remainder got B's subject, nobody got two emails, the holdout none
    with engine.connect() as conn:
        templates = dict(conn.execute(select(message.c.contact_id, message.c.template_id)
                                      .where(message.c.source_id == str(bid))).all())  # fmt: skip
    assert {templates[row.contact_id] for row in group[None]} == {b}
    assert len(templates) == audience - len(group["holdout"]) == len(smtp.recorder.received)

    report = api.get(f"/reports/broadcasts/{bid}").json()
    rows_by = {r["variant"]: r for r in report["by_variant"]}
    assert list(rows_by) == ["A", "B", "holdout"]
    assert {k: rows_by["A"][k] for k in ("targeted", "sent", "opened", "converted", "revenue", "cost", "roi")} == {
        "targeted": len(group["A"]), "sent": len(group["A"]), "opened": 10, "converted": len(spent["A"]),
        "revenue": sum(spent["A"]), "cost": 0, "roi": None}  # fmt: skip
    assert rows_by["A"]["open_rate"] == round(10 / len(group["A"]), 4)
    # B now also counts the remainder it was sent to; their orders came before their email
    b_targeted = len(group["B"]) + len(group[None])
    assert {k: rows_by["B"][k] for k in ("targeted", "sent", "opened", "converted", "revenue")} == {
        "targeted": b_targeted, "sent": b_targeted, "opened": 0, "converted": len(spent["B"]),
        "revenue": sum(spent["B"])}  # fmt: skip
    assert rows_by["B"]["conversion_rate"] == round(len(spent["B"]) / b_targeted, 4)
    assert {k: rows_by["holdout"][k] for k in ("targeted", "sent", "converted", "revenue")} == {
        "targeted": len(group["holdout"]), "sent": 0, "converted": len(spent["holdout"]),
        "revenue": sum(spent["holdout"])}  # fmt: skip
    # the holdout's orders are not attributed conversions: not in the totals
    assert report["totals"]["converted"] == len(spent["A"]) + len(spent["B"])
    exp = report["experiment"]
    assert (exp["state"], exp["winner"], exp["waiting"]) == ("decided", "B", 0)
    assert exp["confidence"] == results["confidence"] and exp["lift"]["ci95"] == lift["ci95"]

    csv = api.get(f"/reports/broadcasts/{bid}", params={"format": "csv", "by": "variant"})
    lines = csv.text.splitlines()
    assert lines[0].startswith("variant,targeted,sent,delivered,opened,clicked,")
    assert lines[1].startswith(f"total,{audience},{audience - len(group['holdout'])},")
    assert [line.split(",")[:3] for line in lines[2:]] == [
        ["A", str(len(group["A"])), str(len(group["A"]))], ["B", str(b_targeted), str(b_targeted)],
        ["holdout", str(len(group["holdout"])), "0"]]  # fmt: skip
    by_channel = api.get(f"/reports/broadcasts/{bid}", params={"format": "csv"}).text.splitlines()
    assert by_channel[0].startswith("channel,") and by_channel[2].startswith("email,")
    assert api.get(f"/reports/broadcasts/{bid}", params={"by": "nope"}).status_code == 422


def test_by_variant_needs_an_experiment(api: Api, email_channel: dict[str, Any], worker: Worker) -> None:
    seg = api.post("/segments", {"name": "s", "definition": {"root": {"type": "tag", "tag": "x"}}}).json()
    r = api.post("/broadcasts", {"name": "plain", "channel": "email", "segment_id": seg["id"],
                                 "template_id": email_template(api)})  # fmt: skip
    bid = r.json()["id"]
    assert "by_variant" not in api.get(f"/reports/broadcasts/{bid}").json()
    r = api.get(f"/reports/broadcasts/{bid}", params={"format": "csv", "by": "variant"})
    assert (r.status_code, r.json()["code"]) == (422, "no_experiment")


def test_welch_matches_the_textbook() -> None:
    # Welch (1947) by way of Wikipedia's first example: t = -2.46, df = 24.99, p (two-sided) = 0.021
    a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    t, df, p = welch_test(len(a), sum(a), sum(x * x for x in a), len(b), sum(b), sum(x * x for x in b))
    assert abs(t + 2.46) < 0.01 and abs(df - 24.99) < 0.01 and abs(2 * (1 - p) - 0.021) < 0.001
    assert abs(student_t_sf(2.0, 1) - (0.5 - math.atan(2) / math.pi)) < 1e-12  # Cauchy
    assert abs(student_t_sf(2.228, 10) - 0.025) < 1e-4 and student_t_sf(0.0, 7.5) == 0.5
    assert welch_test(1, 5.0, 25.0, 10, 1.0, 1.0) == (0.0, 0.0, 1.0)  # too small to say
    assert welch_test(3, 6.0, 12.0, 3, 3.0, 3.0)[2] == 0.0  # no spread: 2 > 1 for sure
    d, low, high = mean_difference_interval(4, 8.0, 20.0, 4, 4.0, 6.0)  # means 2 and 1, variances 4/3, 2/3
    assert d == 1.0 and abs(high - low - 2 * 1.96 * math.sqrt(0.5)) < 1e-12
    winner, confidence = pick_winner({"A": {"sent": 15, "rate": sum(a) / 15, "revenue": sum(a),
                                            "sum_squares": sum(x * x for x in a)},
                                      "B": {"sent": 15, "rate": sum(b) / 15, "revenue": sum(b),
                                            "sum_squares": sum(x * x for x in b)}}, "revenue")  # fmt: skip
    assert winner == "B" and abs(confidence - (1 - 0.021 / 2)) < 0.001
