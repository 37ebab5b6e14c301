"""Accounts (B2B) in the CRM sync: the accounts outbox (``crm_account``), queued with their
contacts and again when they change, and what an account push carries.

- **Queueing with contacts**: queueing contacts on a connection that pushes accounts inserts
  their accounts' rows too (``INSERT … SELECT DISTINCT`` over ``account_contact``; a row
  already there is left alone), so an account is pushed before, or with, its first contact.
- **Changes**: ``queue_accounts`` bumps the version of accounts whose attributes, members or
  roll-up changed (called by the B2B roll-ups, ``b2b/rollup.py``); an account whose mapped
  values are those last accepted is not sent again (``pushed_hash``).
- **Associations**: a contact's push carries its accounts' CRM ids; when an account gets its
  CRM id for the first time, its members already queued or synced on the connection are
  queued again, so they are associated with it (``requeue_members``).

This module imports only tables: the B2B package calls it without importing the sync job.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, case, literal, select, update

from kairos.b2b.tables import account, account_contact, account_score
from kairos.crm.adapters.base import AccountPush, AccountRef
from kairos.crm.tables import crm_account, crm_contact
from kairos.db.dialect import chunks, insert_on_conflict
from kairos.errors import InvalidInput
from kairos.scoring.tables import score_model

QUEUED, SENDING = "queued", "sending"
#: the accounts a contact's push carries (and is associated with), the first joined first
MAX_ACCOUNTS_PER_CONTACT = 10
#: Account fields a mapping can read, besides ``traits.<name>`` and the roll-up.
ACCOUNT_FIELDS = ("id", "external_id", "name", "domain", "member_count", "created_at")
TRAIT = re.compile(r"^traits\.[A-Za-z0-9_$][A-Za-z0-9_$ -]{0,99}$")
#: the roll-up of the default score model (``score.sum``) or of a model by key
SCORE = re.compile(r"^(score|scores\.[A-Za-z0-9_-]{1,100})\.(sum|max|engaged)$")
PROPERTY = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,99}$")
MAX_MAPPING = 100


def check_account_mapping(mapping: list[dict[str, str]]) -> list[dict[str, str]]:
    """422 ``invalid_account_mapping`` naming the bad entry."""
    if len(mapping) > MAX_MAPPING:
        raise InvalidInput(f"at most {MAX_MAPPING} mapped account fields", code="invalid_account_mapping")
    targets: set[str] = set()
    out = []
    for i, item in enumerate(mapping):
        source, target = item.get("source", ""), item.get("target", "")
        if source not in ACCOUNT_FIELDS and not TRAIT.match(source) and not SCORE.match(source):
            raise InvalidInput(
                f"account_mapping[{i}].source: {source!r} is neither an account field "
                f"({', '.join(ACCOUNT_FIELDS)}), traits.<name>, score.<sum|max|engaged> nor "
                "scores.<model key>.<sum|max|engaged>",
                code="invalid_account_mapping",
            )
        if not PROPERTY.match(target):
            raise InvalidInput(
                f"account_mapping[{i}].target: {target!r} is not a CRM property name",
                code="invalid_account_mapping",
            )
        if target.lower() in targets:
            raise InvalidInput(
                f"account_mapping[{i}].target: {target!r} is mapped twice", code="invalid_account_mapping"
            )
        targets.add(target.lower())
        out.append({"source": source, "target": target})
    return out


# --- queueing ------------------------------------------------------------------------------


def queue_accounts_of(conn: Connection, row: Any, contact_ids: Any, now: datetime) -> None:
    """Queue, on connection ``row``, the accounts of the contacts ``contact_ids`` (a SELECT of
    ids) that have no sync row there yet."""
    if not row["push_accounts"]:
        return
    c, ac = crm_account.c, account_contact.c
    source = (
        select(
            literal(row["id"]), ac.account_id, literal(row["workspace_id"]), literal(QUEUED), literal(1),
            literal(0), literal(0), literal(now, type_=c.next_attempt_at.type),
            literal(now, type_=c.updated_at.type),
        )
        .where(ac.contact_id.in_(contact_ids))
        .distinct()
    )  # fmt: skip
    columns = ["connection_id", "account_id", "workspace_id", "status", "version", "synced_version",
               "attempts", "next_attempt_at", "updated_at"]  # fmt: skip
    conn.execute(insert_on_conflict(conn, crm_account).from_select(columns, source).on_conflict_do_nothing())


def _bump(now: datetime) -> dict[str, Any]:
    c = crm_account.c
    return {
        "version": c.version + 1,
        "status": case((c.status == SENDING, SENDING), else_=QUEUED),
        "attempts": case((c.status == SENDING, c.attempts), else_=0),
        "next_attempt_at": case(
            (c.status == SENDING, c.next_attempt_at), else_=literal(now, type_=c.next_attempt_at.type)
        ),
        "updated_at": now,
    }


def queue_accounts(conn: Connection, account_ids: Iterable[int], now: datetime) -> int:
    """These accounts changed (attributes, members, roll-up): queue them again on every
    connection that has pushed or queued them. Set-based, one UPDATE per chunk."""
    done = 0
    for part in chunks(sorted(set(account_ids))):
        done += (
            conn.execute(
                update(crm_account).where(crm_account.c.account_id.in_(part)).values(**_bump(now))
            ).rowcount
            or 0
        )
    return done


def queue_all_accounts(conn: Connection, connection_id: int, now: datetime) -> None:
    """The connection's account mapping changed: every account it holds is pushed again."""
    conn.execute(update(crm_account).where(crm_account.c.connection_id == connection_id).values(**_bump(now)))


