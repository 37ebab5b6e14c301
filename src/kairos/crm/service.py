"""CRM connections: create, read, update, delete, verify; each contact's CRM sync state and
log.

A connection names a CRM adapter (``hubspot``, ``salesforce``, ``webhook``) and holds its
settings (returned) and secrets (encrypted with the server's key, never returned — responses
list which secret fields are set in ``secrets_set``), the field mapping, which contacts sync
(``sync_scope``: ``all``, a ``segment``, or ``lifecycle`` stages) and the directions
(``push_contacts``, ``pull_deals``), and whether the contacts' B2B accounts are pushed too
(``push_accounts``, with their ``account_mapping``: ``kairos.crm.accounts``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, update

from kairos.crm import accounts, sync
from kairos.crm.adapters import CrmProvider, load_crm_providers
from kairos.crm.tables import crm_account, crm_account_log, crm_connection, crm_contact, crm_sync_log
from kairos.crypto import Keyring
from kairos.errors import Conflict, InvalidInput, NotFound, one_of, validated
from kairos.messaging.channels import ChannelOptions
from kairos.segments.tables import segment

SCOPES = ("all", "segment", "lifecycle")
#: The contact fields a mapping can read, besides ``traits.<name>``.
CONTACT_FIELDS = (
    "id", "external_id", "email", "phone", "first_name", "last_name", "timezone", "locale",
    "lifecycle_stage", "score", "created_at",
)  # fmt: skip
TRAIT = re.compile(r"^traits\.[A-Za-z0-9_$][A-Za-z0-9_$ -]{0,99}$")
PROPERTY = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,99}$")
MAX_MAPPING = 100
MIN_POLL, MAX_POLL = 60, 86_400


def provider(name: str) -> CrmProvider:
    return one_of(load_crm_providers(), name, "provider", "unknown_provider")


def _validate(model: Any, data: dict[str, Any], what: str) -> dict[str, Any]:
    return validated(model, data, what, "invalid_crm_config")


def check_mapping(mapping: list[dict[str, str]]) -> list[dict[str, str]]:
    if len(mapping) > MAX_MAPPING:
        raise InvalidInput(f"at most {MAX_MAPPING} mapped fields", code="invalid_field_mapping")
    targets: set[str] = set()
    out = []
    for i, item in enumerate(mapping):
        source, target = item.get("source", ""), item.get("target", "")
        if source not in CONTACT_FIELDS and not TRAIT.match(source):
            raise InvalidInput(
                f"field_mapping[{i}].source: {source!r} is neither a contact field "
                f"({', '.join(CONTACT_FIELDS)}) nor traits.<name>",
                code="invalid_field_mapping",
            )
        if not PROPERTY.match(target):
            raise InvalidInput(
                f"field_mapping[{i}].target: {target!r} is not a CRM property name",
                code="invalid_field_mapping",
            )
        if target.lower() in targets:
            raise InvalidInput(
                f"field_mapping[{i}].target: {target!r} is mapped twice", code="invalid_field_mapping"
            )
        targets.add(target.lower())
        out.append({"source": source, "target": target})
    return out


def _check_selection(conn: Connection, workspace_id: int, values: dict[str, Any]) -> None:
    scope = values["sync_scope"]
    if scope not in SCOPES:
        raise InvalidInput(f"sync_scope must be one of {', '.join(SCOPES)}", code="invalid_sync_scope")
    if scope == "segment":
        if values.get("segment_id") is None:
            raise InvalidInput("sync_scope segment needs a segment_id", code="invalid_sync_scope")
        found = conn.execute(
            select(segment.c.id).where(
                segment.c.workspace_id == workspace_id, segment.c.id == values["segment_id"]
            )
        ).first()
        if found is None:
            raise NotFound(f"no segment {values['segment_id']}", code="segment_not_found")
    if scope == "lifecycle" and not values.get("lifecycle_stages"):
        raise InvalidInput("sync_scope lifecycle needs lifecycle_stages", code="invalid_sync_scope")
    interval = values.get("poll_interval")
    if interval is not None and not MIN_POLL <= interval <= MAX_POLL:
        raise InvalidInput(f"poll_interval is {MIN_POLL} to {MAX_POLL} seconds", code="invalid_poll_interval")


def _check_targets(
    p: CrmProvider, settings: dict[str, Any], secrets: dict[str, Any], allow_private: bool
) -> None:
    """What the connection reaches (API root, OAuth server, webhook URL) must not be inside
    our network unless the operator allows private targets: 422 ``url_not_allowed``."""
    if p.check_targets is not None:
        p.check_targets(
            p.settings_model.model_validate(settings), p.secrets_model.model_validate(secrets), allow_private
        )


def present(row: Any, keyring: Keyring) -> dict[str, Any]:
    secrets = keyring.decrypt(row["secrets"]) if row["secrets"] else {}
    out = {k: row[k] for k in row if k != "secrets"}
    out["secrets_set"] = sorted(k for k, v in secrets.items() if v not in (None, "", {}))
    return out


def create_connection(
    conn: Connection,
    workspace_id: int,
    keyring: Keyring,
    now: datetime,
    fields: dict[str, Any],
    allow_private: bool = False,
) -> dict[str, Any]:
    p = provider(fields["provider"])
    settings = _validate(p.settings_model, fields.get("settings") or {}, "settings")
    secrets = _validate(p.secrets_model, fields.get("secrets") or {}, "secrets")
    _check_targets(p, settings, secrets, allow_private)
    mapping = fields.get("field_mapping")
    mapping = check_mapping(
        mapping if mapping is not None else [{"source": s, "target": t} for s, t in p.default_mapping]
    )
    values = {
        "sync_scope": fields.get("sync_scope") or "all",
        "segment_id": fields.get("segment_id"),
        "lifecycle_stages": fields.get("lifecycle_stages") or [],
        "poll_interval": fields.get("poll_interval") or 300,
    }
    _check_selection(conn, workspace_id, values)
    account_mapping = fields.get("account_mapping")
    account_mapping = accounts.check_account_mapping(
        account_mapping
        if account_mapping is not None
        else [{"source": s, "target": t} for s, t in p.default_account_mapping]
    )
    if conn.execute(
        select(crm_connection.c.id).where(
            crm_connection.c.workspace_id == workspace_id, crm_connection.c.name == fields["name"]
        )
    ).first():
        raise Conflict(f"a CRM connection named {fields['name']!r} exists", code="crm_connection_exists")
    pull = bool(fields.get("pull_deals", p.deals)) and p.deals
    connection_id = conn.execute(
        insert(crm_connection)
        .values(
            workspace_id=workspace_id, name=fields["name"], provider=p.name, settings=settings,
            secrets=keyring.encrypt(secrets), field_mapping=mapping, **values,
            push_accounts=fields.get("push_accounts") is not False, account_mapping=account_mapping,
            push_contacts=bool(fields.get("push_contacts", True)), pull_deals=pull,
            enabled=bool(fields.get("enabled", True)), next_poll_at=now if pull else None,
            created_at=now, updated_at=now,
        )
        .returning(crm_connection.c.id)
    ).scalar_one()  # fmt: skip
    row = _row(conn, workspace_id, connection_id)
    if row["enabled"] and row["push_contacts"]:
        sync.queue_selected(conn, row, now)
    return present(row, keyring)


def update_connection(
    conn: Connection,
    workspace_id: int,
    connection_id: int,
    keyring: Keyring,
    now: datetime,
    changes: dict[str, Any],
    allow_private: bool = False,
) -> dict[str, Any]:
    row = _row(conn, workspace_id, connection_id)
    p = provider(row["provider"])
    values: dict[str, Any] = {"updated_at": now}
    current = keyring.decrypt(row["secrets"]) if row["secrets"] else {}
    settings, secrets = row["settings"], current
    if changes.get("name") is not None and changes["name"] != row["name"]:
        if conn.execute(
            select(crm_connection.c.id).where(
                crm_connection.c.workspace_id == workspace_id, crm_connection.c.name == changes["name"]
            )
        ).first():
            raise Conflict(f"a CRM connection named {changes['name']!r} exists", code="crm_connection_exists")
        values["name"] = changes["name"]
    if changes.get("settings") is not None:
        settings = values["settings"] = _validate(
            p.settings_model, {**row["settings"], **changes["settings"]}, "settings"
        )
    if changes.get("secrets") is not None:
        secrets = _validate(p.secrets_model, {**current, **changes["secrets"]}, "secrets")
        values["secrets"] = keyring.encrypt(secrets)
    if changes.get("settings") is not None or changes.get("secrets") is not None:
        _check_targets(p, settings, secrets, allow_private)
    if changes.get("field_mapping") is not None:
        values["field_mapping"] = check_mapping(changes["field_mapping"])
    if changes.get("account_mapping") is not None:
        values["account_mapping"] = accounts.check_account_mapping(changes["account_mapping"])
    selection = {
        "sync_scope": changes.get("sync_scope") or row["sync_scope"],
        "segment_id": changes["segment_id"] if "segment_id" in changes else row["segment_id"],
        "lifecycle_stages": changes.get("lifecycle_stages")
        if changes.get("lifecycle_stages") is not None
        else row["lifecycle_stages"],
        "poll_interval": changes.get("poll_interval") or row["poll_interval"],
    }
    _check_selection(conn, workspace_id, selection)
    values.update(selection)
    for flag in ("push_contacts", "push_accounts", "enabled"):
        if changes.get(flag) is not None:
            values[flag] = changes[flag]
    if changes.get("pull_deals") is not None:
        values["pull_deals"] = changes["pull_deals"] and p.deals
        if values["pull_deals"] and not row["pull_deals"]:
            values["next_poll_at"] = now
    if changes.get("resume"):
        values.update(paused_until=None, pause_reason=None)
        sync.release_paused(conn, row, now)
    conn.execute(update(crm_connection).where(crm_connection.c.id == connection_id).values(**values))
    new = _row(conn, workspace_id, connection_id)
    requeue = ("field_mapping", "sync_scope", "segment_id", "lifecycle_stages", "push_contacts", "enabled",
               "push_accounts")  # fmt: skip
    if new["enabled"] and new["push_contacts"] and any(new[k] != row[k] for k in requeue):
        sync.queue_selected(conn, new, now)  # what the CRM holds must follow the new rules
    if new["push_accounts"] and new["account_mapping"] != row["account_mapping"]:
        accounts.queue_all_accounts(conn, connection_id, now)
    return present(new, keyring)


def _row(conn: Connection, workspace_id: int, connection_id: int) -> Any:
    row = (
        conn.execute(
            select(crm_connection).where(
                crm_connection.c.workspace_id == workspace_id, crm_connection.c.id == connection_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no CRM connection {connection_id}", code="crm_connection_not_found")
    return row


def get_connection(
    conn: Connection, workspace_id: int, connection_id: int, keyring: Keyring
) -> dict[str, Any]:
    return present(_row(conn, workspace_id, connection_id), keyring)


def connection_stats(conn: Connection, workspace_id: int, connection_id: int) -> dict[str, int]:
    """How many contacts of the connection are in each sync status."""
    rows = conn.execute(
        select(crm_contact.c.status, func.count())
        .where(crm_contact.c.workspace_id == workspace_id, crm_contact.c.connection_id == connection_id)
        .group_by(crm_contact.c.status)
    ).all()
    counts = {"queued": 0, "sending": 0, "synced": 0, "failed": 0}
    counts.update({status: int(n) for status, n in rows})
    return counts


def last_synced_at(conn: Connection, workspace_id: int, connection_id: int) -> datetime | None:
    """When a contact of the connection was last pushed successfully."""
    return conn.execute(
        select(func.max(crm_contact.c.last_synced_at)).where(
            crm_contact.c.workspace_id == workspace_id, crm_contact.c.connection_id == connection_id
        )
    ).scalar()


def list_connections(conn: Connection, workspace_id: int, keyring: Keyring) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(crm_connection)
        .where(crm_connection.c.workspace_id == workspace_id)
        .order_by(crm_connection.c.id)
    ).mappings()
    out = [present(r, keyring) for r in rows]
    # the list shows each connection's sync state: counts per status and the latest push
    counts: dict[int, dict[str, int]] = {}
    last: dict[int, Any] = {}
    for cid, status, n, latest in conn.execute(
        select(
            crm_contact.c.connection_id,
            crm_contact.c.status,
            func.count(),
            func.max(crm_contact.c.last_synced_at),
        )
        .where(crm_contact.c.workspace_id == workspace_id)
        .group_by(crm_contact.c.connection_id, crm_contact.c.status)
    ).all():
        counts.setdefault(cid, {"queued": 0, "sending": 0, "synced": 0, "failed": 0})[status] = int(n)
        if latest is not None and (last.get(cid) is None or latest > last[cid]):
            last[cid] = latest
    for row in out:
        row["counts"] = counts.get(row["id"], {"queued": 0, "sending": 0, "synced": 0, "failed": 0})
        row["last_synced_at"] = last.get(row["id"])
    return out


def delete_connection(conn: Connection, workspace_id: int, connection_id: int) -> None:
    _row(conn, workspace_id, connection_id)
    conn.execute(delete(crm_connection).where(crm_connection.c.id == connection_id))


def verify_connection(
    conn: Connection, workspace_id: int, connection_id: int, keyring: Keyring, allow_private: bool = False
) -> None:
    """Reach the CRM with the stored credentials without changing anything there (HubSpot:
    read one contact; Salesforce: log in and describe the object). Raises ``InvalidInput``
    (``crm_unreachable``) saying what failed."""
    row = _row(conn, workspace_id, connection_id)
    p = provider(row["provider"])
    secrets = keyring.decrypt(row["secrets"]) if row["secrets"] else {}
    adapter = p.factory(
        p.settings_model.model_validate(row["settings"]),
        p.secrets_model.model_validate(secrets),
        ChannelOptions(allow_private_targets=allow_private),
    )
    try:
        adapter.verify()
    finally:
        adapter.close()


def signing_secret(conn: Connection, workspace_id: int, connection_id: int, keyring: Keyring) -> str:
    row = _row(conn, workspace_id, connection_id)
    secret = (keyring.decrypt(row["secrets"]) if row["secrets"] else {}).get("signing_secret")
    if row["provider"] != "webhook" or not isinstance(secret, str):
        raise NotFound(f"CRM connection {connection_id} has no signing secret", code="no_signing_secret")
    return secret


def resync(conn: Connection, workspace_id: int, connection_id: int, now: datetime) -> int:
    """Queue every contact the connection selects (a full push); returns how many."""
    row = _row(conn, workspace_id, connection_id)
    if not row["enabled"] or not row["push_contacts"]:
        raise Conflict("the connection does not push contacts", code="crm_push_disabled")
    return sync.queue_selected(conn, row, now)


def push_contact(
    conn: Connection, workspace_id: int, contact_id: int, now: datetime, connection_id: int | None
) -> int:
    """Queue one contact on every pushing connection (or one) now, whatever the selection:
    "push this lead now" (the API, the journey's ``notify_sales``). Returns the connections."""
    q = select(crm_connection).where(
        crm_connection.c.workspace_id == workspace_id,
        crm_connection.c.enabled.is_(True),
        crm_connection.c.push_contacts.is_(True),
    )
    if connection_id is not None:
        _row(conn, workspace_id, connection_id)
        q = q.where(crm_connection.c.id == connection_id)
    rows = list(conn.execute(q).mappings())
    for row in rows:
        sync.queue_contacts(conn, row, [contact_id], now)
    return len(rows)


def _states(
    conn: Connection, outbox: Table, owner: str, workspace_id: int, owner_id: int
) -> list[dict[str, Any]]:
    """A record's CRM id and sync status in each connection (``outbox``: ``crm_contact`` or
    ``crm_account``, whose ``owner`` column is the record's id)."""
    c = outbox.c
    return [
        dict(r)
        for r in conn.execute(
            select(c.connection_id, crm_connection.c.name.label("connection_name"), crm_connection.c.provider,
                   c.crm_id, c.status, c.attempts, c.next_attempt_at, c.last_synced_at, c.last_error)
            .join(crm_connection, crm_connection.c.id == c.connection_id)
            .where(c.workspace_id == workspace_id, c[owner] == owner_id)
            .order_by(c.connection_id)
        ).mappings()
    ]  # fmt: skip


def contact_sync(conn: Connection, workspace_id: int, contact_id: int, limit: int = 50) -> dict[str, Any]:
    """A contact's CRM ids and sync status per connection, and its latest sync log."""
    log = crm_sync_log.c
    entries = conn.execute(
        select(log.id, log.connection_id, log.direction, log.outcome, log.crm_id, log.detail, log.created_at)
        .where(log.workspace_id == workspace_id, log.contact_id == contact_id)
        .order_by(log.id.desc())
        .limit(limit)
    ).mappings()
    return {
        "connections": _states(conn, crm_contact, "contact_id", workspace_id, contact_id),
        "log": [dict(r) for r in entries],
    }


def account_sync(conn: Connection, workspace_id: int, account_id: int, limit: int = 50) -> dict[str, Any]:
    """An account's CRM ids and sync status per connection, and its latest push log."""
    log = crm_account_log.c
    entries = conn.execute(
        select(log.id, log.connection_id, log.outcome, log.crm_id, log.detail, log.created_at)
        .where(log.workspace_id == workspace_id, log.account_id == account_id)
        .order_by(log.id.desc())
        .limit(limit)
    ).mappings()
    return {
        "connections": _states(conn, crm_account, "account_id", workspace_id, account_id),
        "log": [dict(r) for r in entries],
    }
