"""The ten standard segments of B3/B4, and B3 — a full recompute of each.

``STANDARD_SEGMENTS`` holds the definitions B3 and B4 share, written against the events
``kairos bench generate`` stores: page views are ``type`` ``page`` events named after the page
(``Finance`` for ``/finance``, with ``properties.path``), the shop funnel is ``Product
Viewed`` → ``Product Added`` → ``Checkout Started`` → ``Order Completed``, email engagement
is ``Email Opened`` / ``Email Link Clicked``. Segment 7 refers to segment 1, whose id is only
known once it is created: ``definition(7, ids)`` fills it in.

B3 creates them through ``kairos.segments.service.create_segment`` and times, for each, the
engine's real full recompute — ``kairos.segments.membership.refresh(conn, segment, now)`` on
an empty membership (insert-select of the members, delete of the non-members, transitions
recorded), committed — at the dataset's reference instant; and the compiled members query
of segment 1 alone (``select count(*) from (members_query …)``), for the engine ÷ raw
ratio. Each timing is repeated and the median reported.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kairos_bench.common import BenchError, cpus, median, workdir
from kairos_bench.generate import (
    CATEGORY_BOUGHT,
    CATEGORY_NEVER,
    POPULAR_PRODUCT,
    Generated,
    Spec,
    find_generated,
    generate,
    make_bench_engine,
)

NAME_PREFIX = "bench standard "
SEGMENT_1 = "@segment-1"  # replaced by segment 1's id


def _last(amount: int, unit: str = "days") -> dict[str, Any]:
    return {"last": {"amount": amount, "unit": unit}}


def _performed(event: str | None, op: str = ">=", value: int = 1, window: dict[str, Any] | None = None,
               where: list[dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
    return {"type": "performed", "event": event, "where": where or [], "count": {"op": op, "value": value},
            "window": window or {}}  # fmt: skip


def _eq(prop: str, value: Any) -> dict[str, Any]:
    return {"property": prop, "operator": "eq", "value": value}


def _attr(name: str, operator: str, value: Any) -> dict[str, Any]:
    return {"type": "attribute", "attribute": name, "operator": operator, "value": value}


def _all(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"type": "all", "conditions": list(conditions)}


#: number → (short name, root condition). benchmarks.md's wording is in the comments.
STANDARD_SEGMENTS: dict[int, tuple[str, dict[str, Any]]] = {
    # viewed product P (a popular one) ≥ 3 times in the last 7 days and no order in the last 7 days
    1: ("viewed P 3x, no order (7d)", _all(
        _performed("Product Viewed", ">=", 3, _last(7), [_eq("product_id", POPULAR_PRODUCT)]),
        _performed("Order Completed", "=", 0, _last(7)),
    )),
    # country = CN, age 18-25, education = undergraduate, page /finance viewed ≥ 2 times in 30 days
    2: ("CN undergraduates 18-25 on /finance", _all(
        _attr("country", "eq", "CN"),
        _attr("age", "between", [18, 25]),
        _attr("education", "eq", "undergraduate"),
        _performed("Finance", ">=", 2, _last(30), [_eq("path", "/finance")]),
    )),
    # total spent > 70 and ≥ 2 orders in the last 30 days
    3: ("spent > 70, 2+ orders (30d)", _all(
        {"type": "aggregate", "event": "Order Completed", "where": [], "property": "revenue",
         "function": "sum", "operator": "gt", "value": 70, "window": {}},
        _performed("Order Completed", ">=", 2, _last(30)),
    )),
    # acquisition source = organic search and score > 50
    4: ("organic search, score > 50", _all(
        _attr("acquisition_source", "eq", "organic_search"),
        _attr("score", "gt", 50),
    )),
    # added to cart in the last 24 hours and did not start checkout after that
    5: ("cart abandoned (24h)", {
        "type": "sequence", "first": {"event": "Product Added", "where": []},
        "then": [{"event": "Checkout Started", "where": []}], "expect": "absent", "within": None,
        "window": _last(24, "hours"),
    }),
    # birthday within the next 7 days (anniversary of a date attribute)
    6: ("birthday in 7 days", _attr("birthday", "anniversary_within_next", {"amount": 7, "unit": "days"})),
    # (opened an email in the last 14 days or clicked one in the last 30 days) and not in segment 1
    7: ("email engaged, not in 1", _all(
        {"type": "any", "conditions": [
            _performed("Email Opened", ">=", 1, _last(14)),
            _performed("Email Link Clicked", ">=", 1, _last(30)),
        ]},
        {"type": "segment", "segment_id": SEGMENT_1, "member": False},
    )),
    # first order in the last 30 days (new customers)
    8: ("first order (30d)", {"type": "first_performed", "event": "Order Completed", "where": [],
                              "operator": "within_last", "value": {"amount": 30, "unit": "days"}}),
    # no event at all in the last 60 days but ≥ 1 order ever (dormant buyers)
    9: ("dormant buyers", _all(
        _performed(None, "=", 0, _last(60)),
        _performed("Order Completed", ">=", 1),
    )),
    # bought from category C at least twice ever and never bought from category D
    10: (f"{CATEGORY_BOUGHT} twice, never {CATEGORY_NEVER}", _all(
        _performed("Order Completed", ">=", 2, None, [_eq("category", CATEGORY_BOUGHT)]),
        _performed("Order Completed", "=", 0, None, [_eq("category", CATEGORY_NEVER)]),
    )),
}  # fmt: skip


def definition(number: int, ids: Mapping[int, int]) -> dict[str, Any]:
    """The stored form of standard segment ``number``; ``ids`` maps segment numbers created so
    far to their ids (segment 7 needs segment 1's)."""
    root = copy.deepcopy(STANDARD_SEGMENTS[number][1])
    _fill(root, ids)
    return {"schema_version": 1, "root": root}


def _fill(node: Any, ids: Mapping[int, int]) -> None:
    if isinstance(node, dict):
        if node.get("segment_id") == SEGMENT_1:
            if 1 not in ids:
                raise BenchError("needs segment 1, which could not be created")
            node["segment_id"] = ids[1]
        for value in node.values():
            _fill(value, ids)
    elif isinstance(node, list):
        for value in node:
            _fill(value, ids)


@dataclass
class Created:
    ids: dict[int, int]  # segment number → id
    failed: dict[int, str]  # segment number → why it could not be created


def create_standard_segments(engine: Any, workspace_id: int, now: datetime) -> Created:
    """(Re)create the ten standard segments (earlier ones of these names are deleted first);
    a definition the engine refuses is reported, not raised."""
    from sqlalchemy import select

    from kairos.segments.service import create_segment, delete_segment
    from kairos.segments.tables import segment

    with engine.begin() as conn:
        old = conn.execute(
            select(segment.c.id).where(
                segment.c.workspace_id == workspace_id, segment.c.name.like(NAME_PREFIX + "%")
            )
        ).scalars()
        for sid in sorted(old, reverse=True):  # segment 7 refers to segment 1: it goes first
            delete_segment(conn, workspace_id, sid)
    out = Created({}, {})
    for number, (title, _) in STANDARD_SEGMENTS.items():
        try:
            data = definition(number, out.ids)
            with engine.begin() as conn:
                row = create_segment(
                    conn, workspace_id, now, name=f"{NAME_PREFIX}{number}: {title}", definition=data
                )
            out.ids[number] = int(row["id"])
        except Exception as exc:  # any refusal is a figure of the run
            out.failed[number] = _why(exc)
    return out


def segment_row(conn: Any, segment_id: int) -> Any:
    from sqlalchemy import select

    from kairos.segments.tables import segment

    return conn.execute(select(segment).where(segment.c.id == segment_id)).one()


def clear_membership(engine: Any, segment_id: int) -> None:
    from sqlalchemy import delete

    from kairos.segments.tables import membership_transition, segment_membership

    with engine.begin() as conn:
        conn.execute(delete(segment_membership).where(segment_membership.c.segment_id == segment_id))
        conn.execute(delete(membership_transition).where(membership_transition.c.segment_id == segment_id))


def full_refresh(engine: Any, segment_id: int, now: datetime) -> tuple[float, int]:
    """The engine's full recompute of one segment, committed; (seconds, members entered)."""
    from kairos.segments.membership import refresh

    t0 = time.perf_counter()
    with engine.begin() as conn:
        entered, _ = refresh(conn, segment_row(conn, segment_id), now)
    return time.perf_counter() - t0, len(entered)


def mark_refreshed(engine: Any, segment_ids: list[int], now: datetime) -> None:
    """What the worker's ``refresh_due`` records after a full refresh, so it does not redo it."""
    from sqlalchemy import update

    from kairos.segments.tables import segment

    with engine.begin() as conn:
        conn.execute(
            update(segment).where(segment.c.id.in_(segment_ids)).values(needs_refresh=False, refreshed_at=now)
        )


class RawQuery:
    """The compiled members query of a segment alone: ``select count(*) from (…)``; keeps the
    SQL and parameters the driver got, for EXPLAIN."""

    def __init__(self, engine: Any, segment_id: int, now: datetime) -> None:
        from sqlalchemy import func, select

        from kairos.contacts.attributes import attribute_types
        from kairos.segments.compiler import Context, members_query, parse_definition

        self.engine = engine
        with engine.connect() as conn:
            seg = segment_row(conn, segment_id)
            ctx = Context(now, attribute_types(conn, seg.workspace_id), conn.dialect.name)
        query = members_query(seg.workspace_id, parse_definition(seg.definition), ctx).subquery()
        self.stmt = select(func.count()).select_from(query)
        self.sql: str | None = None
        self.params: Any = None

    def run(self) -> tuple[float, int]:
        from sqlalchemy import event

        def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            self.sql, self.params = statement, parameters

        with self.engine.connect() as conn:
            event.listen(conn, "before_cursor_execute", capture)
            t0 = time.perf_counter()
            count = conn.execute(self.stmt).scalar_one()
            seconds = time.perf_counter() - t0
            event.remove(conn, "before_cursor_execute", capture)
            conn.rollback()
        return seconds, int(count)

    def plan(self) -> list[str]:
        if self.sql is None:
            self.run()
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(self.sql), self.params).all()
                out = [f"{'  ' * _depth(rows, r)}{r[3]}" for r in rows]
            else:
                out = [r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(self.sql), self.params).all()]
            conn.rollback()
        return out


