"""The CRM sync outbox and the worker's sync pass.

**Queueing** (set-based, in the caller's transaction): a change to a contact the connection
selects (``sync_scope``) bumps its ``crm_contact.version`` and queues it; contacts that
enter the selection are queued on their first change there. Creating a connection, changing
its mapping or selection, or ``POST /crm-connections/{id}/resync`` queues every selected
contact with one ``INSERT … SELECT``.

**Pushing** (``CrmSyncer.run``, no transaction held while the CRM is called):

    queued ──claim──▶ sending ──CRM accepted──▶ synced (or queued again when the contact
       ▲                 │                        changed while it was being pushed)
       └──retry/backoff──┤
                         └──permanent failure / MAX_ATTEMPTS──▶ failed

A claim commits ``sending`` first; a process that dies leaves the row ``sending`` until its
lease runs out, and it is pushed again (an upsert, so repeating it is harmless). A queued
sync is never lost: the row exists until the contact or the connection is deleted. Outages
(unreachable, credentials refused) pause the connection instead of spending retries.

**Deals** (``pull_deals``): every ``poll_interval`` the adapter returns the deals changed
since the connection's cursor; a deal whose stage differs from the one stored in
``crm_deal`` becomes ``Deal Stage Changed`` (and ``Deal Won`` / ``Deal Lost``) on its
contacts, in the transaction that stores the new stage, so each change is one event.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, and_, case, literal, or_, select, update

from kairos.contacts.changes import ChangeBatch
from kairos.contacts.tables import contact
from kairos.crm import accounts
from kairos.crm.adapters import (
    AccountPush,
    ContactPush,
    CrmAdapter,
    CrmError,
    DealChange,
    PushResult,
    load_crm_providers,
)
from kairos.crm.tables import (
    crm_account,
    crm_account_log,
    crm_connection,
    crm_contact,
    crm_deal,
    crm_sync_log,
)
from kairos.crypto import Keyring
from kairos.db.dialect import chunks, insert_on_conflict
from kairos.events.ingest import InternalEvent, record_internal
from kairos.messaging.channels import ChannelOptions
from kairos.messaging.channels.http import short
from kairos.messaging.outbox import backoff
from kairos.segments.tables import segment_membership
from kairos.workspaces.clocks import EVERY, Scope

log = logging.getLogger(__name__)

QUEUED, SENDING, SYNCED, FAILED = "queued", "sending", "synced", "failed"
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
#: The longest a connection stays paused after an outage before it is tried again.
MAX_PAUSE = timedelta(hours=1)


# --- queueing --------------------------------------------------------------------------


def selection(row: Any) -> Any:
    """SELECT of the ids of the live contacts ``row`` (a connection) syncs."""
    q = select(contact.c.id).where(
        contact.c.workspace_id == row["workspace_id"], contact.c.merged_into.is_(None)
    )
    if row["sync_scope"] == "segment":
        q = q.join(
            segment_membership,
            and_(segment_membership.c.contact_id == contact.c.id,
                 segment_membership.c.segment_id == literal(row["segment_id"] or 0)),
        )  # fmt: skip
    elif row["sync_scope"] == "lifecycle":
        q = q.where(contact.c.lifecycle_stage.in_(list(row["lifecycle_stages"]) or [""]))
    return q


def _upsert(conn: Connection, row: Any, ids: Any, now: datetime, *, bump: bool) -> int:
    """Queue the contacts ``ids`` selects on connection ``row``: new rows, and with ``bump``
    existing ones get a new version (queued again unless being sent: that push ends queued)."""
    c = crm_contact.c
    source = select(
        literal(row["id"]), ids.c.id, literal(row["workspace_id"]), literal(QUEUED), literal(1),
        literal(0), literal(0), literal(now, type_=c.next_attempt_at.type),
        literal(now, type_=c.updated_at.type),
    ).where(literal(True))  # fmt: skip
    stmt = insert_on_conflict(conn, crm_contact).from_select(
        ["connection_id", "contact_id", "workspace_id", "status", "version", "synced_version", "attempts",
         "next_attempt_at", "updated_at"],
        source,
    )  # fmt: skip
    if bump:
        ex = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[c.connection_id, c.contact_id],
            set_={
                "version": c.version + 1,
                "status": case((c.status == SENDING, SENDING), else_=QUEUED),
                "attempts": case((c.status == SENDING, c.attempts), else_=0),
                "next_attempt_at": case((c.status == SENDING, c.next_attempt_at), else_=ex.next_attempt_at),
                "updated_at": ex.updated_at,
            },
        )
    else:
        stmt = stmt.on_conflict_do_nothing()
    done = int(conn.execute(stmt).rowcount or 0)
    accounts.queue_accounts_of(conn, row, select(ids.c.id), now)
    return done


def queue_selected(conn: Connection, row: Any, now: datetime) -> int:
    """Queue every contact connection ``row`` selects; returns how many rows changed."""
    return _upsert(conn, row, selection(row).subquery(), now, bump=True)


def queue_contacts(
    conn: Connection,
    row: Any,
    contact_ids: Sequence[int],
    now: datetime,
    *,
    select_only: bool = False,
    bump: bool = True,
) -> int:
    """Queue these contacts on ``row`` (only those it selects, with ``select_only``)."""
    done = 0
    for part in chunks(contact_ids):
        if select_only:
            ids = selection(row).where(contact.c.id.in_(part)).subquery()
        else:
            ids = (
                select(contact.c.id)
                .where(
                    contact.c.workspace_id == row["workspace_id"],
                    contact.c.merged_into.is_(None),
                    contact.c.id.in_(part),
                )
                .subquery()
            )
        done += _upsert(conn, row, ids, now, bump=bump)
    return done


def crm_changes(conn: Connection, batch: ChangeBatch, now: datetime) -> None:
    """The changed-contacts handler: queue contacts whose profile changed on the pushing
    connections that select them, and those that just entered a connection's selection
    (e.g. through a segment) whatever changed. Events alone (deal events included) change
    nothing a CRM holds."""
    for workspace_id, changes in batch.items():
        rows = list(
            conn.execute(
                select(crm_connection).where(
                    crm_connection.c.workspace_id == workspace_id,
                    crm_connection.c.enabled.is_(True),
                    crm_connection.c.push_contacts.is_(True),
                )
            ).mappings()
        )
        if not rows:
            continue
        profile = [cid for cid, ch in changes.items() if ch.profile or ch.everything]
        others = [cid for cid, ch in changes.items() if not (ch.profile or ch.everything)]
        for row in rows:
            if profile:
                queue_contacts(conn, row, profile, now, select_only=True)
            if others:
                queue_contacts(conn, row, others, now, select_only=True, bump=False)


def release_paused(conn: Connection, row: Any, now: datetime) -> None:
    """Resuming a paused connection: its syncs put off to the pause's end are due now."""
    until = row["paused_until"]
    if until is None or until <= now:
        return
    c = crm_contact.c
    conn.execute(
        update(crm_contact)
        .where(c.connection_id == row["id"], c.status == QUEUED, c.next_attempt_at <= until)
        .values(next_attempt_at=now)
    )


