"""The audit log: who changed what, when and from where — append-only.

Rows are written by the API for every change it accepts (``api/audit.py``), whoever made it:
a console user (``actor_type`` "user") or an API key ("key"). ``changes`` holds the fields
that changed, ``{"field": [before, after]}``: a creation has ``None`` before, a deletion
``None`` after. Secrets never reach it (``redact``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from kairos.accounts.tables import audit_log

#: fields whose values are never written to the log, whatever object they are in
SENSITIVE = ("password", "secret", "token", "hash", "signing", "api_key", "write_key", "auth")
#: fields that change with every write and say nothing
NOISE = frozenset({"updated_at", "version", "last_seen_at"})
#: at most this many characters of one value are kept
MAX_VALUE = 2000


def redact(value: Any, key: str = "") -> Any:
    if any(word in key.lower() for word in SENSITIVE):
        return "[redacted]" if value not in (None, "", [], {}) else value
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value[:200]]
    if isinstance(value, str) and len(value) > MAX_VALUE:
        return value[:MAX_VALUE] + "…"
    return value


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list[Any]]:
    """Top-level fields that differ, each as [before, after] (values redacted)."""
    old, new = before or {}, after or {}
    changed: dict[str, list[Any]] = {}
    for key in [*old, *(k for k in new if k not in old)]:
        if key in NOISE:
            continue
        a, b = old.get(key), new.get(key)
        if a != b:
            changed[key] = [redact(a, key), redact(b, key)]
    return changed


def record(
    conn: Connection,
    *,
    workspace_id: int | None,
    actor_type: str,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str | None,
    object_id: str | None,
    status_code: int,
    changes: dict[str, Any] | None,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
) -> None:
    conn.execute(
        insert(audit_log).values(
            workspace_id=workspace_id,
            actor_type=actor_type,
            actor_id=actor_id,
            actor_label=actor_label[:400],
            action=action[:200],
            object_type=object_type,
            object_id=None if object_id is None else object_id[:100],
            status_code=status_code,
            changes=changes or None,
            ip=(ip or "")[:64] or None,
            user_agent=(user_agent or "")[:500] or None,
            created_at=now,
        )
    )


def entries(
    conn: Connection,
    workspace_id: int,
    *,
    actor_type: str | None = None,
    actor_id: int | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Newest first; ``before_id`` pages back."""
    q = select(audit_log).where(audit_log.c.workspace_id == workspace_id)
    for column, value in (
        (audit_log.c.actor_type, actor_type),
        (audit_log.c.actor_id, actor_id),
        (audit_log.c.object_type, object_type),
        (audit_log.c.object_id, object_id),
    ):
        if value is not None:
            q = q.where(column == value)
    if action is not None:
        q = q.where(audit_log.c.action.contains(action, autoescape=True))
    if since is not None:
        q = q.where(audit_log.c.created_at >= since)
    if until is not None:
        q = q.where(audit_log.c.created_at < until)
    if before_id is not None:
        q = q.where(audit_log.c.id < before_id)
    return [dict(r) for r in conn.execute(q.order_by(audit_log.c.id.desc()).limit(limit)).mappings()]
