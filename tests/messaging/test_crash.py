"""A worker killed with SIGKILL in the middle of a large send loses nothing: after a
restart every contact has its message, and only the messages in flight at the instant of
the kill (at most one claimed batch) can arrive twice."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import Engine, func, insert, select

from kairos.clock import SystemClock
from kairos.config import Settings
from kairos.contacts.tables import contact
from kairos.crypto import Keyring
from kairos.messaging import outbox
from kairos.messaging.service import create_channel, create_template
from kairos.messaging.tables import message
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import expire_claims, worker_process
from tests.messaging.conftest import SmtpServer, smtp_settings

CONTACTS = 3000
BATCH = 100


def _worker(database_url: str, log: Path, *args: str) -> subprocess.Popen[bytes]:
    return worker_process(
        database_url, log, *args, KAIROS_DISPATCH_BATCH=str(BATCH), KAIROS_ALLOW_PRIVATE_TARGETS="true"
    )


def test_sigkill_during_a_send_loses_nothing_and_duplicates_only_the_batch_in_flight(
    engine: Engine,
    settings: Settings,
    database_url: str,
    workspace: CreatedWorkspace,
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    now = SystemClock().now()
    keyring = Keyring(settings.resolved_secret_key())
    with engine.begin() as conn:
        create_channel(
            conn, workspace.id, keyring, now, name="mail", provider_name="smtp",
            settings=smtp_settings(smtp), secrets={}, is_default=True, rate_limit=None,
            allow_private=True,  # the SMTP server of the test is on 127.0.0.1
        )  # fmt: skip
        tid = create_template(
            conn, workspace.id, now, name="news", channel="email",
            fields={"subject": "News for {{ contact.first_name }}", "format": "html",
                    "body": "<p>Hello {{ contact.first_name }}</p>"},
        )["id"]  # fmt: skip
        conn.execute(
            insert(contact),
            [
                {"workspace_id": workspace.id, "email": f"p{i}@example.com", "first_name": f"P{i}",
                 "external_id": f"p{i}", "traits": {}, "score": 0, "created_at": now, "updated_at": now}
                for i in range(CONTACTS)
            ],
        )  # fmt: skip
        ids = list(conn.execute(select(contact.c.id).where(contact.c.workspace_id == workspace.id)).scalars())
        outbox.enqueue(
            conn, workspace.id,
            [outbox.NewMessage(contact_id=cid, channel="email", source="broadcast", template_id=tid,
                               transactional=True, idempotency_key=f"crash-test:{cid}") for cid in ids],
            now,
        )  # fmt: skip

    log = tmp_path / "worker.log"
    proc = _worker(database_url, log)
    deadline = time.monotonic() + 120
    try:
        while len(smtp.recorder.received) < CONTACTS // 3:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the worker sent too little:\n" + log.read_text()
            time.sleep(0.02)  # watching another process make progress
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    at_kill = len(smtp.recorder.received)
    assert at_kill < CONTACTS, "the kill came too late to test anything"

    with engine.connect() as conn:
        in_flight = conn.execute(select(func.count()).where(message.c.status == outbox.SENDING)).scalar_one()
    assert in_flight <= BATCH

    # restart once the lease of the killed worker's claim has run out
    expire_claims(engine)
    rerun = _worker(database_url, log, "--once")
    assert rerun.wait(timeout=300) == 0, log.read_text()

    counts = Counter(r.rcpt_tos[0] for r in smtp.recorder.received)
    assert len(counts) == CONTACTS  # everyone got their message
    duplicates = sum(n - 1 for n in counts.values())
    assert duplicates <= in_flight
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(message.c.status, func.count()).group_by(message.c.status)).all())
    assert statuses == {"sent": CONTACTS}