# --- the pass ----------------------------------------------------------------------------


def _value(row: Any, source: str) -> Any:
    if source.startswith("traits."):
        return (row["traits"] or {}).get(source[7:])
    value = row[source]
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass(slots=True)
class _Claimed:
    connection_id: int
    workspace_id: int
    record_id: int  # the contact's id, or the account's
    version: int
    push: ContactPush | AccountPush
    digest: str | None = None  # accounts: the hash of what is sent
    had_crm_id: bool = True


@dataclass(frozen=True, slots=True)
class _Outbox:
    """A sync outbox: contacts (``crm_contact``, logged in ``crm_sync_log``) or accounts
    (``crm_account``, ``crm_account_log``): the same states, retries and pauses."""

    table: Table
    key: str
    log: Table

    def entry(self, item: _Claimed, result: PushResult, now: datetime) -> dict[str, Any]:
        entry = {"workspace_id": item.workspace_id, "connection_id": item.connection_id,
                 self.key: item.record_id, "outcome": result.status, "crm_id": result.crm_id,
                 "detail": result.error, "created_at": now}  # fmt: skip
        if self.log is crm_sync_log:
            entry["direction"] = "push"
        return entry


CONTACTS = _Outbox(crm_contact, "contact_id", crm_sync_log)
ACCOUNTS = _Outbox(crm_account, "account_id", crm_account_log)


