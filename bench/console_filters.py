"""The contact list's filters combined with each other and with a search: ``kairos bench
console-filters``.

The B3 dataset has no tags and no segment memberships, so ``kairos bench console`` cannot
time them. This builds its own dataset, set-based (``INSERT … SELECT``, a minute at 1M
contacts): ``contacts`` live contacts with an email identity, first and last names from 200
each (prefixes shared as real names share them: 5 % of first names start with "Ma"), stages
lead 60 %, mql 20 %, customer 10 %, none 10 % and "rare" on 1 in 50,000; a tag on every
10th contact ("common") and on every 100,000th ("rare"); a static segment of every 3rd
contact ("big") and of every 20,000th ("small"). Then ``GET /api/v1/contacts`` for each
combination, through the whole application in-process (an analyst API key), ``repeat``
times, p50 / p95 in ms: a rare filter inside a big one, a name that matches nobody inside a
big segment, a common name with a common stage, pages deep in a filtered list.

The dataset goes to a scratch SQLite file, or to ``database_url`` (an empty database, or one
this benchmark built before: it is reused).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from kairos_bench.common import database_url_or_default, workdir

GOAL_MS = 300.0
WORKSPACE = "bench-console-filters"

_PREFIXES = ["Ma", "Li", "An", "Be", "Ch", "Da", "El", "Fa", "Gu", "He",
             "Ja", "Ka", "Lo", "Na", "Ol", "Pa", "Ro", "Sa", "Ta", "Wa"]  # fmt: skip
FIRST = [p + s for p in _PREFIXES for s in ["ria", "x", "n", "ne", "o", "ng", "lla", "ck", "ra", "mes"]]
LAST = [p + s for p in ["Smi", "Wan", "Zha", "Joh", "Bro", "Gar", "Mil", "Dav", "Rod", "Mar",
                        "Her", "Lop", "Gon", "Wil", "And", "Tho", "Tay", "Moo", "Jac", "Lee"]
        for s in ["th", "g", "ng", "nson", "wn", "cia", "ler", "is", "ez", "tin"]]  # fmt: skip


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build(engine: Engine, contacts: int, say: Callable[[str], None]) -> int:
    """The dataset (see the module's docstring); returns its workspace id."""
    from kairos.clock import SystemClock
    from kairos.contacts.tables import tag
    from kairos.db.types import to_micros
    from kairos.segments.tables import segment
    from kairos.workspaces.service import create_workspace

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        ws = create_workspace(conn, SystemClock(), WORKSPACE).id
        pg = conn.dialect.name == "postgresql"
        stamp = t0 if pg else to_micros(t0)
        params = {"ws": ws, "n": contacts, "t": stamp, "nf": len(FIRST), "nl": len(LAST)}
        if pg:
            series = "SELECT g::bigint AS n FROM generate_series(1, :n) g"
            first = "(CAST(:firsts AS TEXT[]))[1 + (n * 7919) % :nf]"
            last = "(CAST(:lasts AS TEXT[]))[1 + (n * 104729) % :nl]"
            params |= {"firsts": FIRST, "lasts": LAST}
        else:
            series = (
                "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n) SELECT n FROM s"
            )
            for table, names in (("bench_first", FIRST), ("bench_last", LAST)):
                conn.execute(text(f"CREATE TEMP TABLE {table} (i INTEGER PRIMARY KEY, v TEXT)"))
                conn.execute(
                    text(f"INSERT INTO {table} VALUES (:i, :v)"),
                    [{"i": i, "v": v} for i, v in enumerate(names)],
                )
            first = "(SELECT v FROM bench_first WHERE i = (n * 7919) % :nf)"
            last = "(SELECT v FROM bench_last WHERE i = (n * 104729) % :nl)"
        stage = ("CASE WHEN n % 50000 = 7 THEN 'rare' WHEN n % 10 < 6 THEN 'lead' WHEN n % 10 < 8 THEN 'mql' "
                 "WHEN n % 10 < 9 THEN 'customer' END")  # fmt: skip
        say(f"{contacts:,} contacts …")
        conn.execute(
            text(
                "INSERT INTO contact (workspace_id, external_id, email, first_name, last_name,"
                " lifecycle_stage, score, traits, created_at, updated_at)"
                f" SELECT :ws, 'u' || n, 'user' || n || '@example.com', {first}, {last}, {stage}, 0,"
                f" '{{}}', :t, :t FROM ({series}) q"
            ),
            params,
        )
        conn.execute(
            text(
                "INSERT INTO identity (workspace_id, kind, value, contact_id, created_at)"
                " SELECT :ws, 'email', email, id, :t FROM contact WHERE workspace_id = :ws"
            ),
            params,
        )
        say("tags and segments …")
        for name, every in (("common", 10), ("rare", 100_000)):
            tid = conn.execute(
                insert(tag).values(workspace_id=ws, name=name, created_at=t0).returning(tag.c.id)
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO contact_tag (contact_id, tag_id, workspace_id, created_at)"
                    " SELECT id, :tag, :ws, :t FROM contact WHERE workspace_id = :ws AND id % :every = 3"
                ),
                {**params, "tag": tid, "every": every},
            )
        for name, every in (("big", 3), ("small", 20_000)):
            sid = conn.execute(
                insert(segment)
                .values(workspace_id=ws, name=name, kind="static", created_at=t0, updated_at=t0)
                .returning(segment.c.id)
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO segment_membership (segment_id, contact_id, workspace_id, entered_at)"
                    " SELECT :seg, id, :ws, :t FROM contact WHERE workspace_id = :ws AND id % :every = 1"
                ),
                {**params, "seg": sid, "every": every},
            )
    say("ANALYZE …")
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return ws


