"""The outbox's enqueue: one row per idempotency key, the id of the row holding each key
returned in order (new or old), and no message for a contact that is not the workspace's —
checked by enqueue for callers that name contacts, by the foreign key for the journey engine
(``contacts_known``), whose contacts come from the enrollments it claimed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from kairos.contacts.tables import contact
from kairos.errors import NotFound
from kairos.messaging import outbox
from kairos.messaging.tables import message
from kairos.workspaces.service import CreatedWorkspace

NOW = datetime.fromisoformat("2026-12-07T12:00:00+00:00")


def _contacts(engine: Engine, workspace_id: int, n: int) -> list[int]:
    with engine.begin() as conn:
        return list(
            conn.execute(
                insert(contact).returning(contact.c.id),
                [{"workspace_id": workspace_id, "email": f"w{workspace_id}c{i}@example.com", "traits": {},
                  "score": 0, "created_at": NOW, "updated_at": NOW} for i in range(n)],
            ).scalars()
        )  # fmt: skip


def _message(cid: int, key: str, **kw: object) -> outbox.NewMessage:
    return outbox.NewMessage(contact_id=cid, channel="sms", source="api", idempotency_key=key, **kw)  # type: ignore[arg-type]


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(message)).scalar_one())


@pytest.mark.parametrize("contacts_known", [False, True])
def test_each_key_gets_one_row_and_its_id_comes_back_in_order(
    engine: Engine, workspace: CreatedWorkspace, contacts_known: bool
) -> None:
    a, b, c = _contacts(engine, workspace.id, 3)
    later = NOW + timedelta(hours=2)
    with engine.begin() as conn:
        [old] = outbox.enqueue(conn, workspace.id, [_message(a, "k-old")], NOW)
    with engine.begin() as conn:
        # all new: the ids the rows got, in order
        fresh = outbox.enqueue(
            conn,
            workspace.id,
            [_message(a, "k1", data={"content": {"text": "hi"}}), _message(b, "k2", send_at=later),
             _message(c, "k3", variant="B")],
            NOW,
            contacts_known=contacts_known,
        )  # fmt: skip
        # an existing key, a key twice in the batch and a new one
        mixed = outbox.enqueue(
            conn,
            workspace.id,
            [_message(b, "k-old"), _message(c, "k4"), _message(c, "k4"), _message(a, "k1")],
            NOW,
            contacts_known=contacts_known,
        )
        rows = {
            r.idempotency_key: r
            for r in conn.execute(select(message).where(message.c.workspace_id == workspace.id))
        }
    assert len(set(fresh)) == 3 and old not in fresh
    assert [rows[k].id for k in ("k1", "k2", "k3")] == fresh
    assert mixed == [old, rows["k4"].id, rows["k4"].id, fresh[0]]
    assert sorted(rows) == ["k-old", "k1", "k2", "k3", "k4"]
    assert rows["k-old"].contact_id == a  # the existing row is left alone
    k1, k2, k3 = rows["k1"], rows["k2"], rows["k3"]
    assert (k1.contact_id, k1.channel, k1.source, k1.status, k1.attempts) == (a, "sms", "api", "queued", 0)
    assert k1.data == {"content": {"text": "hi"}} and k2.data is None
    assert (k1.next_attempt_at, k2.next_attempt_at, k1.created_at, k1.updated_at) == (NOW, later, NOW, NOW)
    assert (k3.variant, k1.variant, k1.transactional) == ("B", None, False)


def test_a_contact_not_of_the_workspace_is_refused_and_nothing_is_written(
    engine: Engine, workspace: CreatedWorkspace, other_workspace: CreatedWorkspace
) -> None:
    [mine] = _contacts(engine, workspace.id, 1)
    [theirs] = _contacts(engine, other_workspace.id, 1)
    for cid in (theirs, 999_999):
        with pytest.raises(NotFound) as err, engine.begin() as conn:
            outbox.enqueue(conn, workspace.id, [_message(mine, "a"), _message(cid, "b")], NOW)
        assert err.value.code == "contact_not_found"
    assert _count(engine) == 0


def test_a_known_contact_deleted_meanwhile_gets_no_message(
    engine: Engine, workspace: CreatedWorkspace
) -> None:
    """``contacts_known`` skips the count, not the guarantee: the foreign key refuses a
    contact deleted after the caller read it, and the whole batch with it."""
    kept, gone = _contacts(engine, workspace.id, 2)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(delete(contact).where(contact.c.id == gone))
        outbox.enqueue(
            conn, workspace.id, [_message(kept, "a"), _message(gone, "b")], NOW, contacts_known=True
        )
    assert _count(engine) == 0


def test_references_are_still_checked_for_known_contacts(engine: Engine, workspace: CreatedWorkspace) -> None:
    [cid] = _contacts(engine, workspace.id, 1)
    with pytest.raises(NotFound) as err, engine.begin() as conn:
        outbox.enqueue(
            conn, workspace.id, [_message(cid, "a", template_id=424_242)], NOW, contacts_known=True
        )
    assert err.value.code == "template_not_found"
    assert _count(engine) == 0
