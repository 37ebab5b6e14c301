"""Idempotency keys for create requests: a replay gets the first answer, not a second object."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select

from kairos.errors import Conflict
from kairos.workspaces.tables import idempotency_key

#: How long a key is remembered (Stripe keeps them 24 hours).
RETENTION = timedelta(hours=24)


def request_fingerprint(method: str, path: str, body: Any) -> str:
    payload = orjson.dumps([method, path, body], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()


def run_once(
    conn: Connection,
    workspace_id: int,
    key: str | None,
    fingerprint: str,
    now: datetime,
    create: Callable[[], tuple[int, Any]],
) -> tuple[int, Any]:
    """Run ``create`` (returning status and body) unless this key already has an answer.

    The answer is stored in the caller's transaction, so it exists exactly when the created
    object does. A concurrent request with the same key fails on the primary key and its
    transaction rolls back; its retry then finds the stored answer.
    """
    if key is None:
        return create()
    row = conn.execute(
        select(
            idempotency_key.c.request_hash, idempotency_key.c.status_code, idempotency_key.c.response
        ).where(
            idempotency_key.c.workspace_id == workspace_id,
            idempotency_key.c.key == key,
            idempotency_key.c.created_at > now - RETENTION,
        )
    ).first()
    if row is not None:
        if row.request_hash != fingerprint:
            raise Conflict(
                "this Idempotency-Key was used with a different request", code="idempotency_key_reused"
            )
        return row.status_code, orjson.loads(row.response)
    conn.execute(
        delete(idempotency_key).where(
            idempotency_key.c.workspace_id == workspace_id, idempotency_key.c.key == key
        )
    )
    status, body = create()
    conn.execute(
        insert(idempotency_key).values(
            workspace_id=workspace_id,
            key=key,
            request_hash=fingerprint,
            status_code=status,
            response=orjson.dumps(body, default=_default).decode(),
            created_at=now,
        )
    )
    return status, body


def purge(conn: Connection, now: datetime) -> int:
    result = conn.execute(delete(idempotency_key).where(idempotency_key.c.created_at <= now - RETENTION))
    return result.rowcount or 0


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)