def requeue_members(conn: Connection, connection_id: int, account_ids: Sequence[int], now: datetime) -> None:
    """These accounts just got their CRM id on the connection: push their members there again
    (those the connection already holds or queues), so they are associated with it."""
    c = crm_contact.c
    for part in chunks(sorted(set(account_ids))):
        members = select(account_contact.c.contact_id).where(account_contact.c.account_id.in_(part))
        conn.execute(
            update(crm_contact)
            .where(c.connection_id == connection_id, c.contact_id.in_(members))
            .values(
                version=c.version + 1,
                status=case((c.status == SENDING, SENDING), else_=QUEUED),
                attempts=case((c.status == SENDING, c.attempts), else_=0),
                next_attempt_at=case(
                    (c.status == SENDING, c.next_attempt_at), else_=literal(now, type_=c.next_attempt_at.type)
                ),
                updated_at=now,
            )
        )


# --- what a push carries -------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def account_pushes(
    conn: Connection, rows: Sequence[Any], connections: dict[int, Any]
) -> list[tuple[Any, AccountPush, str]]:
    """(claimed row, push, hash of what it sends) for claimed ``crm_account`` rows."""
    ids = sorted({r.account_id for r in rows})
    accounts: dict[int, Any] = {}
    rollups: dict[int, dict[str, dict[str, float]]] = {}
    defaults: dict[int, dict[str, float]] = {}
    s, m = account_score.c, score_model.c
    for part in chunks(ids):
        accounts.update(
            {r["id"]: r for r in conn.execute(select(account).where(account.c.id.in_(part))).mappings()}
        )
        for r in conn.execute(
            select(s.account_id, s.total, s.max_score, s.engaged, m.key, m.is_default)
            .join(score_model, m.id == s.model_id)
            .where(s.account_id.in_(part))
        ):
            values = {"sum": r.total, "max": r.max_score, "engaged": r.engaged}
            rollups.setdefault(r.account_id, {})[r.key] = values
            if r.is_default:
                defaults[r.account_id] = values
    out = []
    for r in rows:
        a = accounts.get(r.account_id)
        if a is None:
            continue
        mapping = connections[r.connection_id]["account_mapping"]
        properties: dict[str, Any] = {}
        for item in mapping:
            value = _source(a, item["source"], defaults.get(a["id"], {}), rollups.get(a["id"], {}))
            if value is not None and value != "":
                properties[item["target"]] = value
        fields = {"id": a["id"], "external_id": a["external_id"], "name": a["name"], "domain": a["domain"],
                  "member_count": a["member_count"]}  # fmt: skip
        digest = hashlib.sha256(orjson.dumps([properties, fields], option=orjson.OPT_SORT_KEYS)).hexdigest()
        push = AccountPush(
            account_id=a["id"], key=f"crm_{r.connection_id}_account_{a['id']}_{r.version}", crm_id=r.crm_id,
            properties=properties, account=fields,
        )  # fmt: skip
        out.append((r, push, digest))
    return out


def _source(a: Any, source: str, default: dict[str, Any], rollups: dict[str, dict[str, Any]]) -> Any:
    if source.startswith("traits."):
        return (a["traits"] or {}).get(source[7:])
    match = SCORE.match(source)
    if match:
        kind = match.group(2)
        values = default if match.group(1) == "score" else rollups.get(match.group(1)[7:], {})
        return values.get(kind)
    return _jsonable(a[source])


def contact_accounts(
    conn: Connection, connection_id: int, contact_ids: Sequence[int]
) -> dict[int, list[AccountRef]]:
    """Each contact's accounts with their CRM id on the connection, the first joined first."""
    ac, c = account_contact.c, crm_account.c
    out: dict[int, list[AccountRef]] = {}
    for part in chunks(sorted(set(contact_ids))):
        rows = conn.execute(
            select(ac.contact_id, ac.account_id, account.c.name, account.c.domain, account.c.external_id,
                   c.crm_id)
            .join(account, account.c.id == ac.account_id)
            .outerjoin(crm_account, (c.account_id == ac.account_id) & (c.connection_id == connection_id))
            .where(ac.contact_id.in_(part))
            .order_by(ac.contact_id, ac.created_at, ac.account_id)
        )  # fmt: skip
        for r in rows:
            refs = out.setdefault(r.contact_id, [])
            if len(refs) < MAX_ACCOUNTS_PER_CONTACT:
                refs.append(AccountRef(r.account_id, r.crm_id, r.name, r.domain, r.external_id))
    return out
