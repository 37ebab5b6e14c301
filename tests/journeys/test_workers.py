"""Two worker processes share the journeys and the outbox, and one is killed with SIGKILL
mid-run: no enrollment is lost, no step happens twice, and no message is sent twice except
the few the killed worker had in flight."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, func, insert, select

from kairos.clock import SystemClock
from kairos.config import Settings
from kairos.contacts.tables import contact
from kairos.crypto import Keyring
from kairos.journeys.engine import VERSIONS
from kairos.journeys.entry import Candidate, enroll
from kairos.journeys.service import create_journey, publish
from kairos.journeys.tables import enrollment, journey_step
from kairos.messaging import outbox
from kairos.messaging.service import create_channel, create_template
from kairos.messaging.tables import message
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import expire_claims, worker_process
from tests.messaging.conftest import SmtpServer, smtp_settings

CONTACTS = 3000


def _worker(database_url: str, log: Path, *args: str) -> subprocess.Popen[bytes]:
    return worker_process(
        database_url,
        log,
        *args,
        KAIROS_DISPATCH_BATCH="100",
        KAIROS_WORKER_INTERVAL="0.05",
        KAIROS_ALLOW_PRIVATE_TARGETS="true",
    )


#: The waits below end as soon as their condition holds (unloaded, the whole test takes about
#: 10 s). They fail when the workers make no progress for this long — generous, for a loaded
#: 2-core machine where starting a worker alone can take 30 s — or run past ``LIMIT``.
STALL = 180.0
LIMIT = 900.0


def _state(engine: Engine, smtp: SmtpServer) -> str:
    """What the workers have done so far, for waits and failure messages."""
    with engine.connect() as conn:
        messages = dict(conn.execute(select(message.c.status, func.count()).group_by(message.c.status)).all())
        states = dict(
            conn.execute(select(enrollment.c.state, func.count()).group_by(enrollment.c.state)).all()
        )
    return f"received {len(smtp.recorder.received)}, messages {messages}, enrollments {states}"


def _wait_until(
    what: str,
    condition: Callable[[], bool],
    workers: tuple[subprocess.Popen[bytes], ...],
    engine: Engine,
    smtp: SmtpServer,
    log: Path,
) -> None:
    """Wait for ``condition`` while the workers live and make progress; a failure says how
    far they got and shows their log."""
    started = last_change = last_look = time.monotonic()
    seen = ""
    while not condition():
        for proc in workers:
            assert proc.poll() is None, (
                f"a worker exited ({proc.returncode}) before {what}:\n" + log.read_text()
            )
        now = time.monotonic()
        if now - last_look >= 0.5:  # reading the state is heavier than the condition
            last_look, state = now, _state(engine, smtp)
            if state != seen:
                seen, last_change = state, now
            assert now - last_change < STALL, (
                f"waiting for {what}: no progress in {STALL:.0f} s; {seen}\n" + log.read_text()
            )
            assert now - started < LIMIT, (
                f"waiting for {what}: not done in {LIMIT:.0f} s; {seen}\n" + log.read_text()
            )
        time.sleep(0.02)  # watching other processes make progress, not business time


def test_two_workers_and_a_sigkill_lose_nothing_and_repeat_nothing(
    engine: Engine,
    settings: Settings,
    database_url: str,
    workspace: CreatedWorkspace,
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    now = SystemClock().now()
    with engine.begin() as conn:
        create_channel(
            conn,
            workspace.id,
            Keyring(settings.resolved_secret_key()),
            now,
            name="mail",
            provider_name="smtp",
            settings=smtp_settings(smtp),
            secrets={},
            is_default=True,
            rate_limit=None,
            allow_private=True,  # the SMTP server of the test is on 127.0.0.1
        )
        tid = create_template(
            conn,
            workspace.id,
            now,
            name="hello",
            channel="email",
            fields={"subject": "Hello {{ contact.first_name }}", "format": "html", "body": "<p>Hi</p>"},
        )["id"]
        conn.execute(
            insert(contact),
            [
                {
                    "workspace_id": workspace.id,
                    "email": f"w{i}@example.com",
                    "first_name": f"W{i}",
                    "external_id": f"w{i}",
                    "traits": {},
                    "score": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(CONTACTS)
            ],
        )
        ids = list(conn.execute(select(contact.c.id).where(contact.c.workspace_id == workspace.id)).scalars())
        j = create_journey(
            conn,
            workspace.id,
            now,
            name="welcome",
            description=None,
            layout=None,
            definition={
                "trigger": {"type": "api"},
                "start": "tag",
                "nodes": {
                    "tag": {"type": "update_contact", "add_tags": ["welcomed"], "next": "mail"},
                    "mail": {
                        "type": "send",
                        "channel": "email",
                        "template_id": tid,
                        "transactional": True,
                        "next": None,
                    },
                },
            },
        )
        live = publish(conn, workspace.id, j["id"], now)
        definition = VERSIONS.get(conn, live["version_id"])[2]
        enroll(
            conn,
            workspace.id,
            j["id"],
            live["version_id"],
            definition,
            [Candidate(c, f"api:{c}") for c in ids],
            now,
        )

    log = tmp_path / "workers.log"
    a, b = _worker(database_url, log), _worker(database_url, log)
    received = lambda: len(smtp.recorder.received)  # noqa: E731
    try:
        _wait_until(
            f"the two workers to send {CONTACTS // 4} of {CONTACTS} messages",
            lambda: received() >= CONTACTS // 4,
            (a, b), engine, smtp, log,
        )  # fmt: skip
        a.send_signal(signal.SIGKILL)
        a.wait(timeout=30)
        assert received() < CONTACTS, "the kill came too late to test anything:\n" + _state(engine, smtp)
        with engine.connect() as conn:
            in_flight = conn.execute(
                select(func.count()).where(message.c.status == outbox.SENDING)
            ).scalar_one()

        def only_claims_left() -> bool:
            with engine.connect() as conn:
                left = conn.execute(
                    select(func.count()).where(message.c.status == outbox.QUEUED)
                ).scalar_one()
                running = conn.execute(
                    select(func.count()).where(enrollment.c.state == "active")
                ).scalar_one()
            return left == 0 and running == 0

        # b carries on alone until only the killed worker's claims are left
        _wait_until("worker b to finish alone", only_claims_left, (b,), engine, smtp, log)
    finally:
        for proc in (a, b):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=STALL)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    raise AssertionError(f"a worker did not stop within {STALL:.0f} s of SIGTERM:\n"
                                         + log.read_text()) from None  # fmt: skip
    expire_claims(engine)
    once = _worker(database_url, log, "--once")
    try:
        code = once.wait(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        once.kill()
        raise AssertionError(
            f"worker --once did not finish in {LIMIT:.0f} s: {_state(engine, smtp)}\n" + log.read_text()
        ) from None
    assert code == 0, log.read_text()

    with engine.connect() as conn:
        states = dict(
            conn.execute(select(enrollment.c.state, func.count()).group_by(enrollment.c.state)).all()
        )
        steps = Counter(conn.execute(select(journey_step.c.enrollment_id, journey_step.c.node)).all())
        messages = conn.execute(select(func.count()).select_from(message)).scalar_one()
        sent = conn.execute(select(func.count()).where(message.c.status == outbox.SENT)).scalar_one()
    assert states == {"completed": CONTACTS}
    assert len(steps) == 2 * CONTACTS and set(steps.values()) == {1}  # every step once
    assert messages == CONTACTS and sent == CONTACTS  # one message per contact, all sent
    received = Counter(r.rcpt_tos[0] for r in smtp.recorder.received)
    assert len(received) == CONTACTS
    assert sum(n - 1 for n in received.values()) <= in_flight