def _depth(rows: list[Any], row: Any) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


# --- B3 ------------------------------------------------------------------------------------


def open_dataset(
    *,
    database_url: str | None,
    path: Path | None,
    workspace_id: int | None,
    tmp: Path,
    contacts: int,
    events: int,
    say: Callable[[str], None],
) -> tuple[Any, Generated, str]:
    """The engine and generated workspace to run on: the given database, or a fresh small one."""
    if database_url is None and path is not None:
        if not path.exists():
            raise BenchError(f"{path} does not exist (make it with `kairos bench generate --path {path}`)")
        database_url = f"sqlite:///{path.resolve()}"
    from kairos.db.migrate import upgrade

    if database_url is not None:
        engine = make_bench_engine(database_url)
        upgrade(engine)  # the schema the code expects (a new index migrates the dataset once)
        with engine.connect() as conn:
            gen = find_generated(conn, workspace_id)
        return engine, gen, database_url

    database_url = f"sqlite:///{tmp / 'generated.db'}"
    say(f"no --path/--database-url: generating {contacts:,} contacts and {events:,} events in {tmp} …")
    engine = make_bench_engine(database_url)
    upgrade(engine)
    gen, _ = generate(engine, Spec(contacts, events, 90, 1), say=say)
    return engine, gen, database_url


