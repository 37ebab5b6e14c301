"""The dispatcher's claim: which outbox rows a pass takes, in which order, and — on
PostgreSQL, where several dispatchers claim at the same time — that two overlapping claims
never take the same message (SQLite serialises claims with its write lock)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select, text, true, update

from kairos.clock import FixedClock
from kairos.config import Settings
from kairos.contacts.tables import contact
from kairos.crypto import Keyring
from kairos.db.engine import make_engine
from kairos.messaging import outbox
from kairos.messaging.channels import ChannelOptions
from kairos.messaging.dispatcher import Dispatcher
from kairos.messaging.service import create_channel, create_template
from kairos.messaging.tables import message
from kairos.workspaces.service import CreatedWorkspace
from tests.messaging.conftest import SmtpServer, smtp_settings

NOW = datetime.fromisoformat("2026-12-07T12:00:00+00:00")


def _queue(engine: Engine, workspace: CreatedWorkspace, send_at: list[datetime]) -> list[int]:
    """One message per entry (each to its own contact), due at that instant; their ids."""
    with engine.begin() as conn:
        conn.execute(
            insert(contact),
            [
                {"workspace_id": workspace.id, "email": f"c{i}@example.com", "first_name": f"C{i}",
                 "external_id": f"c{i}", "traits": {}, "score": 0, "created_at": NOW, "updated_at": NOW}
                for i in range(len(send_at))
            ],
        )  # fmt: skip
        cids = conn.execute(
            select(contact.c.id).where(contact.c.workspace_id == workspace.id).order_by(contact.c.id)
        ).scalars()
        return outbox.enqueue(
            conn,
            workspace.id,
            [
                outbox.NewMessage(
                    contact_id=cid,
                    channel="email",
                    source="api",
                    transactional=True,
                    idempotency_key=f"claim:{cid}",
                    send_at=at,
                    data={"content": {}},
                )
                for cid, at in zip(cids, send_at, strict=True)
            ],
            NOW,
        )


def _lease(engine: Engine, mid: int, claimed_at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(message).where(message.c.id == mid).values(status=outbox.SENDING, claimed_at=claimed_at)
        )


def test_a_claim_takes_due_rows_and_expired_leases_oldest_first(
    engine: Engine, workspace: CreatedWorkspace
) -> None:
    hour = timedelta(hours=1)
    # due at: two ties two hours ago, one an hour ago, one in the future, and four more
    # that are handed out below: an expired lease, a live lease, a sent and a failed message
    ids = _queue(engine, workspace, [NOW - 2 * hour, NOW - 2 * hour, NOW - hour, NOW + hour,
                                     NOW - 3 * hour, NOW - 3 * hour, NOW - 3 * hour, NOW - 3 * hour])  # fmt: skip
    tie1, tie2, later, _future, expired, live, sent, failed = ids
    _lease(engine, expired, NOW - outbox.LEASE - timedelta(seconds=1))
    _lease(engine, live, NOW - outbox.LEASE + timedelta(seconds=1))
    with engine.begin() as conn:
        conn.execute(update(message).where(message.c.id == sent).values(status=outbox.SENT))
        conn.execute(update(message).where(message.c.id == failed).values(status=outbox.FAILED))

    with engine.begin() as conn:
        assert [r["id"] for r in outbox.lock_due(conn, NOW, true(), 10)] == [expired, tie1, tie2, later]
    with engine.begin() as conn:
        assert [r["id"] for r in outbox.lock_due(conn, NOW, true(), 2)] == [expired, tie1]
    with engine.begin() as conn:  # the caller's condition (a worker's workspaces) applies
        assert outbox.lock_due(conn, NOW, message.c.workspace_id != workspace.id, 10) == []


def test_overlapping_claims_on_postgresql_never_share_a_message(
    engine: Engine, workspace: CreatedWorkspace
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite: the write lock, taken at BEGIN IMMEDIATE, serialises claims")
    ids = _queue(engine, workspace, [NOW - timedelta(minutes=1)] * 7)
    _lease(engine, ids[0], NOW - outbox.LEASE - timedelta(minutes=1))  # an expired lease
    with engine.connect() as first, engine.connect() as second:
        held = first.begin()
        mine = [r["id"] for r in outbox.lock_due(first, NOW, true(), 3)]
        with second.begin():
            second.execute(text("SET LOCAL lock_timeout = '3s'"))  # waiting would be a bug too
            theirs = [r["id"] for r in outbox.lock_due(second, NOW, true(), 10)]
            assert mine == ids[:3]  # the expired lease first, then the queue in id order
            assert theirs == ids[3:]  # the rest, none of the first claim's
        held.rollback()


def test_a_dispatcher_skips_the_batch_another_holds_and_each_message_is_sent_once(
    engine: Engine, settings: Settings, workspace: CreatedWorkspace, smtp: SmtpServer
) -> None:
    """PostgreSQL: one dispatcher's claim is in progress (its transaction open, its rows
    locked) while another runs passes until nothing is due: the other sends every message
    but those, at once; the first then dies before committing, and its messages go on the
    next pass. Every address receives exactly one message."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite: the write lock, taken at BEGIN IMMEDIATE, serialises claims")
    keyring = Keyring(settings.resolved_secret_key())
    with engine.begin() as conn:
        create_channel(
            conn, workspace.id, keyring, NOW, name="mail", provider_name="smtp",
            settings=smtp_settings(smtp), secrets={}, is_default=True, rate_limit=None,
            allow_private=True,  # the test's SMTP server is on 127.0.0.1
        )  # fmt: skip
        tid = create_template(
            conn, workspace.id, NOW, name="hi", channel="email",
            fields={"subject": "Hi {{ contact.first_name }}", "format": "html", "body": "<p>Hi</p>"},
        )["id"]  # fmt: skip
    ids = _queue(engine, workspace, [NOW - timedelta(minutes=1)] * 9)
    with engine.begin() as conn:
        conn.execute(update(message).where(message.c.id.in_(ids)).values(template_id=tid, data=None))
    # the second dispatcher's connections give up after 3 s instead of waiting on a lock
    impatient = make_engine(
        settings.model_copy(
            update={"database_url": f"{settings.database_url}?options=-c%20lock_timeout%3D3000"}
        )
    )

    second = Dispatcher(
        impatient, FixedClock(NOW), keyring, "https://k.example", batch_size=4,
        options=ChannelOptions(allow_private_targets=True),  # the SMTP server is on 127.0.0.1
    )  # fmt: skip
    try:
        with engine.connect() as conn:
            held = conn.begin()  # the first dispatcher's claim, in progress
            assert [r["id"] for r in outbox.lock_due(conn, NOW, true(), 4)] == ids[:4]
            sent = 0
            while done := second.run(NOW):
                sent += done
            assert sent == 5
            held.rollback()  # the first dies before its claim commits
        while second.run(NOW):
            pass
    finally:
        second.close()
        impatient.dispose()
    rcpts = sorted(to for r in smtp.recorder.received for to in r.rcpt_tos)
    assert rcpts == sorted(f"c{i}@example.com" for i in range(9))
