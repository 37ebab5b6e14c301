"""Identity resolution: which contact does each message belong to, and which contacts merge.

Resolution is set-based. For a batch of claims (the identifiers each message carries) it
looks up every identifier with one query per kind, then walks the claims in order over an
in-memory union-find, so a thousand messages cost a handful of statements.

Rules (the ones Segment, Braze and Customer.io users expect):

* A ``userId`` is the strongest identifier: the contact holding it receives the message.
* Any other identifier on the message (anonymous id, email, phone) that belongs to another
  contact ties the two together, and they merge — unless both already carry *different*
  user ids. Two known people never merge because they shared a device or an address;
  the identifier then stays with its first owner.
* ``alias`` is an explicit instruction and merges even across user ids.
* The older contact (smaller id) survives, so ids already handed out stay valid; it takes
  the user id of the other if it had none.
* Identifiers seen for the first time are attached to the contact the message resolved to.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, true, update

from kairos.contacts.merge import Merge, apply_merges
from kairos.contacts.tables import contact, identity
from kairos.db.dialect import (
    FastStatement,
    allocate_ids,
    each_string,
    in_list,
    json_converter,
    list_param,
    time_converter,
)

IdentityKey = tuple[str, str]  # (kind, value)
IDENTITY_KINDS = ("user_id", "email", "phone", "anonymous_id")

_NEW_BASE = 1 << 62  # temporary ids of contacts created during this resolution

_INSERT_CONTACTS = FastStatement.insert(
    contact, ("id", "workspace_id", "external_id", "traits", "score", "created_at", "updated_at")
)
_INSERT_IDENTITIES = FastStatement.insert(
    identity, ("workspace_id", "kind", "value", "contact_id", "created_at")
)


@dataclass(slots=True)
class Claim:
    """The identifiers one message carries, strongest first."""

    keys: list[IdentityKey]
    user_id: str | None = None
    force: bool = False  # alias: merge even when both sides have user ids


@dataclass(slots=True)
class Resolution:
    contact_ids: list[int]  # one per claim, in order
    created: set[int] = field(default_factory=set)
    merges: list[Merge] = field(default_factory=list)


#: Built once per dialect: constructing a Core statement costs more than running it on small
#: batches, and the values go in one parameter: an expanding ``IN`` rendered thousands of
#: parameter names per call (14% of the ingest processor's time). SQLite probes the primary
#: key once per value of the list; PostgreSQL is made to (``each_string``).
def _lookup_pg() -> Any:
    v = each_string("values")
    owner = (
        select(identity.c.contact_id)
        .where(
            identity.c.workspace_id == bindparam("ws"),
            identity.c.kind == bindparam("kind"),
            identity.c.value == v.c.value,
        )
        .offset(0)
        .lateral("i")
    )
    return (
        select(v.c.value, owner.c.contact_id, contact.c.external_id)
        .select_from(v)
        .join(owner, true())
        .join(contact, contact.c.id == owner.c.contact_id)
    )


_LOOKUP = {
    "sqlite": select(identity.c.value, identity.c.contact_id, contact.c.external_id)
    .join(contact, contact.c.id == identity.c.contact_id)
    .where(
        identity.c.workspace_id == bindparam("ws"),
        identity.c.kind == bindparam("kind"),
        in_list(identity.c.value, "values", "sqlite"),
    ),
    "postgresql": _lookup_pg(),
}


def lookup(
    conn: Connection, workspace_id: int, keys: set[IdentityKey]
) -> tuple[dict[IdentityKey, int], dict[int, str | None]]:
    """Owner contact of each known identifier (identities always point at live contacts),
    and the user id (``external_id``) of each owner — one query per identifier kind."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, value in keys:
        by_kind[kind].append(value)
    owner: dict[IdentityKey, int] = {}
    user_of: dict[int, str | None] = {}
    dialect = conn.dialect.name
    for kind, values in by_kind.items():
        for value, contact_id, external_id in conn.execute(
            _LOOKUP[dialect], {"ws": workspace_id, "kind": kind, "values": list_param(values, dialect)}
        ).all():
            owner[(kind, value)] = contact_id
            user_of[contact_id] = external_id
    return owner, user_of


