"""The right to erasure (GDPR art. 17): a person's data leaves every table.

Every table with a ``contact_id`` column (found in the metadata, so a new table is covered
without being listed here) loses the person's rows, and so do the merge records, which name
the identifiers that tied two contacts. A column that refers to a contact with ``ON DELETE
SET NULL`` is cleared instead (a coupon given to the person stays used: it was sent out).

Suppressions are the exception: an address that bounced or complained must never be written
to again, even after erasure. Its row stays with the address replaced by a hash
(``messaging.consent.suppression_hash``) and no contact id; the dispatcher matches hashes too.

Two stores may quote the person without naming their contact id, and lose those rows:
stored answers of idempotent creates (``idempotency_key.response``, kept 24 h) and tracked
links whose URL carries their email or phone (a personalised link in a template). The audit
log keeps that the person's profile was changed and by whom, without the values.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from sqlalchemy import Column, ColumnElement, Connection, Table, and_, delete, func, or_, select, update

from kairos.accounts.tables import audit_log
from kairos.b2b.tables import account, account_contact
from kairos.contacts.tables import contact, contact_merge, identity
from kairos.db.dialect import insert_on_conflict
from kairos.db.schema import metadata
from kairos.messaging.tables import suppression, tracked_link
from kairos.workspaces.tables import idempotency_key

#: shorter values (``user_id`` "42") would match unrelated stored text
_MIN_QUOTED = 6


def erase_contacts(conn: Connection, workspace_id: int, ids: list[int]) -> None:
    """Erase these contacts (a live contact and those merged into it) from every table."""
    values = _identifiers(conn, ids)
    _hash_suppressions(conn, workspace_id, ids, values)
    conn.execute(
        delete(contact_merge).where(
            contact_merge.c.workspace_id == workspace_id,
            or_(contact_merge.c.survivor_id.in_(ids), contact_merge.c.merged_id.in_(ids)),
        )
    )
    _forget_quotes(conn, workspace_id, values)
    conn.execute(
        update(audit_log)
        .where(
            audit_log.c.workspace_id == workspace_id,
            audit_log.c.object_type == "contacts",
            audit_log.c.object_id.in_([str(i) for i in ids]),
        )
        .values(changes=None)
    )
    # B2B accounts the person leaves are rolled up again (member count, scores)
    conn.execute(
        update(account)
        .where(account.c.id.in_(select(account_contact.c.account_id).where(account_contact.c.contact_id.in_(ids))))
        .values(rollup_stale=True)
    )
    for table in reversed(metadata.sorted_tables):  # rows that depend on others go first
        for column in _contact_columns(table):
            if table is suppression or table is contact:
                continue
            if _set_null(column):
                conn.execute(update(table).where(column.in_(ids)).values({column.name: None}))
            else:
                conn.execute(delete(table).where(column.in_(ids)))
    conn.execute(update(contact).where(contact.c.id.in_(ids)).values(merged_into=None))
    conn.execute(delete(contact).where(contact.c.id.in_(ids), contact.c.workspace_id == workspace_id))


def _contact_columns(table: Table) -> list[Column[object]]:
    """Columns that hold a contact id: named ``contact_id`` or a foreign key to it."""
    return [
        c
        for c in table.c
        if c.name == "contact_id" or any(fk.column is contact.c.id for fk in c.foreign_keys)
    ]


def _set_null(column: Column[object]) -> bool:
    return any(
        fk.column is contact.c.id and (fk.ondelete or "").upper() == "SET NULL" for fk in column.foreign_keys
    )


def _identifiers(conn: Connection, ids: list[int]) -> dict[str, set[str]]:
    """The person's identifiers by kind (``email`` and ``phone`` include the profile columns)."""
    found: dict[str, set[str]] = {}
    pairs = conn.execute(select(identity.c.kind, identity.c.value).where(identity.c.contact_id.in_(ids)))
    for kind, value in pairs:
        found.setdefault(kind, set()).add(value)
    for email, phone, external_id in conn.execute(
        select(contact.c.email, contact.c.phone, contact.c.external_id).where(contact.c.id.in_(ids))
    ):
        for kind, value in (("email", email), ("phone", phone), ("user_id", external_id)):
            if value:
                found.setdefault(kind, set()).add(value)
    return found


def _hash_suppressions(
    conn: Connection, workspace_id: int, ids: list[int], values: dict[str, set[str]]
) -> None:
    from kairos.messaging.consent import suppression_hash  # here: messaging imports contacts

    addresses = sorted(set().union(*values.values())) if values else []
    condition: ColumnElement[bool] = or_(
        suppression.c.contact_id.in_(ids), suppression.c.address.in_(addresses)
    )
    mine = and_(suppression.c.workspace_id == workspace_id, condition)
    rows = conn.execute(select(suppression).where(mine)).mappings().all()
    if not rows:
        return
    conn.execute(delete(suppression).where(mine))
    conn.execute(
        insert_on_conflict(conn, suppression).on_conflict_do_nothing(),
        [
            {
                "workspace_id": workspace_id,
                "channel": r["channel"],
                "address": suppression_hash(r["channel"], r["address"]),
                "reason": r["reason"],
                "detail": None,
                "contact_id": None,
                "created_at": r["created_at"],
            }
            for r in rows
        ],
    )


def _forget_quotes(conn: Connection, workspace_id: int, values: dict[str, set[str]]) -> None:
    quoted = {
        v for kind in ("email", "phone", "user_id") for v in values.get(kind, ()) if len(v) >= _MIN_QUOTED
    }
    if not quoted:
        return
    conn.execute(
        delete(idempotency_key).where(
            idempotency_key.c.workspace_id == workspace_id,
            or_(*(idempotency_key.c.response.contains(v, autoescape=True) for v in quoted)),
        )
    )
    in_urls = _url_forms(v for kind in ("email", "phone") for v in values.get(kind, ()))
    if in_urls:
        url = func.lower(tracked_link.c.url)
        conn.execute(
            delete(tracked_link).where(
                tracked_link.c.workspace_id == workspace_id,
                or_(*(url.contains(v, autoescape=True) for v in in_urls)),
            )
        )


def _url_forms(values: Iterable[str]) -> set[str]:
    """A value as it may appear in a URL: as is, percent-encoded (either case of hex digits)."""
    out: set[str] = set()
    for v in values:
        if len(v) < _MIN_QUOTED:
            continue
        encoded = quote(v, safe="")
        out.update({v.lower(), encoded.lower()})
    return out