def run_console_filters(
    *, database_url: str | None, contacts: int, repeat: int, keep: bool, say: Callable[[str], None]
) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from kairos.api.app import create_app
    from kairos.api.deps import encode_cursor
    from kairos.clock import SystemClock
    from kairos.config import Settings
    from kairos.contacts.tables import contact
    from kairos.db.engine import make_engine
    from kairos.db.migrate import upgrade
    from kairos.segments.tables import segment
    from kairos.workspaces.service import create_key
    from kairos.workspaces.tables import workspace

    with workdir(keep) as tmp:
        url = database_url_or_default(database_url, tmp)
        settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
        engine = make_engine(settings)
        upgrade(engine)
        with engine.connect() as conn:
            ws = conn.execute(select(workspace.c.id).where(workspace.c.name == WORKSPACE)).scalar()
        if ws is None:
            started = time.perf_counter()
            ws = build(engine, contacts, say)
            say(f"built in {time.perf_counter() - started:.0f} s")
        with engine.begin() as conn:
            key = create_key(conn, SystemClock(), ws, "api", "bench console filters", "analyst")
            segments = dict(
                conn.execute(select(segment.c.name, segment.c.id).where(segment.c.workspace_id == ws)).all()
            )
            high = conn.execute(
                select(func.max(contact.c.id)).where(contact.c.workspace_id == ws)
            ).scalar_one()
            size = conn.execute(select(func.count()).where(contact.c.workspace_id == ws)).scalar_one()
        engine.dispose()

        rng = random.Random(14)
        big, small = segments["big"], segments["small"]
        email = lambda: {"email": f"user{rng.randint(1, size)}@example.com"}  # noqa: E731
        deep = lambda: {"after": encode_cursor(rng.randint(1, high))}  # noqa: E731
        calls: dict[str, Callable[[], dict[str, Any]]] = {
            "tag common (10 %)": lambda: {"tag": "common"},
            "tag rare": lambda: {"tag": "rare"},
            "segment big (33 %)": lambda: {"segment_id": big},
            "segment small": lambda: {"segment_id": small},
            "stage lead (60 %)": lambda: {"lifecycle_stage": "lead"},
            "stage rare": lambda: {"lifecycle_stage": "rare"},
            "email + tag": lambda: {**email(), "tag": "common"},
            "email + segment": lambda: {**email(), "segment_id": big},
            "email + stage": lambda: {**email(), "lifecycle_stage": "lead"},
            "name common + tag": lambda: {"name": "Ma", "tag": "common"},
            "name common + segment big": lambda: {"name": "Mar", "segment_id": big},
            "name common + segment small": lambda: {"name": "Ma", "segment_id": small},
            "name nobody + segment big": lambda: {"name": "zzq", "segment_id": big},
            "name nobody + tag": lambda: {"name": "zzq", "tag": "common"},
            "name common + stage lead": lambda: {"name": "Ma", "lifecycle_stage": "lead"},
            "name common + stage rare": lambda: {"name": "Ma", "lifecycle_stage": "rare"},
            "name common alone": lambda: {"name": "Ma"},
            "first and last name + tag": lambda: {"name": "Maria Smith", "tag": "common"},
            "tag + segment big": lambda: {"tag": "common", "segment_id": big},
            "tag rare + segment big": lambda: {"tag": "rare", "segment_id": big},
            "tag + stage rare": lambda: {"tag": "common", "lifecycle_stage": "rare"},
            "segment big + stage rare": lambda: {"segment_id": big, "lifecycle_stage": "rare"},
            "segment big, a deep page": lambda: {"segment_id": big, **deep()},
            "tag, a deep page": lambda: {"tag": "common", **deep()},
            "stage lead, a deep page": lambda: {"lifecycle_stage": "lead", **deep()},
        }
        timings: dict[str, dict[str, float]] = {}
        app = create_app(settings)
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {key}"}
            for name, make in calls.items():
                say(f"{name} …")
                client.get("/api/v1/contacts", params={"limit": 50, **make()}, headers=headers)  # warm
                ms = []
                for _ in range(repeat):
                    params = {"limit": 50, **make()}
                    started = time.perf_counter()
                    r = client.get("/api/v1/contacts", params=params, headers=headers)
                    ms.append((time.perf_counter() - started) * 1000)
                    if r.status_code != 200:
                        raise RuntimeError(f"{name}: {r.status_code} {r.text[:200]}")
                timings[name] = {"p50_ms": round(_p(ms, 0.5), 1), "p95_ms": round(_p(ms, 0.95), 1)}
        worst = max(t["p95_ms"] for t in timings.values())
        return {
            "calls": timings,
            "worst_p95_ms": worst,
            "under_300ms": worst <= GOAL_MS,
            "contacts": size,
            "repeat": repeat,
            "database": url.split(":", 1)[0],
        }