def resolve(conn: Connection, workspace_id: int, claims: list[Claim], now: datetime) -> Resolution:
    owner, user_of = lookup(conn, workspace_id, {k for c in claims for k in c.keys})
    original_user = dict(user_of)

    parent: dict[int, int] = {}

    def find(c: int) -> int:
        root = c
        while root in parent:
            root = parent[root]
        while c != root:  # path compression
            parent[c], c = root, parent[c]
        return root

    next_new = _NEW_BASE
    new_keys: dict[IdentityKey, int] = {}
    pending_merges: list[tuple[int, int, str]] = []
    targets: list[int] = []

    for claim in claims:
        found: list[int] = []
        for key in claim.keys:
            c = owner.get(key)
            if c is not None:
                c = find(c)
                if c not in found:
                    found.append(c)
        u = claim.user_id
        target: int | None = None
        if u is not None and ("user_id", u) in owner:
            target = find(owner[("user_id", u)])
        else:
            for c in found:
                if u is None or user_of.get(c) in (None, u):
                    target = c
                    break
        if target is None:
            next_new += 1
            target = next_new
        user_of[target] = user_of.get(target) or u
        for c in found:
            if c == target:
                continue
            a, b = user_of.get(c), user_of.get(target)
            if claim.force or a is None or b is None or a == b:
                survivor, loser = (c, target) if c < target else (target, c)
                parent[loser] = survivor
                user_of[survivor] = user_of.get(survivor) or user_of.get(loser)
                pending_merges.append((loser, survivor, _describe(claim.keys)))
                target = survivor
        for key in claim.keys:
            if key not in owner:
                owner[key] = target
                new_keys[key] = target
        targets.append(target)

    # Insert the contacts created here that were not merged into an existing one.
    new_roots = sorted({r for r in map(find, [*targets, *new_keys.values()]) if r > _NEW_BASE})
    real = dict(zip(new_roots, allocate_ids(conn, contact, len(new_roots)), strict=True))
    if new_roots:
        t, j = time_converter(conn), json_converter(conn)
        stamp = t(now)
        _INSERT_CONTACTS.execute(
            conn,
            [(real[c], workspace_id, user_of.get(c), j({}), 0, stamp, stamp) for c in new_roots],
        )

    def final(c: int) -> int:
        root = find(c)
        return real.get(root, root)

    # Each existing loser merges straight into its last survivor, so chains (A→B, B→C)
    # collapse; a contact created in this batch and merged away was never inserted.
    merges = [
        Merge(loser=loser, survivor=final(loser), reason=why)
        for loser, _survivor, why in pending_merges
        if loser < _NEW_BASE
    ]
    apply_merges(conn, workspace_id, merges, now)

    if new_keys:
        stamp = time_converter(conn)(now)
        _INSERT_IDENTITIES.execute(
            conn,
            [(workspace_id, kind, value, final(c), stamp) for (kind, value), c in new_keys.items()],
        )
    # Existing contacts that just learned their user id.
    gained = [
        {"cid": c, "ext": user_of[c]}
        for c, before in original_user.items()
        if before is None and user_of.get(c) and find(c) == c
    ]
    if gained:
        conn.execute(
            update(contact)
            .where(contact.c.id == bindparam("cid"), contact.c.external_id.is_(None))
            .values(external_id=bindparam("ext"), updated_at=now),
            gained,
        )
    return Resolution(
        contact_ids=[final(t) for t in targets],
        created=set(real.values()),
        merges=merges,
    )


def _describe(keys: list[IdentityKey]) -> str:
    return ", ".join(f"{kind} {value!r}" for kind, value in keys)
