"""What the console's contact profile and list read besides the contact itself: the lifecycle
stage history (with what changed it), the merges a contact absorbed, and the stages the list
filter offers."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from kairos.clock import FixedClock
from kairos.contacts import service
from kairos.contacts.tables import contact
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.workspaces.service import CreatedWorkspace
from tests.api.test_console_auth import Browser, user
from tests.conftest import Api


def make(api: Api, **fields: Any) -> dict[str, Any]:
    r = api.post("/contacts", fields)
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


def send(engine: Engine, ws: CreatedWorkspace, clock: FixedClock, *messages: dict[str, Any]) -> None:
    parsed = [parse_message(m, None, clock.now(), where=f"m{i}") for i, m in enumerate(messages)]
    with engine.begin() as conn:
        ingest(conn, ws.id, parsed, clock.now())


def test_the_stage_history_is_newest_first_with_its_source_and_pages(
    api: Api, client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    cid = make(api, external_id="u1", lifecycle_stage="lead")["id"]
    t0 = clock.now()
    for stage in ("mql", "sql", None):
        clock.advance(timedelta(hours=1))
        assert api.patch(f"/contacts/{cid}", {"lifecycle_stage": stage}).status_code == 200
    clock.advance(timedelta(hours=1))
    assert api.patch(f"/contacts/{cid}", {"lifecycle_stage": None}).status_code == 200  # no change

    # a console user's change is told apart from an API key's
    user(engine, clock, workspace.id, "mia@example.com", "marketer")
    browser = Browser(client, workspace.id)
    assert browser.sign_in("mia@example.com").status_code == 200
    r = browser.call("PATCH", f"/contacts/{cid}", {"lifecycle_stage": "customer"})
    assert r.status_code == 200 and r.json()["lifecycle_stage"] == "customer"

    history = api.get(f"/contacts/{cid}/lifecycle").json()
    assert history["next"] is None
    assert [(h["from_stage"], h["to_stage"], h["source"]) for h in history["data"]] == [
        (None, "customer", "console"),
        ("sql", None, "api"),
        ("mql", "sql", "api"),
        ("lead", "mql", "api"),
        (None, "lead", "api"),
    ]
    assert history["data"][-1]["changed_at"].startswith(t0.strftime("%Y-%m-%dT%H:%M"))

    pages, after = [], None
    while True:
        r = api.get(f"/contacts/{cid}/lifecycle", params={"limit": 2, **({"after": after} if after else {})})
        assert r.status_code == 200, r.text
        pages.append([h["id"] for h in r.json()["data"]])
        after = r.json()["next"]
        if after is None:
            break
    assert [i for p in pages for i in p] == [h["id"] for h in history["data"]]
    assert [len(p) for p in pages] == [2, 2, 1]

    # an analyst reads it too
    user(engine, clock, workspace.id, "ana@example.com", "analyst")
    analyst = Browser(client, workspace.id)
    assert analyst.sign_in("ana@example.com").status_code == 200
    assert len(analyst.call("GET", f"/contacts/{cid}/lifecycle").json()["data"]) == 5

    bad = api.get(f"/contacts/{cid}/lifecycle", params={"after": "bm9wZQ"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cursor"
    missing = api.get("/contacts/999999/lifecycle")
    assert missing.status_code == 404 and missing.json()["code"] == "contact_not_found"


def test_merges_are_listed_on_the_survivor_with_their_history_and_chains(
    api: Api, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    # three anonymous visitors, each later tied to the same email
    for n in (1, 2, 3):
        send(engine, workspace, clock, {"type": "track", "event": "Viewed", "anonymousId": f"a{n}"})
    ids = {
        n: api.get("/contacts", params={"anonymous_id": f"a{n}"}).json()["data"][0]["id"] for n in (1, 2, 3)
    }
    assert api.patch(f"/contacts/{ids[2]}", {"lifecycle_stage": "lead"}).status_code == 200
    clock.advance(timedelta(minutes=5))
    send(engine, workspace, clock, {"type": "identify", "anonymousId": "a2", "traits": {"email": "m@m.io"}})
    send(engine, workspace, clock, {"type": "identify", "anonymousId": "a3", "traits": {"email": "m@m.io"}})
    clock.advance(timedelta(minutes=5))
    send(engine, workspace, clock, {"type": "identify", "anonymousId": "a1", "traits": {"email": "m@m.io"}})
    survivor = ids[1]
    assert api.get(f"/contacts/{ids[3]}").json()["id"] == survivor

    merges = api.get(f"/contacts/{survivor}/merges").json()
    assert merges["next"] is None
    got = [(m["merged_id"], m["into_id"]) for m in merges["data"]]
    # a3 was merged into a2's contact first, then that one into a1's: both show, newest first
    assert got == [(ids[2], survivor), (ids[3], ids[2])]
    assert "m@m.io" in merges["data"][1]["reason"]
    assert merges["data"][0]["merged_at"] > merges["data"][1]["merged_at"]
    # a merged id reads its survivor's merges, and its stage history came along
    assert api.get(f"/contacts/{ids[3]}/merges").json() == merges
    history = api.get(f"/contacts/{survivor}/lifecycle").json()["data"]
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [(None, "lead")]

    page = api.get(f"/contacts/{survivor}/merges", params={"limit": 1}).json()
    assert [m["merged_id"] for m in page["data"]] == [ids[2]]
    rest = api.get(f"/contacts/{survivor}/merges", params={"limit": 1, "after": page["next"]}).json()
    assert [m["merged_id"] for m in rest["data"]] == [ids[3]]

    lone = make(api, external_id="lone")["id"]
    assert api.get(f"/contacts/{lone}/merges").json() == {"data": [], "next": None}
    assert api.delete(f"/contacts/{survivor}").status_code == 204
    assert api.get(f"/contacts/{survivor}/merges").json()["code"] == "contact_not_found"


def test_the_stage_filter_offers_the_stages_of_live_contacts_of_the_workspace(
    api: Api, client: TestClient, engine: Engine, other_workspace: CreatedWorkspace
) -> None:
    assert api.get("/contacts/lifecycle-stages").json() == {"data": [], "next": None}
    made = [
        make(api, external_id=f"u{n}", **({"lifecycle_stage": stage} if stage else {}))["id"]
        for n, stage in enumerate(["lead", "customer", "lead", "MQL", "已成交", None, "ghost"])
    ]
    make(Api(client, other_workspace.api_key), external_id="x", lifecycle_stage="theirs")
    with engine.begin() as conn:  # the only "ghost" was merged away: not offered
        conn.execute(update(contact).where(contact.c.id == made[-1]).values(merged_into=made[0]))

    stages = [s["stage"] for s in api.get("/contacts/lifecycle-stages").json()["data"]]
    assert stages == sorted(["lead", "customer", "MQL", "已成交"])
    # the list filters by each of them (and a stage nobody is at finds nobody)
    leads = api.get("/contacts", params={"lifecycle_stage": "lead"}).json()["data"]
    assert [c["external_id"] for c in leads] == ["u0", "u2"]
    assert api.get("/contacts", params={"lifecycle_stage": "ghost"}).json()["data"] == []


@pytest.mark.parametrize("few", [0, 3, 5000])
def test_every_combination_of_search_and_filters_finds_the_same_contacts_whichever_index_leads(
    api: Api, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    """The list walks the index of the filter that holds for few contacts (``FEW``): whichever
    leads, every combination of name, segment, tag and stage pages through the same contacts."""
    monkeypatch.setattr(service, "FEW", few)
    rng = random.Random(14)
    firsts, lasts, stages = ["Ann", "Anna", "Bo", "Li"], ["Lee", "Annan", "Kim"], ["lead", "mql", None]
    people: list[dict[str, Any]] = []
    for n in range(30):
        person = {"first": rng.choice(firsts), "last": rng.choice(lasts), "stage": rng.choice(stages),
                  "vip": rng.random() < 0.4, "member": rng.random() < 0.5}  # fmt: skip
        body = {"external_id": f"p{n}", "first_name": person["first"], "last_name": person["last"],
                "tags": ["vip"] if person["vip"] else []}  # fmt: skip
        if person["stage"]:
            body["lifecycle_stage"] = person["stage"]
        person["id"] = make(api, **body)["id"]
        people.append(person)
    seg = api.post("/segments", {"name": "some", "kind": "static"}).json()["id"]
    members = [p["id"] for p in people if p["member"]]
    assert api.post(f"/segments/{seg}/members", {"contact_ids": members}).status_code == 200

    def named(p: dict[str, Any], name: str) -> bool:
        words = name.lower().split()
        first, last = p["first"].lower(), p["last"].lower()
        if len(words) == 1:
            return first.startswith(words[0]) or last.startswith(words[0])
        head, tail = words[0], " ".join(words[1:])
        return (first.startswith(head) and last.startswith(tail)) or (
            last.startswith(head) and first.startswith(tail)
        )

    for name in (None, "an", "ann lee", "zz"):
        for in_segment in (False, True):
            for tag in (None, "vip"):
                for stage in (None, "lead"):
                    expected = [
                        p["id"] for p in people
                        if (name is None or named(p, name)) and (not in_segment or p["member"])
                        and (tag is None or p["vip"]) and (stage is None or p["stage"] == stage)
                    ]  # fmt: skip
                    params: dict[str, Any] = {"limit": 4}
                    params.update(
                        {k: v for k, v in (("name", name), ("tag", tag), ("lifecycle_stage", stage)) if v}
                    )
                    if in_segment:
                        params["segment_id"] = seg
                    got: list[int] = []
                    while True:
                        r = api.get("/contacts", params=params)
                        assert r.status_code == 200, r.text
                        got += [c["id"] for c in r.json()["data"]]
                        if r.json()["next"] is None:
                            break
                        params["after"] = r.json()["next"]
                    assert got == expected, (name, in_segment, tag, stage)
