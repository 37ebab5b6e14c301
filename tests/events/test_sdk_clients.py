"""The real Segment and RudderStack Python libraries, pointed at a running ``kairos serve``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rudderstack.analytics.client import Client as RudderClient
from segment.analytics.client import Client as SegmentClient
from sqlalchemy import Engine, func, select

from kairos.contacts.tables import contact, identity
from kairos.events.tables import event
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import LiveServer, settle

Factory = Callable[[str, str, list[Any]], Any]


def segment_client(key: str, host: str, errors: list[Any]) -> Any:
    return SegmentClient(
        write_key=key,
        host=host,
        gzip=True,
        max_retries=0,
        on_error=lambda e, batch: errors.append(e),
        upload_size=50,
    )


def rudder_client(key: str, host: str, errors: list[Any]) -> Any:
    return RudderClient(
        write_key=key,
        host=host,
        gzip=True,
        max_retries=0,
        on_error=lambda e, batch: errors.append(e),
        upload_size=50,
    )


def contact_of(engine: Engine, ws: int, kind: str, value: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(identity.c.contact_id).where(
                    identity.c.workspace_id == ws, identity.c.kind == kind, identity.c.value == value
                )
            ).scalar_one()
        )


def events_of(engine: Engine, contact_id: int) -> dict[tuple[str, str | None], int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(event.c.type, event.c.name, func.count())
            .where(event.c.contact_id == contact_id)
            .group_by(event.c.type, event.c.name)
        ).all()
    return {(t, n): c for t, n, c in rows}


@pytest.mark.parametrize("make_client", [segment_client, rudder_client], ids=["segment", "rudderstack"])
def test_library_events_land_on_the_right_contacts(
    live_server: LiveServer, engine: Engine, workspace: CreatedWorkspace, make_client: Factory
) -> None:
    errors: list[Any] = []
    client = make_client(workspace.write_key, live_server.url, errors)
    # An anonymous visitor browses, then signs up and is identified; a second user buys.
    for i in range(30):
        client.page(anonymous_id="visitor-1", name="Product", properties={"path": f"/p/{i}"})
    client.track(anonymous_id="visitor-1", event="Added to Cart", properties={"sku": "A-1"})
    client.identify(
        user_id="user-1", anonymous_id="visitor-1", traits={"email": "Ann@Example.com", "plan": "pro"}
    )
    for i in range(120):
        client.track(user_id="user-2", event="Order Completed", properties={"revenue": 10 + i})
    client.identify(user_id="user-2", traits={"firstName": "Bo"})
    client.flush()
    client.join()
    assert errors == []

    ann = contact_of(engine, workspace.id, "user_id", "user-1")
    assert contact_of(engine, workspace.id, "anonymous_id", "visitor-1") == ann
    assert events_of(engine, ann) == {
        ("page", "Product"): 30,
        ("track", "Added to Cart"): 1,
        ("identify", None): 1,
    }
    bo = contact_of(engine, workspace.id, "user_id", "user-2")
    assert events_of(engine, bo) == {("track", "Order Completed"): 120, ("identify", None): 1}
    with engine.connect() as conn:
        profile = conn.execute(select(contact.c.email, contact.c.traits).where(contact.c.id == ann)).one()
        first_name = conn.execute(select(contact.c.first_name).where(contact.c.id == bo)).scalar_one()
        lib = conn.execute(select(event.c.context).where(event.c.contact_id == bo).limit(1)).scalar_one()
    assert profile.email == "ann@example.com" and profile.traits == {"plan": "pro"}
    assert first_name == "Bo"
    assert lib["library"]["name"]  # the library's own context arrives intact


def test_a_resent_batch_creates_no_duplicates(
    live_server: LiveServer, engine: Engine, workspace: CreatedWorkspace
) -> None:
    from segment.analytics.request import post

    batch = [
        {
            "type": "track",
            "userId": "u",
            "event": "E",
            "messageId": f"resend-{i}",
            "timestamp": "2026-01-01T00:00:00Z",
        }
        for i in range(40)
    ]
    for _ in range(3):  # the library retrying after lost answers
        post(workspace.write_key, host=live_server.url, gzip=True, batch=batch)
    settle(engine)  # the server makes the events within milliseconds of its answers; do not race it
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(event)).scalar_one() == 40


def test_wrong_write_key_is_refused_by_the_server(
    live_server: LiveServer, engine: Engine, workspace: CreatedWorkspace
) -> None:
    errors: list[Any] = []
    client = segment_client("wk_not-a-key", live_server.url, errors)
    client.track(user_id="u", event="E")
    client.flush()
    client.join()
    assert len(errors) == 1
    assert errors[0].status == 401 and errors[0].code == "unauthorized"
    settle(engine)  # nothing to process: the refused request was never stored
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(event)).scalar_one() == 0
