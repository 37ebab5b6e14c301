"""Identity resolution and merges, as Segment users expect them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from kairos.clock import FixedClock
from kairos.contacts.tables import contact, contact_merge, contact_tag, identity
from kairos.contacts.tags import add_tags
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.events.tables import event
from kairos.workspaces.service import CreatedWorkspace


def send(engine: Engine, ws: CreatedWorkspace, clock: FixedClock, *messages: dict[str, Any]) -> list[int]:
    """Ingest messages in one transaction; returns the contact each event landed on."""
    parsed = [parse_message(m, None, clock.now(), where=f"m{i}") for i, m in enumerate(messages)]
    with engine.begin() as conn:
        ingest(conn, ws.id, parsed, clock.now())
        ids = [m.message_id for m in parsed]
        rows = dict(
            conn.execute(
                select(event.c.message_id, event.c.contact_id).where(event.c.message_id.in_(ids))
            ).all()
        )
    return [rows[i] for i in ids]


def live_contacts(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(
            select(contact).where(contact.c.merged_into.is_(None)).order_by(contact.c.id)
        ).all()


def owner(engine: Engine, kind: str, value: str) -> int | None:
    with engine.connect() as conn:
        return conn.execute(
            select(identity.c.contact_id).where(identity.c.kind == kind, identity.c.value == value)
        ).scalar()


def t(event: str, n: int, **ids: str) -> dict[str, Any]:
    return {"type": "track", "event": event, "messageId": f"{event}-{n}", **ids}


def test_anonymous_history_is_kept_when_the_visitor_identifies(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    send(engine, workspace, clock, t("Page", 1, anonymousId="anon-1"), t("Page", 2, anonymousId="anon-1"))
    send(
        engine,
        workspace,
        clock,
        {"type": "identify", "userId": "u-1", "anonymousId": "anon-1", "traits": {"email": "a@x.io"}},
    )
    [survivor] = live_contacts(engine)
    assert survivor.external_id == "u-1" and survivor.email == "a@x.io"
    with engine.connect() as conn:
        assert conn.execute(select(event.c.contact_id).distinct()).scalars().all() == [survivor.id]
    assert owner(engine, "anonymous_id", "anon-1") == survivor.id


def test_known_user_on_a_new_device_merges_the_device_history(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    [known] = send(engine, workspace, clock, t("Login", 1, userId="u-1", anonymousId="laptop"))
    [phone] = send(
        engine, workspace, clock, t("Browse", 1, anonymousId="phone"), t("Browse", 2, anonymousId="phone")
    )[:1]
    assert phone != known
    send(engine, workspace, clock, t("Login", 2, userId="u-1", anonymousId="phone"))
    assert [c.id for c in live_contacts(engine)] == [known]  # the older contact survives
    with engine.connect() as conn:
        loser = conn.execute(select(contact).where(contact.c.id == phone)).one()
        merge = conn.execute(select(contact_merge)).one()
        n_events = conn.execute(select(event.c.id).where(event.c.contact_id == known)).all()
    assert loser.merged_into == known
    assert (merge.survivor_id, merge.merged_id) == (known, phone)
    assert "phone" in merge.reason
    assert len(n_events) == 4
    assert owner(engine, "anonymous_id", "phone") == known


def test_email_ties_two_devices_together(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    send(engine, workspace, clock, {"type": "identify", "anonymousId": "d1", "traits": {"email": "x@y.io"}})
    send(engine, workspace, clock, {"type": "identify", "anonymousId": "d2", "traits": {"email": "X@Y.io"}})
    [only] = live_contacts(engine)
    assert owner(engine, "anonymous_id", "d1") == owner(engine, "anonymous_id", "d2") == only.id


def test_two_known_users_sharing_a_device_never_merge(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    [alice] = send(engine, workspace, clock, t("Login", 1, userId="alice", anonymousId="family-ipad"))
    [bob] = send(engine, workspace, clock, t("Login", 2, userId="bob", anonymousId="family-ipad"))
    assert alice != bob
    assert {c.external_id for c in live_contacts(engine)} == {"alice", "bob"}
    assert owner(engine, "anonymous_id", "family-ipad") == alice  # stays with its first owner


def test_alias_merges_previous_anonymous_id_into_the_user(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    [anon] = send(engine, workspace, clock, t("Visit", 1, anonymousId="old-anon"))
    [user] = send(engine, workspace, clock, t("Signup", 1, userId="u-9"))
    send(engine, workspace, clock, {"type": "alias", "previousId": "old-anon", "userId": "u-9"})
    survivor = min(anon, user)
    assert [c.id for c in live_contacts(engine)] == [survivor]
    assert owner(engine, "user_id", "u-9") == owner(engine, "anonymous_id", "old-anon") == survivor


def test_alias_of_a_previous_user_id_merges_even_two_known_users(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    send(engine, workspace, clock, t("A", 1, userId="legacy-42"), t("B", 1, userId="new-42"))
    send(engine, workspace, clock, {"type": "alias", "previousId": "legacy-42", "userId": "new-42"})
    [only] = live_contacts(engine)
    assert owner(engine, "user_id", "legacy-42") == owner(engine, "user_id", "new-42") == only.id


def test_merges_inside_one_batch_and_chains_collapse(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    ids = send(
        engine,
        workspace,
        clock,
        t("E", 1, anonymousId="a"),
        t("E", 2, anonymousId="b"),
        {"type": "identify", "anonymousId": "b", "traits": {"email": "q@q.io"}},
        {"type": "identify", "anonymousId": "a", "traits": {"email": "q@q.io"}},
        t("E", 3, userId="u", anonymousId="a"),
    )
    [only] = live_contacts(engine)
    assert set(ids) == {only.id}
    assert only.external_id == "u" and only.email == "q@q.io"
    with engine.connect() as conn:
        assert conn.execute(select(contact.c.id)).scalars().all() == [
            only.id
        ]  # nothing inserted only to merge


def test_chain_across_batches_points_every_loser_at_the_last_survivor(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    [c1] = send(engine, workspace, clock, t("E", 1, anonymousId="a1"))
    [c2] = send(engine, workspace, clock, t("E", 2, anonymousId="a2"))
    [c3] = send(engine, workspace, clock, t("E", 3, anonymousId="a3"))
    send(engine, workspace, clock, {"type": "identify", "anonymousId": "a2", "traits": {"email": "m@m.io"}})
    send(engine, workspace, clock, {"type": "identify", "anonymousId": "a3", "traits": {"email": "m@m.io"}})
    send(engine, workspace, clock, {"type": "identify", "anonymousId": "a1", "traits": {"email": "m@m.io"}})
    with engine.connect() as conn:
        pointers = dict(conn.execute(select(contact.c.id, contact.c.merged_into)).all())
    assert pointers == {c1: None, c2: c1, c3: c1}


def test_merge_prefers_the_identified_profile_fills_blanks_and_moves_tags(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    [anon] = send(
        engine,
        workspace,
        clock,
        {
            "type": "identify",
            "anonymousId": "a",
            "traits": {"firstName": "Anon", "city": "Lyon", "plan": "free"},
        },
    )
    [user] = send(
        engine,
        workspace,
        clock,
        {"type": "identify", "userId": "u", "traits": {"firstName": "Marie", "plan": "pro"}},
    )
    with engine.begin() as conn:
        add_tags(conn, workspace.id, [(anon, "vip"), (anon, "newsletter"), (user, "vip")], clock.now())
    send(engine, workspace, clock, t("Login", 1, userId="u", anonymousId="a"))
    [survivor] = live_contacts(engine)
    assert survivor.id == anon  # the older id stays valid
    assert survivor.first_name == "Marie"  # what the known customer said wins
    assert survivor.traits == {"city": "Lyon", "plan": "pro"}
    assert survivor.external_id == "u"
    with engine.connect() as conn:
        tags = conn.execute(select(contact_tag.c.contact_id, contact_tag.c.tag_id)).all()
    assert {cid for cid, _ in tags} == {survivor.id} and len(tags) == 2
