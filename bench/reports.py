"""Reports on the B3 dataset: ``kairos bench reports``.

Issue 6 asks for reports "under 1 s at 1M contacts / 20M events". The generated dataset has
contacts and events but no messages, so this benchmark first adds (once, idempotently, in
its own campaign) what a busy workspace's reports read:

- a campaign (goal ``Order Completed`` within 7 days, costs per channel);
- a broadcast to every live contact with an email, 20 days before the reference: an A/B
  experiment with a 10 % holdout, so ~900k messages, delivered or bounced, with delivery,
  open (some by machines), click, bounce and unsubscribe events at realistic rates;
- a journey of the campaign with ~100k completed enrollments and two email nodes (welcome
  to all, reminder to half of them), 10 days before the reference;
- a lifecycle stage history (lead → MQL → SQL → customer) for the lifecycle report.

Everything is written set-based (``INSERT … SELECT`` over the contacts, rates from a
multiplicative hash of the contact id), so it takes seconds on SQLite, not hours. Then each
report is computed ``repeat`` times through the same functions the API calls, on a read
connection, and the median reported: the broadcast report (by channel and by variant), the
campaign report, the journey report (by node), a 30-day daily time series of the campaign,
a 3-step funnel over 30 days of the 20M events, the lifecycle movement report, and the
workspace dashboard over 30 and 400 days (events per day from the ``event_day_count``
rollup, sends, opens, clicks, new contacts and conversions of the whole workspace).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, String, and_, case, cast, func, insert, literal, select, update

from kairos_bench.common import median, workdir
from kairos_bench.generate import Generated
from kairos_bench.segments import open_dataset

CAMPAIGN = "bench reports"
GOAL = {"event": "Order Completed", "window_days": 7}
COSTS = {"email": 0.001, "sms": 0.04}
STAGES = ("lead", "mql", "sql", "customer")


def _hash(col: Any, factor: int, modulo: int) -> Any:
    """A well-spread pseudo-random number in [0, modulo) from an integer id, in SQL."""
    return (col * factor + 12345) % 2147483647 % modulo


def _seed(engine: Any, gen: Generated, say: Callable[[str], None]) -> dict[str, int]:
    """The campaign, broadcast, journey and lifecycle history, made once per workspace."""
    from kairos.campaigns import service as campaigns
    from kairos.campaigns.tables import broadcast, broadcast_recipient, campaign
    from kairos.contacts.tables import contact
    from kairos.db.dialect import shifted
    from kairos.journeys import service as journeys
    from kairos.journeys.tables import enrollment
    from kairos.messaging import service as messaging
    from kairos.messaging.tables import message, message_event

    ws = gen.workspace_id
    ref = gen.spec.reference
    with engine.begin() as conn:
        found = conn.execute(
            select(campaign.c.id).where(campaign.c.workspace_id == ws, campaign.c.name == CAMPAIGN)
        ).scalar()
        if found is not None:
            bid = conn.execute(select(broadcast.c.id).where(broadcast.c.campaign_id == found)).scalar_one()
            from kairos.journeys.tables import journey

            jid = conn.execute(select(journey.c.id).where(journey.c.campaign_id == found)).scalar_one()
            return {"campaign": int(found), "broadcast": int(bid), "journey": int(jid)}

    say("adding a campaign, a broadcast, a journey and a lifecycle history to the dataset (once) …")
    started = time.perf_counter()
    t_broadcast = ref - timedelta(days=20)
    t_journey = ref - timedelta(days=10)
    live = and_(contact.c.workspace_id == ws, contact.c.merged_into.is_(None))

    def at(value: datetime) -> Any:
        from kairos.db.types import UTCDateTime

        return literal(value, UTCDateTime())

    with engine.begin() as conn:
        tpl = messaging.create_template(
            conn, ws, t_broadcast, name="bench reports newsletter", channel="email",
            fields={"subject": "News", "format": "html", "body": "<p>Hi {{ contact.first_name }}</p>"},
        )["id"]  # fmt: skip
        cid = campaigns.create_campaign(
            conn, ws, t_broadcast, CAMPAIGN,
            {"goal": GOAL, "costs": COSTS, "budget": 5000.0, "currency": "EUR", "channels": ["email"]},
        )["id"]  # fmt: skip
        experiment = {
            "variants": [{"name": v, "template_id": tpl, "weight": 1} for v in ("A", "B")],
            "holdout_percent": 10, "test_percent": 100, "metric": "conversion", "window_hours": 48,
        }  # fmt: skip
        bid = conn.execute(
            insert(broadcast)
            .values(
                workspace_id=ws, campaign_id=cid, name="bench newsletter", channel="email", template_id=tpl,
                send_at=t_broadcast, starts_at=t_broadcast, status="sent", queued=0, snapshot_at=t_broadcast,
                experiment=experiment, test_ends_at=t_broadcast + timedelta(hours=48),
                created_at=t_broadcast, updated_at=t_broadcast,
            )
            .returning(broadcast.c.id)
        ).scalar_one()  # fmt: skip
        h = _hash(contact.c.id, 48271, 100)
        variant = case((h < 10, "holdout"), (h < 55, "A"), else_="B")
        conn.execute(
            insert(broadcast_recipient).from_select(
                ["broadcast_id", "contact_id", "variant"],
                select(literal(bid), contact.c.id, variant).where(live, contact.c.email.is_not(None)),
            )
        )
        audience = conn.execute(
            select(func.count()).where(broadcast_recipient.c.broadcast_id == bid)
        ).scalar_one()
        conn.execute(
            update(broadcast).where(broadcast.c.id == bid).values(audience=audience, queued=audience)
        )
        say(f"  broadcast {bid}: {audience:,} recipients ({time.perf_counter() - started:.0f} s)")

        def messages(
            source: str, source_id: str, key: str, sent: datetime, who: Any, variant: Any = None
        ) -> None:
            status = case((_hash(contact.c.id, 69621, 1000) < 15, "bounced"), else_="delivered")
            conn.execute(
                insert(message).from_select(
                    ["workspace_id", "contact_id", "channel", "template_id", "transactional",
                     "idempotency_key", "source", "source_id", "status", "attempts", "next_attempt_at",
                     "sent_at", "address", "created_at", "updated_at", "variant"],
                    select(
                        literal(ws), contact.c.id, literal("email"), literal(tpl), literal(False),
                        literal(key) + cast(contact.c.id, String), literal(source), literal(source_id),
                        status,
                        literal(1), at(sent), at(sent), contact.c.email, at(sent), at(sent),
                        literal(None, String) if variant is None else variant,
                    ).where(live, who),
                )
            )  # fmt: skip

        messages(
            "broadcast", str(bid), f"bench-b{bid}-", t_broadcast,
            contact.c.id.in_(select(broadcast_recipient.c.contact_id).where(
                broadcast_recipient.c.broadcast_id == bid, broadcast_recipient.c.variant != "holdout")),
            variant,
        )  # fmt: skip
        conn.execute(
            update(broadcast_recipient)
            .where(broadcast_recipient.c.broadcast_id == bid, broadcast_recipient.c.variant != "holdout")
            .values(
                message_id=select(message.c.id)
                .where(
                    message.c.workspace_id == ws,
                    message.c.idempotency_key
                    == literal(f"bench-b{bid}-") + cast(broadcast_recipient.c.contact_id, String),
                )
                .scalar_subquery()
            )
        )
        say(f"  broadcast messages ({time.perf_counter() - started:.0f} s)")

        definition = {
            "trigger": {"type": "api"}, "start": "welcome",
            "nodes": {
                "welcome": {"type": "send", "channel": "email", "template_id": tpl, "next": "wait"},
                "wait": {"type": "wait", "duration": {"days": 3}, "next": "reminder"},
                "reminder": {"type": "send", "channel": "email", "template_id": tpl, "next": None},
            },
        }  # fmt: skip
        jid = journeys.create_journey(
            conn, ws, t_journey, name="bench onboarding", description=None, definition=definition,
            layout=None, campaign_id=cid,
        )["id"]  # fmt: skip
        vid = journeys.publish(conn, ws, jid, t_journey)["version_id"]
        enrolled = _hash(contact.c.id, 16807, 10) == 1
        conn.execute(
            insert(enrollment).from_select(
                ["workspace_id", "journey_id", "version_id", "contact_id", "state", "phase", "node_at",
                 "steps", "entry_key", "entered_at", "updated_at", "ended_at"],
                select(literal(ws), literal(jid), literal(vid), contact.c.id, literal("completed"),
                       literal("enter"), at(t_journey), literal(3),
                       literal("bench-") + cast(contact.c.id, String), at(t_journey), at(t_journey),
                       at(t_journey)).where(live, enrolled),
            )
        )  # fmt: skip
        messages("journey", f"{jid}:welcome", f"bench-j{jid}-w-", t_journey, enrolled)
        messages(
            "journey", f"{jid}:reminder", f"bench-j{jid}-r-", t_journey + timedelta(days=3),
            and_(enrolled, _hash(contact.c.id, 40692, 1000) < 500),
        )  # fmt: skip
        say(f"  journey {jid} ({time.perf_counter() - started:.0f} s)")

        ours = and_(
            message.c.workspace_id == ws,
            message.c.source.in_(("broadcast", "journey")),
            message.c.source_id.in_((str(bid), f"{jid}:welcome", f"{jid}:reminder")),
        )
        r = _hash(message.c.id, 7919, 1000)
        for kind, when, minutes in (
            ("delivered", and_(message.c.status == "delivered"), 1),
            ("bounced", message.c.status == "bounced", 2),
            ("opened", and_(message.c.status == "delivered", r < 260), 90),
            ("clicked", and_(message.c.status == "delivered", r >= 30, r < 75), 100),
            ("unsubscribed", and_(message.c.status == "delivered", r >= 995), 110),
        ):
            machine = r < 30 if kind == "opened" else literal(False)
            conn.execute(
                insert(message_event).from_select(
                    ["workspace_id", "message_id", "contact_id", "kind", "machine", "created_at"],
                    select(
                        literal(ws), message.c.id, message.c.contact_id, literal(kind), machine,
                        shifted(message.c.sent_at, timedelta(minutes=minutes), conn.dialect.name),
                    ).where(ours, when),
                )
            )  # fmt: skip
        say(f"  message events ({time.perf_counter() - started:.0f} s)")
        _lifecycle(conn, ws, ref, say)
    with engine.begin() as conn:  # as autovacuum would have by the time anyone reads a report
        from sqlalchemy import text

        for table in (
            "message",
            "message_event",
            "broadcast_recipient",
            "enrollment",
            "lifecycle_change",
            "contact",
        ):
            conn.execute(text(f"ANALYZE {table}"))
    say(f"seeded in {time.perf_counter() - started:.0f} s")
    return {"campaign": int(cid), "broadcast": int(bid), "journey": int(jid)}


def _count_events(engine: Any, gen: Generated, say: Callable[[str], None]) -> None:
    """The dashboard's events per day: ``kairos bench generate`` writes events around the
    ingest pipeline, so a dataset generated after migration 0018 has no ``event_day_count``
    rows for them (one migrated to 0018 was backfilled). Rebuilt once when they are missing."""
    from kairos.analytics.dashboard import recount_events
    from kairos.analytics.tables import event_day_count

    ws = gen.workspace_id
    with engine.begin() as conn:
        found = conn.execute(select(func.count()).where(event_day_count.c.workspace_id == ws)).scalar_one()
        if found:
            return
        say("counting the events per day for the dashboard (once) …")
        started = time.perf_counter()
        n = recount_events(conn, ws)
    say(f"  {n:,} events counted in {time.perf_counter() - started:.0f} s")


def _lifecycle(conn: Any, ws: int, ref: datetime, say: Callable[[str], None]) -> None:
    """Contacts move lead → mql → sql → customer over the 90 days: each contact becomes a lead
    on a day of its own, and a share of them moves on every few days."""
    from kairos.contacts.tables import contact, lifecycle_change

    live = and_(contact.c.workspace_id == ws, contact.c.merged_into.is_(None))
    start = ref - timedelta(days=90)
    previous: str | None = None
    reached = literal(True)
    for step, stage in enumerate(STAGES):
        if step:
            reached = and_(reached, _hash(contact.c.id, 16807 + step, 100) < 40)  # 40 % go on
        day = (_hash(contact.c.id, 48271, 60) + step * 9).label("d")
        conn.execute(
            insert(lifecycle_change).from_select(
                ["workspace_id", "contact_id", "from_stage", "to_stage", "source", "changed_at"],
                select(
                    literal(ws), contact.c.id, literal(previous, String), literal(stage), literal("import"),
                    _plus_days(start, day, conn.dialect.name),
                ).where(live, reached),
            )
        )  # fmt: skip
        conn.execute(update(contact).where(live, reached).values(lifecycle_stage=stage))
        previous = stage
    n = conn.execute(select(func.count()).where(lifecycle_change.c.workspace_id == ws)).scalar_one()
    say(f"  lifecycle history: {n:,} changes")


def _plus_days(start: datetime, days: Any, dialect: str) -> Any:
    from sqlalchemy import BigInteger, Interval, bindparam, type_coerce

    from kairos.db.types import UTCDateTime

    if dialect == "sqlite":
        micros = int(start.timestamp() * 1_000_000)
        return type_coerce(literal(micros, BigInteger) + cast(days, Integer) * 86_400_000_000, UTCDateTime())
    return bindparam(None, start, type_=UTCDateTime()) + cast(days, Integer) * bindparam(
        None, timedelta(days=1), type_=Interval
    )


def _reports(ids: dict[str, int], gen: Generated) -> dict[str, Callable[[Any], Any]]:
    from kairos.analytics import reports
    from kairos.analytics.dashboard import dashboard

    ws, now = gen.workspace_id, gen.spec.reference
    start = now - timedelta(days=30)
    out: dict[str, Callable[[Any], Any]] = {
        "broadcast": lambda c: reports.broadcast_report(c, ws, ids["broadcast"], now),
        "campaign": lambda c: reports.campaign_report(c, ws, ids["campaign"], now),
        "journey": lambda c: reports.journey_report(c, ws, ids["journey"], now),
        "timeseries_30d": lambda c: reports.timeseries(
            c, ws, source="campaign", source_id=ids["campaign"], start=start, end=now, now=now
        ),
        "funnel_30d": lambda c: reports.funnel(
            c, ws, ["Product Viewed", "Product Added", "Order Completed"], start, now, 7
        ),
        "dashboard_30d": lambda c: dashboard(c, ws, now, start, now),
        "dashboard_400d": lambda c: dashboard(c, ws, now, now - timedelta(days=400), now),
    }
    try:
        from kairos.analytics.lifecycle import lifecycle_report  # type: ignore[import-not-found]

        out["lifecycle_90d"] = lambda c: lifecycle_report(c, ws, now - timedelta(days=90), now, "week", now)
    except ImportError:
        pass
    return out


def run_reports(
    *,
    database_url: str | None,
    path: Path | None,
    workspace_id: int | None,
    repeat: int,
    only: list[str],
    contacts: int,
    events: int,
    keep: bool,
    say: Callable[[str], None],
) -> dict[str, Any]:
    from kairos.db.engine import reading

    with workdir(keep) as tmp:
        engine, gen, _ = open_dataset(
            database_url=database_url, path=path, workspace_id=workspace_id, tmp=tmp,
            contacts=contacts, events=events, say=say,
        )  # fmt: skip
        try:
            ids = _seed(engine, gen, say)
            _count_events(engine, gen, say)
            figures: dict[str, Any] = {
                "database": engine.dialect.name,
                "contacts": gen.spec.contacts,
                "events": gen.spec.events,
            }
            with reading(engine) as conn:
                from kairos.messaging.tables import message

                figures["messages"] = conn.execute(
                    select(func.count()).where(message.c.workspace_id == gen.workspace_id)
                ).scalar_one()
            worst = 0.0
            for name, build in _reports(ids, gen).items():
                if only and name not in only:
                    continue
                times = []
                for _ in range(repeat):
                    with reading(engine) as conn:
                        t0 = time.perf_counter()
                        result = build(conn)
                        times.append(time.perf_counter() - t0)
                figures[f"{name}_s"] = round(median(times), 3)
                worst = max(worst, median(times))
                runs = [round(t, 3) for t in times]
                say(f"{name}: median {median(times):.3f} s of {runs} — {_gist(name, result)}")
            figures["slowest_s"] = round(worst, 3)
            figures["under_1s"] = worst < 1.0
            return figures
        finally:
            engine.dispose()


def _gist(name: str, result: dict[str, Any]) -> str:
    if name.startswith("dashboard"):
        t = result["totals"]
        return (
            f"{len(result['days'])} days, {t['events']:,} events, {t['new_contacts']:,} new contacts, "
            f"sent {t['sent']:,}, opened {t['opened']:,}, {t['conversions']:,} conversions"
        )
    if "totals" in result:
        t = result["totals"]
        return (
            f"sent {t['sent']:,}, opened {t['opened']:,}, converted {t['converted']:,.1f}, "
            f"revenue {t['revenue']:,.0f}"
        )
    if "steps" in result:
        return ", ".join(f"{s['event']} {s['contacts']:,}" for s in result["steps"])
    if "days" in result:
        return f"{len(result['days'])} days"
    return ", ".join(sorted(result)[:6])