@dataclass
class CrmSyncer:
    """Pushes due contacts and polls deals, one batch per ``run``. The worker runs it next to
    the message dispatcher; like it, no transaction is held while a CRM is called."""

    engine: Engine
    keyring: Keyring
    options: ChannelOptions = field(default_factory=ChannelOptions)
    batch_size: int = 200
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        #: connection id → (what it was built from, adapter): rebuilt when the row changes
        self._adapters: dict[int, tuple[tuple[Any, ...], CrmAdapter]] = {}

    def close(self) -> None:
        for _, adapter in self._adapters.values():
            try:
                adapter.close()
            except Exception:
                log.exception("closing a CRM adapter failed")
        self._adapters.clear()

    def run(self, now: datetime, scope: Scope = EVERY) -> int:
        return self.push(now, scope) + self.poll(now, scope)

    def _adapter(self, row: Any) -> CrmAdapter:
        stamp = (row["updated_at"], row["secrets"], repr(row["settings"]))
        cached = self._adapters.get(row["id"])
        if cached is not None and cached[0] == stamp:
            return cached[1]
        if cached is not None:
            cached[1].close()
        p = load_crm_providers()[row["provider"]]
        secrets = self.keyring.decrypt(row["secrets"]) if row["secrets"] else {}
        adapter = p.factory(
            p.settings_model.model_validate(row["settings"]),
            p.secrets_model.model_validate(secrets),
            self.options,
        )
        self._adapters[row["id"]] = (stamp, adapter)
        return adapter

    # --- push -----------------------------------------------------------------------

    def push(self, now: datetime, scope: Scope = EVERY) -> int:
        """Accounts first, then contacts: a contact's push can then associate it with the
        CRM records of the accounts pushed just before."""
        return self._push(ACCOUNTS, now, scope) + self._push(CONTACTS, now, scope)

    def _push(self, outbox: _Outbox, now: datetime, scope: Scope) -> int:
        with self.engine.begin() as conn:
            if outbox is ACCOUNTS:
                claimed, connections = self._claim_accounts(conn, now, scope)
            else:
                claimed, connections = self._claim(conn, now, scope)
        if not claimed:
            return 0
        results: list[tuple[_Claimed, PushResult]] = []
        by_connection: dict[int, list[_Claimed]] = {}
        for item in claimed:
            by_connection.setdefault(item.connection_id, []).append(item)
        for connection_id, items in by_connection.items():
            row = connections[connection_id]
            size = load_crm_providers()[row["provider"]].batch_size
            adapter = self._adapter(row)
            for start in range(0, len(items), size):
                part = items[start : start + size]
                try:
                    if outbox is ACCOUNTS:
                        got = adapter.upsert_accounts([cast(AccountPush, i.push) for i in part])
                    else:
                        got = adapter.upsert([cast(ContactPush, i.push) for i in part])
                except Exception as exc:  # an adapter bug must not leave rows sending for a lease
                    log.exception("CRM adapter %s failed", row["provider"])
                    error = short(f"internal error: {type(exc).__name__}")
                    got = [PushResult(i.record_id, "retry", error=error) for i in part]
                results += list(zip(part, got, strict=True))
        with self.engine.begin() as conn:
            self._record(conn, outbox, results, now)
        return len(claimed)

    def _due(self, outbox: _Outbox, now: datetime, scope: Scope, *extra: Any) -> Any:
        c = outbox.table.c
        k = crm_connection.c
        q = (
            select(c.connection_id, c[outbox.key], c.workspace_id, c.version, c.crm_id, *extra)
            .join(crm_connection, k.id == c.connection_id)
            .where(
                or_(and_(c.status == QUEUED, c.next_attempt_at <= now),
                    and_(c.status == SENDING, c.claimed_at <= now - LEASE)),
                k.enabled.is_(True), k.push_contacts.is_(True),
                or_(k.paused_until.is_(None), k.paused_until <= now),
                scope.clause(c.workspace_id),
            )
            .order_by(c.next_attempt_at, c[outbox.key])
            .limit(self.batch_size)
        )  # fmt: skip
        if outbox is ACCOUNTS:
            q = q.where(k.push_accounts.is_(True))
        return q

    def _connections(self, conn: Connection, ids: set[int]) -> dict[int, Any]:
        k = crm_connection.c
        return {r["id"]: r for r in conn.execute(select(crm_connection).where(k.id.in_(ids))).mappings()}

    def _claim(self, conn: Connection, now: datetime, scope: Scope) -> tuple[list[_Claimed], dict[int, Any]]:
        c = crm_contact.c
        q = self._due(CONTACTS, now, scope)
        if conn.dialect.name == "postgresql":
            q = q.with_for_update(of=crm_contact, skip_locked=True)
        rows = conn.execute(q).all()
        if not rows:
            return [], {}
        connections = self._connections(conn, {r.connection_id for r in rows})
        contacts = {}
        for part in chunks(sorted({r.contact_id for r in rows})):
            contacts.update(
                {r["id"]: r for r in conn.execute(select(contact).where(contact.c.id.in_(part))).mappings()}
            )
        account_refs = {
            cid: accounts.contact_accounts(conn, cid, [r.contact_id for r in rows if r.connection_id == cid])
            for cid, row in connections.items()
            if row["push_accounts"]
        }
        claimed = []
        for r in rows:
            person = contacts.get(r.contact_id)
            if person is None:
                continue
            mapping = connections[r.connection_id]["field_mapping"]
            properties = {m["target"]: v for m in mapping if (v := _value(person, m["source"])) is not None}
            fields = {
                "id": person["id"], "external_id": person["external_id"], "email": person["email"],
                "phone": person["phone"], "first_name": person["first_name"],
                "last_name": person["last_name"],
                "lifecycle_stage": person["lifecycle_stage"], "score": person["score"],
            }  # fmt: skip
            push = ContactPush(
                contact_id=r.contact_id, key=f"crm_{r.connection_id}_{r.contact_id}_{r.version}",
                email=person["email"], external_id=person["external_id"], crm_id=r.crm_id,
                properties=properties, contact=fields,
                accounts=account_refs.get(r.connection_id, {}).get(r.contact_id, []),
            )  # fmt: skip
            claimed.append(_Claimed(r.connection_id, r.workspace_id, r.contact_id, r.version, push))
        for item in claimed:
            conn.execute(
                update(crm_contact)
                .where(c.connection_id == item.connection_id, c.contact_id == item.record_id)
                .values(status=SENDING, claimed_at=now, updated_at=now)
            )
        return claimed, connections

    def _claim_accounts(
        self, conn: Connection, now: datetime, scope: Scope
    ) -> tuple[list[_Claimed], dict[int, Any]]:
        c = crm_account.c
        q = self._due(ACCOUNTS, now, scope, c.pushed_hash)
        if conn.dialect.name == "postgresql":
            q = q.with_for_update(of=crm_account, skip_locked=True)
        rows = conn.execute(q).all()
        if not rows:
            return [], {}
        connections = self._connections(conn, {r.connection_id for r in rows})
        claimed = []
        for r, push, digest in accounts.account_pushes(conn, rows, connections):
            mine = and_(c.connection_id == r.connection_id, c.account_id == r.account_id)
            if r.crm_id is not None and digest == r.pushed_hash:
                # the CRM holds exactly this already: nothing to send
                conn.execute(
                    update(crm_account).where(mine).values(
                        status=SYNCED, synced_version=r.version, attempts=0, last_error=None, claimed_at=None,
                        next_attempt_at=now, updated_at=now,
                    )
                )  # fmt: skip
                continue
            conn.execute(
                update(crm_account).where(mine).values(status=SENDING, claimed_at=now, updated_at=now)
            )
            claimed.append(
                _Claimed(
                    r.connection_id,
                    r.workspace_id,
                    r.account_id,
                    r.version,
                    push,
                    digest,
                    r.crm_id is not None,
                )
            )
        return claimed, connections

    def _record(
        self,
        conn: Connection,
        outbox: _Outbox,
        results: list[tuple[_Claimed, PushResult]],
        now: datetime,
    ) -> None:
        c = outbox.table.c
        logs = []
        paused: dict[int, tuple[datetime, str]] = {}
        first_synced: dict[int, list[int]] = {}  # connection → accounts that just got a CRM id
        for item, result in results:
            mine = and_(c.connection_id == item.connection_id, c[outbox.key] == item.record_id,
                        c.status == SENDING, c.claimed_at == now)  # fmt: skip
            changed_since = c.version != item.version
            entry = outbox.entry(item, result, now)
            if result.status == "synced":
                values: dict[str, Any] = {}
                if outbox is ACCOUNTS:
                    values["pushed_hash"] = item.digest
                    if not item.had_crm_id and result.crm_id:
                        first_synced.setdefault(item.connection_id, []).append(item.record_id)
                conn.execute(
                    update(outbox.table).where(mine).values(
                        status=case((changed_since, QUEUED), else_=SYNCED), crm_id=result.crm_id or c.crm_id,
                        synced_version=item.version, attempts=0, last_synced_at=now, last_error=None,
                        next_attempt_at=now, claimed_at=None, updated_at=now, **values,
                    )
                )  # fmt: skip
            elif result.status == "failed":
                conn.execute(
                    update(outbox.table).where(mine).values(
                        status=case((changed_since, QUEUED), else_=FAILED), attempts=c.attempts + 1,
                        last_error=result.error, next_attempt_at=now, claimed_at=None, updated_at=now,
                    )
                )  # fmt: skip
            else:
                row = conn.execute(select(c.attempts).where(mine)).first()
                if row is None:
                    continue
                if result.outage:
                    pause_end = paused.get(item.connection_id)
                    if pause_end is None:
                        delay = timedelta(seconds=result.retry_after) if result.retry_after else None
                        pause = min(delay or backoff(1, self.rng.random()) * 2, MAX_PAUSE)
                        pause_end = (now + pause, result.error or "CRM unavailable")
                        paused[item.connection_id] = pause_end
                    values = {"status": QUEUED, "next_attempt_at": pause_end[0]}  # an outage costs no attempt
                else:
                    attempts = row.attempts + 1
                    if attempts >= MAX_ATTEMPTS:
                        values = {"status": FAILED, "attempts": attempts, "next_attempt_at": now}
                        entry["outcome"] = "failed"
                    else:
                        wait = backoff(attempts, self.rng.random())
                        if result.retry_after is not None:
                            wait = max(wait, timedelta(seconds=result.retry_after))
                        values = {"status": QUEUED, "attempts": attempts, "next_attempt_at": now + wait}
                conn.execute(
                    update(outbox.table).where(mine).values(
                        **values, last_error=result.error, claimed_at=None, updated_at=now
                    )
                )  # fmt: skip
            logs.append(entry)
        for connection_id, (until, reason) in paused.items():
            conn.execute(
                update(crm_connection)
                .where(crm_connection.c.id == connection_id)
                .values(paused_until=until, pause_reason=short(reason), last_error=short(reason))
            )
        for connection_id, account_ids in first_synced.items():
            accounts.requeue_members(conn, connection_id, account_ids, now)
        if logs:
            conn.execute(outbox.log.insert(), logs)

    # --- deals ----------------------------------------------------------------------

    def poll(self, now: datetime, scope: Scope = EVERY) -> int:
        k = crm_connection.c
        with self.engine.begin() as conn:
            due = list(
                conn.execute(
                    select(crm_connection).where(
                        k.enabled.is_(True), k.pull_deals.is_(True), k.next_poll_at <= now,
                        or_(k.paused_until.is_(None), k.paused_until <= now), scope.clause(k.workspace_id),
                    )
                ).mappings()
            )  # fmt: skip
            mine = []
            for row in due:  # claim: only one worker polls a connection at a time
                claimed = conn.execute(
                    update(crm_connection)
                    .where(k.id == row["id"], k.next_poll_at == row["next_poll_at"])
                    .values(next_poll_at=now + timedelta(seconds=row["poll_interval"]))
                ).rowcount
                if claimed:
                    mine.append(row)
        done = 0
        for row in mine:
            try:
                page = self._adapter(row).deal_changes(row["deal_cursor"], row["created_at"])
            except CrmError as exc:
                wait = max(row["poll_interval"], exc.retry_after or 0)
                with self.engine.begin() as conn:
                    conn.execute(
                        update(crm_connection).where(k.id == row["id"])
                        .values(last_error=short(exc.reason), next_poll_at=now + timedelta(seconds=wait))
                    )  # fmt: skip
                continue
            with self.engine.begin() as conn:
                done += record_deals(conn, row, page.changes, now)
                conn.execute(
                    update(crm_connection)
                    .where(k.id == row["id"])
                    .values(deal_cursor=page.cursor, last_error=None)
                )
        return done


