"""The console's contact pages on the B3 dataset: ``kairos bench console``.

Issue 14 asks that the contact list, search and profile calls answer with a p95 ≤ 300 ms at
1M contacts / 20M events. This times each API call the console makes for them, through the
real application (routing, authentication, auditing of nothing — they are reads —,
serialisation) in-process, ``repeat`` times each with different contacts and words:

- the list's first page and a page deep in the list (a cursor in the middle);
- a search by email, by phone, by external id (identity lookups);
- a name search by a common first-name prefix and by one that matches nobody (the worst
  case: every contact is looked at);
- the list filtered by lifecycle stage, by tag and by segment when the dataset has them;
- a profile: the contact, its segments, its event timeline (first page), its messages.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select

from kairos_bench.common import workdir
from kairos_bench.segments import open_dataset

GOAL_MS = 300.0


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_console(
    *,
    database_url: str | None,
    path: Path | None,
    workspace_id: int | None,
    repeat: int,
    contacts: int,
    events: int,
    keep: bool,
    say: Callable[[str], None],
) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from kairos.api.app import create_app
    from kairos.clock import SystemClock
    from kairos.config import Settings
    from kairos.contacts.tables import contact, contact_tag, tag
    from kairos.segments.tables import segment, segment_membership
    from kairos.workspaces.service import create_key

    with workdir(keep) as tmp:
        engine, gen, url = open_dataset(
            database_url=database_url, path=path, workspace_id=workspace_id, tmp=tmp,
            contacts=contacts, events=events, say=say,
        )  # fmt: skip
        ws = gen.workspace_id
        rng = random.Random(7)
        with engine.begin() as conn:
            key = create_key(conn, SystemClock(), ws, "api", "bench console", "analyst")
            low, high = conn.execute(
                select(func.min(contact.c.id), func.max(contact.c.id)).where(contact.c.workspace_id == ws)
            ).one()
            sample = conn.execute(
                select(
                    contact.c.id,
                    contact.c.email,
                    contact.c.phone,
                    contact.c.external_id,
                    contact.c.first_name,
                ).where(
                    contact.c.workspace_id == ws,
                    contact.c.merged_into.is_(None),
                    contact.c.id.in_([rng.randint(low, high) for _ in range(repeat * 4)]),
                )
            ).all()
            stage = conn.execute(
                select(contact.c.lifecycle_stage)
                .where(contact.c.workspace_id == ws, contact.c.lifecycle_stage.is_not(None))
                .limit(1)
            ).scalar()
            tag_name = conn.execute(
                select(tag.c.name)
                .join(contact_tag, contact_tag.c.tag_id == tag.c.id)
                .where(tag.c.workspace_id == ws)
                .limit(1)
            ).scalar()
            segment_id = conn.execute(
                select(segment.c.id)
                .join(segment_membership, segment_membership.c.segment_id == segment.c.id)
                .where(segment.c.workspace_id == ws)
                .limit(1)
            ).scalar()
        engine.dispose()
        if len(sample) < repeat:
            raise RuntimeError("the dataset has too few contacts for this benchmark")

        app = create_app(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
        calls: dict[str, Callable[[Any], str]] = {
            "list_first_page": lambda c: "/contacts?limit=50",
            "list_deep_page": lambda c: f"/contacts?limit=50&after={_cursor(c.id)}",
            "search_email": lambda c: f"/contacts?email={quote(c.email or 'nobody@example.com')}",
            "search_phone": lambda c: (
                f"/contacts?phone={quote('+' + (c.phone or '12125550100').lstrip('+'))}"
            ),
            "search_external_id": lambda c: f"/contacts?external_id={quote(c.external_id or 'nobody')}",
            "search_name_common": lambda c: f"/contacts?name={quote((c.first_name or 'a')[:2])}",
            "search_name_none": lambda c: "/contacts?name=zzqxj",
            "profile": lambda c: f"/contacts/{c.id}",
            "profile_segments": lambda c: f"/contacts/{c.id}/segments",
            "profile_timeline": lambda c: f"/contacts/{c.id}/events?limit=50",
            "profile_messages": lambda c: f"/messages?contact_id={c.id}&limit=50",
        }
        if stage:
            calls["filter_stage"] = lambda c: f"/contacts?lifecycle_stage={stage}&limit=50"
        if tag_name:
            calls["filter_tag"] = lambda c: f"/contacts?tag={tag_name}&limit=50"
        if segment_id:
            calls["filter_segment"] = lambda c: f"/contacts?segment_id={segment_id}&limit=50"
        timings: dict[str, dict[str, float]] = {}
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {key}"}
            for name, make in calls.items():
                say(f"{name} …")
                client.get("/api/v1" + make(sample[0]), headers=headers)  # warm the caches
                ms = []
                for c in sample[:repeat]:
                    t0 = time.perf_counter()
                    r = client.get("/api/v1" + make(c), headers=headers)
                    ms.append((time.perf_counter() - t0) * 1000)
                    if r.status_code != 200:
                        raise RuntimeError(f"{name}: {r.status_code} {r.text[:200]}")
                timings[name] = {"p50_ms": round(_p(ms, 0.5), 1), "p95_ms": round(_p(ms, 0.95), 1)}
        worst = max(t["p95_ms"] for t in timings.values())
        return {
            "calls": timings,
            "worst_p95_ms": worst,
            "under_300ms": worst <= GOAL_MS,
            "repeat": repeat,
            "workspace": ws,
            "database": url.split(":", 1)[0],
        }


def _cursor(contact_id: int) -> str:
    from kairos.api.deps import encode_cursor

    return encode_cursor(contact_id)
