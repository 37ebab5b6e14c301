"""A message only ever leaves through a channel, and with a template, of its own workspace.

The API refuses foreign ids (tests/api/test_references.py); these tests put a row past the
API, as a bug or a migration might, and check the dispatcher still never pairs a message
with another workspace's channel (its credentials, its From, its signing secret) or template.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from kairos.clock import FixedClock
from kairos.messaging.tables import message
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template, make_contact, smtp_settings


def _queue(engine: Engine, clock: FixedClock, workspace_id: int, contact_id: int, **fields: Any) -> int:
    now = clock.now()
    with engine.begin() as conn:
        return int(
            conn.execute(
                insert(message)
                .values(
                    workspace_id=workspace_id, contact_id=contact_id, channel="email", transactional=True,
                    idempotency_key=f"planted-{fields}", source="api", data={}, status="queued", attempts=0,
                    next_attempt_at=now, created_at=now, updated_at=now, **fields,
                )
                .returning(message.c.id)
            ).scalar_one()
        )  # fmt: skip


def _status(engine: Engine, mid: int) -> tuple[str, str | None]:
    with engine.connect() as conn:
        row = conn.execute(select(message.c.status, message.c.reason).where(message.c.id == mid)).one()
    return row[0], row[1]


def test_a_message_never_goes_through_another_workspaces_channel(
    client: TestClient, api: Api, other_workspace: CreatedWorkspace, workspace: CreatedWorkspace,
    engine: Engine, clock: FixedClock, smtp: SmtpServer, worker: Worker,
) -> None:  # fmt: skip
    theirs = Api(client, other_workspace.api_key)
    r = theirs.post("/channels", {"name": "their mail", "provider": "smtp",
                                  "settings": smtp_settings(smtp, from_email="ceo@globex.example")})  # fmt: skip
    assert r.status_code == 201, r.text
    their_channel = r.json()["id"]
    mine = email_template(api)
    contact = make_contact(api, email="victim-of-nothing@example.com", first_name="Ann")

    # Globex sends a message of its own in the same batch, so its channel is in the batch too
    their_contact = make_contact(theirs, email="customer@globex.example")
    r = theirs.post("/messages", {"contact_id": their_contact, "channel": "email",
                                  "template_id": email_template(theirs)})  # fmt: skip
    assert r.status_code == 202, r.text
    planted = _queue(engine, clock, workspace.id, contact, channel_config_id=their_channel, template_id=mine)
    worker.run_once()

    assert _status(engine, planted) == ("failed", "no_channel")
    # only Globex's own message left through Globex's account
    assert [m.rcpt_tos for m in smtp.recorder.received] == [["customer@globex.example"]]


def test_a_message_never_renders_another_workspaces_template(
    client: TestClient, api: Api, other_workspace: CreatedWorkspace, workspace: CreatedWorkspace,
    engine: Engine, clock: FixedClock, smtp: SmtpServer, worker: Worker, email_channel: dict[str, Any],
) -> None:  # fmt: skip
    theirs = Api(client, other_workspace.api_key)
    secret = email_template(theirs, "their secret", subject="Globex internal: Q3 numbers")
    contact = make_contact(api, email="reader@example.com")

    planted = _queue(engine, clock, workspace.id, contact, template_id=secret)
    worker.run_once()

    assert _status(engine, planted) == ("failed", "no_template")
    assert smtp.recorder.received == []
