"""Two server processes ingesting at once (two engines, two writers, two ingest-log
processors) introducing the same people: every acknowledged message lands exactly once, on
one contact per person — the processors take turns on the log (SQLite's write lock, an
advisory lock on PostgreSQL) instead of racing to create the same identities."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, func, select

from kairos.clock import SystemClock
from kairos.config import Settings
from kairos.contacts.tables import contact, identity
from kairos.db.engine import make_engine
from kairos.events.log import IngestProcessor
from kairos.events.messages import parse_message
from kairos.events.tables import event
from kairos.events.writer import IngestWriter
from kairos.workspaces.service import CreatedWorkspace

PEOPLE = 40
ROUNDS = 15


def test_two_writers_creating_the_same_people_at_once(
    settings: Settings, engine: Engine, workspace: CreatedWorkspace
) -> None:
    clock = SystemClock()
    engines = [make_engine(settings) for _ in range(2)]
    processors = [IngestProcessor(e, clock) for e in engines]
    writers = [IngestWriter(e, clock, on_commit=p.appended) for e, p in zip(engines, processors, strict=True)]
    for w, p in zip(writers, processors, strict=True):
        w.start()
        p.start()
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def send(side: int) -> None:
        start.wait()
        try:
            for r in range(ROUNDS):
                now = clock.now()
                # Both sides introduce the same new people in the same rounds.
                messages = [
                    parse_message(
                        {
                            "type": "track",
                            "userId": f"user-{r}-{p}",
                            "anonymousId": f"anon-{r}-{p}",
                            "event": "Visit",
                            "messageId": f"{side}-{r}-{p}",
                        },
                        None,
                        now,
                    )
                    for p in range(PEOPLE)
                ]
                writers[side].submit_sync(workspace.id, messages)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(side,)) for side in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for w in writers:
        w.stop()
    for p in processors:
        p.stop()
    for e in engines:
        e.dispose()

    assert errors == []
    people = PEOPLE * ROUNDS
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(event)).scalar_one() == 2 * people
        assert conn.execute(select(func.count()).select_from(contact)).scalar_one() == people
        assert conn.execute(select(func.count()).select_from(identity)).scalar_one() == 2 * people
        per_contact = (
            conn.execute(select(func.count()).select_from(event).group_by(event.c.contact_id)).scalars().all()
        )
    assert set(per_contact) == {2}