def _contacts_of(conn: Connection, row: Any, change: DealChange) -> list[int]:
    found: set[int] = set()
    if change.contact_ids:
        found.update(
            conn.execute(
                select(contact.c.id).where(
                    contact.c.workspace_id == row["workspace_id"], contact.c.id.in_(change.contact_ids),
                    contact.c.merged_into.is_(None),
                )
            ).scalars()
        )  # fmt: skip
    if change.contact_crm_ids:
        found.update(
            conn.execute(
                select(crm_contact.c.contact_id).where(
                    crm_contact.c.connection_id == row["id"], crm_contact.c.crm_id.in_(change.contact_crm_ids)
                )
            ).scalars()
        )
    return sorted(found)


def record_deals(conn: Connection, row: Any, changes: list[DealChange], now: datetime) -> int:
    """Store the deals' stages; each changed stage becomes events on the deal's contacts.
    Returns how many changes were new."""
    if not changes:
        return 0
    d = crm_deal.c
    known = {
        r.deal_id: r
        for part in chunks([ch.deal_id for ch in changes])
        for r in conn.execute(select(crm_deal).where(d.connection_id == row["id"], d.deal_id.in_(part)))
    }
    events: list[InternalEvent] = []
    logs = []
    new = 0
    stamp = int(now.timestamp() * 1000)
    for change in changes:
        before = known.get(change.deal_id)
        if before is not None and before.stage == change.stage:
            continue  # read again, not changed: no event
        contacts = _contacts_of(conn, row, change)
        values = {"workspace_id": row["workspace_id"], "contact_id": contacts[0] if contacts else None,
                  "name": change.name, "stage": change.stage, "amount": change.amount,
                  "currency": change.currency, "updated_at": now}  # fmt: skip
        upsert = insert_on_conflict(conn, crm_deal).values(
            connection_id=row["id"], deal_id=change.deal_id, **values
        )
        conn.execute(upsert.on_conflict_do_update(index_elements=[d.connection_id, d.deal_id], set_=values))
        new += 1
        properties = {
            "deal_id": change.deal_id, "deal_name": change.name, "stage": change.stage,
            "previous_stage": before.stage if before is not None else None, "amount": change.amount,
            "currency": change.currency, "crm": row["provider"], "crm_connection_id": row["id"],
        }  # fmt: skip
        names = ["Deal Stage Changed"]
        if change.won:
            names.append("Deal Won")
        elif change.lost:
            names.append("Deal Lost")
        for cid in contacts:
            for name in names:
                suffix = name.split()[-1].lower()
                events.append(
                    InternalEvent(cid, name, dict(properties), now,
                                  f"kairos-crm-{row['id']}-{change.deal_id}-{stamp}-{cid}-{suffix}")
                )  # fmt: skip
            logs.append({"workspace_id": row["workspace_id"], "connection_id": row["id"], "contact_id": cid,
                         "direction": "pull", "outcome": "deal", "crm_id": change.deal_id,
                         "detail": short(f"{', '.join(names[1:]) or names[0]}: {change.stage}"),
                         "created_at": now})  # fmt: skip
    record_internal(conn, row["workspace_id"], events, now)
    if logs:
        conn.execute(crm_sync_log.insert(), logs)
    return new