def run_segments(
    *,
    database_url: str | None,
    path: Path | None,
    workspace_id: int | None,
    repeat: int,
    raw_all: bool,
    explain: bool,
    contacts: int,
    events: int,
    keep: bool,
    say: Callable[[str], None],
) -> dict[str, Any]:
    with workdir(keep) as tmp:
        engine, gen, url = open_dataset(
            database_url=database_url, path=path, workspace_id=workspace_id, tmp=tmp,
            contacts=contacts, events=events, say=say,
        )  # fmt: skip
        try:
            return _b3(engine, gen, url, repeat=repeat, raw_all=raw_all, explain=explain, say=say)
        finally:
            engine.dispose()


def _b3(
    engine: Any,
    gen: Generated,
    url: str,
    *,
    repeat: int,
    raw_all: bool,
    explain: bool,
    say: Callable[[str], None],
) -> dict[str, Any]:
    now = gen.spec.reference
    say(
        f"workspace {gen.workspace_id}: {gen.spec.contacts:,} contacts, {gen.spec.events:,} events; now {now}"
    )
    created = create_standard_segments(engine, gen.workspace_id, now)
    for number, why in created.failed.items():
        say(f"segment {number}: not created — {why}")
    times: dict[int, list[float]] = {n: [] for n in created.ids}
    members: dict[int, int] = {}
    failed = dict(created.failed)
    for r in range(repeat):
        for number, sid in created.ids.items():
            if number in failed:
                continue
            clear_membership(engine, sid)
            try:
                seconds, entered = full_refresh(engine, sid, now)
            except Exception as exc:  # a failing segment is a figure of the run
                failed[number] = _why(exc)
                say(f"segment {number}: refresh failed — {failed[number]}")
                continue
            times[number].append(seconds)
            members[number] = entered
            say(f"run {r + 1}: segment {number:>2} {seconds:8.3f}s {entered:>9,} members")
    ok = [n for n in created.ids if n not in failed]
    mark_refreshed(engine, [created.ids[n] for n in ok], now)

    raw: dict[int, float] = {}
    plans: dict[int, list[str]] = {}
    for number in ok if raw_all else [n for n in ok if n == 1]:
        query = RawQuery(engine, created.ids[number], now)
        samples = []
        for _ in range(repeat):
            seconds, count = query.run()
            samples.append(seconds)
            if count != members[number]:
                raise BenchError(
                    f"segment {number}: the raw query counts {count}, the engine stored {members[number]}"
                )
        raw[number] = median(samples)
        say(f"raw query of segment {number}: {raw[number]:.3f}s (median of {repeat})")
        if explain:
            plans[number] = query.plan()
    if explain:
        for number in ok:
            if number not in plans:
                query = RawQuery(engine, created.ids[number], now)
                plans[number] = query.plan()
        for number, plan in plans.items():
            say(f"EXPLAIN segment {number}:\n  " + "\n  ".join(plan))

    seconds = {str(n): round(median(times[n]), 3) for n in ok}
    figures: dict[str, Any] = {
        "contacts": gen.spec.contacts,
        "events": gen.spec.events,
        "cpus": cpus(),
        "database": url.partition(":")[0].partition("+")[0],
        "now": now.isoformat().replace("+00:00", "Z"),
        "repeat": repeat,
        "seconds": seconds,
        "max_seconds": max(seconds.values(), default=0.0),
        "total_seconds": round(sum(seconds.values()), 3),
        "engine_to_raw_ratio": round(median(times[1]) / raw[1], 2) if 1 in raw and raw[1] > 0 else None,
        "raw_seconds": {str(n): round(s, 3) for n, s in raw.items()},
        "members": {str(n): members[n] for n in ok},
        "failed": {str(n): why for n, why in failed.items()},
    }
    return figures


def _why(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    lines = str(exc).splitlines()
    text = getattr(exc, "message", None) or (lines[0] if lines else "")
    return (f"{code}: {text}" if code else f"{type(exc).__name__}: {text}")[:300]
