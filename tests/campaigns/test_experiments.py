"""Story 6: the same audience gets two subject lines, a holdout gets nothing; after the test
window the better one goes to everyone else, with its confidence and the lift over the
holdout — on simulated data where the true difference is known."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select

from kairos.campaigns.experiments import assign_variant, parse_experiment, two_proportion_test
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
