"""Issue 13: a broadcast experiment sent at a local time is judged only once every time zone
has been sent and the window has passed since the last send; each recipient counts over the
window from its own send; skipped recipients are not treated; the holdout counts from when
its message would have gone out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select

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

ZONES = {  # 10:00 local on 2026-03-03, in UTC (no daylight saving yet in March's first week)
    "Asia/Tokyo": datetime(2026, 3, 3, 1, 0, tzinfo=UTC),
    "Europe/Paris": datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
    "Europe/London": datetime(2026, 3, 3, 10, 0, tzinfo=UTC),
    "America/New_York": datetime(2026, 3, 3, 15, 0, tzinfo=UTC),
}
PER_ZONE = 20


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 3, hour, minute, tzinfo=UTC)


def instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def test_a_local_time_experiment_waits_for_every_zone_and_counts_only_the_sent(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, clock: FixedClock,
    engine: Engine, workspace: CreatedWorkspace,
) -> None:  # fmt: skip
    now = clock.now()
    with engine.begin() as conn:
        conn.execute(insert(contact), [
            {"workspace_id": workspace.id, "email": f"{tz.split('/')[1].lower()}{i}@example.com",
             "external_id": f"{tz}-{i}", "timezone": tz, "traits": {}, "score": 0,
             "created_at": now, "updated_at": now}
            for tz in ZONES for i in range(PER_ZONE)])  # fmt: skip
        zone_of = dict(conn.execute(select(contact.c.id, contact.c.timezone)
                                    .where(contact.c.workspace_id == workspace.id)).all())  # fmt: skip
        add_tags(conn, workspace.id, [(cid, "world") for cid in zone_of], now)
    seg = api.post(
        "/segments", {"name": "world", "definition": {"root": {"type": "tag", "tag": "world"}}}
    ).json()
    worker.run_once()
    a = email_template(api, "a", subject="Our spring collection")
    b = email_template(api, "b", subject="Spring is here")
    experiment = {"variants": [{"name": "A", "template_id": a, "weight": 1}, {"name": "B", "template_id": b, "weight": 1}],
                  "holdout_percent": 25, "test_percent": 50, "metric": "open", "window_hours": 4}  # fmt: skip
    r = api.post("/broadcasts", {"name": "spring", "channel": "email", "segment_id": seg["id"],
                                 "experiment": experiment, "local_date": "2026-03-03", "local_time": "10:00"})  # fmt: skip
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    assert api.post(f"/broadcasts/{bid}/schedule").json()["status"] == "scheduled"

    clock.set(ZONES["Asia/Tokyo"])  # 10:00 in Tokyo: the snapshot, the test group queued, Tokyo sent
    worker.run_once()
    state = api.get(f"/broadcasts/{bid}").json()
    assert state["status"] == "testing"
    # projected: New York's 10:00 (the last test send) plus the window
    assert instant(state["test_ends_at"]) == ZONES["America/New_York"] + timedelta(hours=4)
    with engine.connect() as conn:
        rows = conn.execute(select(broadcast_recipient.c.contact_id, broadcast_recipient.c.variant,
                                   broadcast_recipient.c.message_id)
                            .where(broadcast_recipient.c.broadcast_id == bid)).all()  # fmt: skip
    group: dict[tuple[str | None, str], list[Any]] = {}
    for row in rows:
        group.setdefault((row.variant, zone_of[row.contact_id]), []).append(row)
    for v in ("A", "B", "holdout"):
        assert all(group.get((v, tz)) for tz in ZONES), (v, {k: len(g) for k, g in group.items()})

    def of(variant: str, *zones: str) -> list[Any]:
        return [row for tz in zones or ZONES for row in group.get((variant, tz), [])]

    assert len(smtp.recorder.received) == len(of("A", "Asia/Tokyo")) + len(of("B", "Asia/Tokyo"))

    # Tokyo: every B recipient opens in its window, one A recipient only after it (5 h on)
    clock.set(at(2))
    with engine.begin() as conn:
        record(conn, [Outcome(row.message_id, "opened") for row in of("B", "Asia/Tokyo")], clock.now())
    # a Paris B recipient unsubscribes before Paris is sent: skipped, not treated
    unsubscribed = of("B", "Europe/Paris")[0]
    r = api.post(f"/contacts/{unsubscribed.contact_id}/subscriptions",
                 {"source": "api", "channel": "email", "status": "unsubscribed"})  # fmt: skip
    assert r.status_code in (200, 201), r.text

    # the old deadline (snapshot + window) passes: Tokyo alone decides nothing
    clock.set(at(5, 1))
    worker.run_once()
    state = api.get(f"/broadcasts/{bid}").json()
    assert (state["status"], state["winner"], state["results"]) == ("testing", None, None)
    assert instant(state["test_ends_at"]) == at(19)
    report = api.get(f"/reports/broadcasts/{bid}").json()["experiment"]
    assert (report["state"], report["winner"]) == ("testing", None)
    assert instant(report["test_ends_at"]) == at(19)
    late_open = of("A", "Asia/Tokyo")[0]
    clock.set(at(6))
    with engine.begin() as conn:
        record(conn, [Outcome(late_open.message_id, "opened")], clock.now())

    for tz, opened_at in (("Europe/Paris", at(10, 30)), ("Europe/London", at(11)),
                          ("America/New_York", at(16))):  # fmt: skip
        clock.set(ZONES[tz])
        worker.run_once()
        assert api.get(f"/broadcasts/{bid}").json()["status"] == "testing"
        clock.set(opened_at)  # every A recipient of the zone opens in its window
        with engine.begin() as conn:
            record(conn, [Outcome(row.message_id, "opened") for row in of("A", tz)], clock.now())
    with engine.connect() as conn:
        skipped = conn.execute(select(message.c.status, message.c.reason)
                               .where(message.c.id == unsubscribed.message_id)).one()  # fmt: skip
    assert tuple(skipped) == ("skipped", "unsubscribed")
    test_group = len(of("A")) + len(of("B"))
    assert len(smtp.recorder.received) == test_group - 1  # nobody else yet: the remainder waits

    # conversions (the goal): before one's own send, or after one's window, they do not count
    buys = [
        (of("B", "Asia/Tokyo")[0].contact_id, at(3)),  # treated, in its window: counts
        (of("A", "America/New_York")[0].contact_id, at(12)),  # treated, before its send: no
        (unsubscribed.contact_id, at(10)),  # skipped: not treated, not counted anywhere
        (of("holdout", "Asia/Tokyo")[0].contact_id, at(2)),  # holdout, in Tokyo's window: counts
        (of("holdout", "America/New_York")[0].contact_id, at(3)),  # before New York's 10:00: no
        (of("holdout", "Europe/London")[0].contact_id, at(12)),  # in London's window: counts
    ]
    with engine.begin() as conn:
        record_internal(conn, workspace.id, [InternalEvent(cid, "Order Completed", {"revenue": 40}, when,
                                                           f"order-{i}") for i, (cid, when) in enumerate(buys)],
                        clock.now())  # fmt: skip

    clock.set(at(18, 59))  # New York's window is still open
    worker.run_once()
    assert api.get(f"/broadcasts/{bid}").json()["winner"] is None
    clock.set(at(19))
    worker.run_once()
    state = api.get(f"/broadcasts/{bid}").json()
    assert state["winner"] == "A" and state["status"] == "queued"
    results = state["results"]
    a_sent, b_sent = len(of("A")), len(of("B")) - 1
    assert results["variants"]["A"]["sent"] == a_sent and results["variants"]["B"]["sent"] == b_sent
    # A: every recipient outside Tokyo opened in time; Tokyo's late open is not counted
    assert results["variants"]["A"]["successes"] == a_sent - len(of("A", "Asia/Tokyo"))
    assert results["variants"]["B"]["successes"] == len(of("B", "Asia/Tokyo"))
    lift = results["holdout"]
    assert lift["treated"] == {"size": test_group - 1, "converted": 1, "revenue": 40.0}
    assert lift["holdout"] == {"size": len(of("holdout")), "converted": 2, "revenue": 80.0}
    assert abs(lift["lift"] - (1 / (test_group - 1) - 2 / len(of("holdout")))) < 1e-12
    # the remainder gets A after the decision, and only then
    remainder = [row.contact_id for row in rows if row.variant is None]
    with engine.connect() as conn:
        later = conn.execute(select(message.c.template_id, message.c.next_attempt_at)
                             .where(message.c.contact_id.in_(remainder),
                                    message.c.source_id == str(bid))).all()  # fmt: skip
    assert len(later) == len(remainder) and {t for t, _ in later} == {a}
    assert len(smtp.recorder.received) == test_group - 1 + len(remainder)


def test_a_deferred_test_message_moves_the_decision_on(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, clock: FixedClock,
    engine: Engine, workspace: CreatedWorkspace,
) -> None:  # fmt: skip
    """A test message still queued when the window would end (here: held by its channel's
    outage pause) keeps the test open; it is judged the window after that message went."""
    now = clock.now()
    with engine.begin() as conn:
        conn.execute(insert(contact), [
            {"workspace_id": workspace.id, "email": f"d{i}@example.com", "external_id": f"d{i}",
             "timezone": "UTC", "traits": {}, "score": 0, "created_at": now, "updated_at": now}
            for i in range(40)])  # fmt: skip
        ids = list(conn.execute(select(contact.c.id).where(contact.c.workspace_id == workspace.id)).scalars())
        add_tags(conn, workspace.id, [(cid, "d") for cid in ids], now)
    seg = api.post("/segments", {"name": "d", "definition": {"root": {"type": "tag", "tag": "d"}}}).json()
    worker.run_once()
    experiment = {"variants": [{"name": "A", "template_id": email_template(api, "a"), "weight": 1},
                               {"name": "B", "template_id": email_template(api, "b"), "weight": 1}],
                  "holdout_percent": 10, "test_percent": 100, "metric": "open", "window_hours": 2}  # fmt: skip
    bid = api.post("/broadcasts", {"name": "d", "channel": "email", "segment_id": seg["id"],
                                   "experiment": experiment}).json()["id"]  # fmt: skip
    api.post(f"/broadcasts/{bid}/schedule")
    worker.run_once()
    assert api.get(f"/broadcasts/{bid}").json()["status"] == "testing"
    with engine.begin() as conn:  # one test message did not go: it waits 3 hours (a retry, a pause)
        mid = conn.execute(select(message.c.id).where(message.c.source_id == str(bid)).limit(1)).scalar_one()
        conn.execute(message.update().where(message.c.id == mid).values(
            status="queued", sent_at=None, next_attempt_at=now + timedelta(hours=3)))  # fmt: skip
    clock.advance(timedelta(hours=2, minutes=1))
    worker.run_once()
    state = api.get(f"/broadcasts/{bid}").json()
    assert (state["status"], state["winner"]) == ("testing", None)
    assert instant(state["test_ends_at"]) == now + timedelta(hours=5)
    clock.set(now + timedelta(hours=3))  # it goes now: judged two hours later
    worker.run_once()
    assert api.get(f"/broadcasts/{bid}").json()["winner"] is None
    clock.set(now + timedelta(hours=5))
    worker.run_once()
    state = api.get(f"/broadcasts/{bid}").json()
    assert state["winner"] in ("A", "B") and state["status"] == "queued"
    assert (
        sum(v["sent"] for v in state["results"]["variants"].values())
        == state["results"]["holdout"]["treated"]["size"]
    )
