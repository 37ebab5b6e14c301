"""Contact profiles: read, upsert, update, erase, and the set-based profile writer ingest uses."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, and_, bindparam, func, insert, or_, select, union, update
from sqlalchemy.dialects import postgresql

from kairos.contacts.acquisition import acquisition_of
from kairos.contacts.attributes import attribute_types
from kairos.contacts.fields import (
    PROFILE_FIELDS,
    ProfileChanges,
    check_custom_trait_names,
    coerce_traits,
    normalize_field,
)
from kairos.contacts.identity import Claim, IdentityKey, resolve
from kairos.contacts.tables import contact, contact_change, contact_tag, identity
from kairos.contacts.tags import add_tags, tags_of
from kairos.db.dialect import (
    FastStatement,
    chunks,
    insert_on_conflict,
    json_converter,
    time_converter,
)
from kairos.db.types import UTCDateTime
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.segments.tables import segment_membership


def claim_for(
    external_id: str | None, fields: dict[str, str | None], anonymous_id: str | None = None
) -> Claim:
    """The identifiers a profile write carries, strongest first."""
    keys: list[IdentityKey] = []
    if external_id:
        keys.append(("user_id", external_id))
    if fields.get("email"):
        keys.append(("email", str(fields["email"])))
    if fields.get("phone"):
        keys.append(("phone", str(fields["phone"])))
    if anonymous_id:
        keys.append(("anonymous_id", anonymous_id))
    return Claim(keys=keys, user_id=external_id or None)


_PROFILE_COLUMNS = (*PROFILE_FIELDS, "traits", "updated_at")
_UPDATE_PROFILE = FastStatement(
    lambda _conn: (
        update(contact)
        .where(contact.c.id == bindparam("cid"))
        .values({c: bindparam(f"v_{c}") for c in _PROFILE_COLUMNS})
    ),
    ("cid", *(f"v_{c}" for c in _PROFILE_COLUMNS)),
)
_EMPTY_PROFILE: dict[str, Any] = {"traits": {}, **dict.fromkeys(PROFILE_FIELDS)}


def apply_profile_changes(
    conn: Connection,
    changes: dict[int, ProfileChanges],
    now: datetime,
    *,
    created: set[int] | frozenset[int] = frozenset(),
) -> None:
    """Write profile changes for many contacts with one read and one executemany.

    Contacts in ``created`` were inserted empty in this transaction and are not read back.
    A contact whose profile would not change is not written: browsers call identify on
    every page view with the same traits.
    """
    if not changes:
        return
    current: dict[int, dict[str, Any]] = {cid: _EMPTY_PROFILE for cid in created if cid in changes}
    cols = [contact.c.id, contact.c.traits, *(contact.c[f] for f in PROFILE_FIELDS)]
    for part in chunks([cid for cid in changes if cid not in current]):
        for found in conn.execute(select(*cols).where(contact.c.id.in_(part))):
            current[found.id] = dict(found._mapping)
    j = json_converter(conn)
    stamp = time_converter(conn)(now)
    rows = []
    for cid, change in changes.items():
        row = current[cid]
        traits = dict(row["traits"] or {})
        for key, value in change.traits.items():
            if value is None:
                traits.pop(key, None)
            else:
                traits[key] = value
        for key, value in change.trait_defaults.items():
            if traits.get(key) is None:
                traits[key] = value
        values = [change.fields.get(f, row[f]) for f in PROFILE_FIELDS]
        for i, f in enumerate(PROFILE_FIELDS):
            if values[i] is None and f in change.defaults:
                values[i] = change.defaults[f]
        if traits == row["traits"] and all(v == row[f] for v, f in zip(values, PROFILE_FIELDS, strict=True)):
            continue
        rows.append((cid, *values, j(traits), stamp))
    _UPDATE_PROFILE.execute(conn, rows)


def _build_mark_changed(conn: Connection) -> Any:
    stmt = insert_on_conflict(conn, contact_change).values(
        contact_id=bindparam("contact_id"),
        workspace_id=bindparam("workspace_id"),
        changed_at=bindparam("changed_at"),
    )
    # Keep the earliest unprocessed change: the worker reads what happened since then.
    earliest = func.min if conn.dialect.name == "sqlite" else func.least
    return stmt.on_conflict_do_update(
        index_elements=["contact_id"],
        set_={"changed_at": earliest(contact_change.c.changed_at, stmt.excluded.changed_at)},
    )


_MARK_CHANGED = FastStatement(_build_mark_changed, ("contact_id", "workspace_id", "changed_at"))


def _build_mark_changed_pg() -> Any:
    """PostgreSQL: the whole set in one statement from an array (``executemany`` ran one
    upsert per contact: a quarter of the ingest processor's database time)."""
    ids = (
        func.unnest(bindparam("ids", type_=postgresql.ARRAY(BigInteger)))
        .table_valued("id")
        .render_derived(name="c")
    )
    stmt = postgresql.insert(contact_change).from_select(
        ["contact_id", "workspace_id", "changed_at"],
        select(ids.c.id, bindparam("ws", type_=BigInteger), bindparam("at", type_=UTCDateTime())).order_by(
            ids.c.id
        ),
    )
    return stmt.on_conflict_do_update(
        index_elements=["contact_id"],
        set_={"changed_at": func.least(contact_change.c.changed_at, stmt.excluded.changed_at)},
    )


_MARK_CHANGED_PG = _build_mark_changed_pg()


def mark_changed(conn: Connection, workspace_id: int, contact_ids: Iterable[int], now: datetime) -> None:
    """Queue contacts for the worker's re-evaluation; ``now`` is when the change happened
    (for events, when they were received): the worker looks at what changed since then.
    Contacts go in id order, so two transactions queueing the same contacts lock their rows
    in the same order (PostgreSQL) and cannot deadlock on them."""
    ids = sorted(set(contact_ids))
    if not ids:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(_MARK_CHANGED_PG, {"ids": ids, "ws": workspace_id, "at": now})
        return
    stamp = time_converter(conn)(now)
    _MARK_CHANGED.execute(conn, [(cid, workspace_id, stamp) for cid in ids])


# --- reading -----------------------------------------------------------------------------


def live_contact_id(conn: Connection, workspace_id: int, contact_id: int) -> int:
    """The live contact an id stands for: merged ids lead to their survivor."""
    row = conn.execute(
        select(contact.c.id, contact.c.merged_into).where(
            contact.c.id == contact_id, contact.c.workspace_id == workspace_id
        )
    ).first()
    if row is None:
        raise NotFound(f"contact {contact_id} not found", code="contact_not_found")
    return int(row.merged_into or row.id)


def get_contact(conn: Connection, workspace_id: int, contact_id: int) -> dict[str, Any]:
    cid = live_contact_id(conn, workspace_id, contact_id)
    row = conn.execute(select(contact).where(contact.c.id == cid)).one()
    out = _present(dict(row._mapping))
    out["tags"] = tags_of(conn, [cid])[cid]
    out["identities"] = [
        {"kind": kind, "value": value}
        for kind, value in conn.execute(
            select(identity.c.kind, identity.c.value)
            .where(identity.c.contact_id == cid)
            .order_by(identity.c.kind, identity.c.value)
        )
    ]
    out["acquisition"] = acquisition_of(conn, cid)
    return out


def find_contact_id(conn: Connection, workspace_id: int, kind: str, value: str) -> int | None:
    return conn.execute(
        select(identity.c.contact_id).where(
            identity.c.workspace_id == workspace_id, identity.c.kind == kind, identity.c.value == value
        )
    ).scalar()


def list_contacts(
    conn: Connection,
    workspace_id: int,
    *,
    limit: int,
    after: int | None = None,
    identities: list[IdentityKey] | None = None,
    segment_id: int | None = None,
    tag_id: int | None = None,
    lifecycle_stage: str | None = None,
    name: str | None = None,
) -> list[dict[str, Any]]:
    """Live contacts in id order, after ``after``: those with all these identifiers, in the
    segment, with the tag, at the stage, whose first name, last name or full name starts
    with ``name`` (any case).

    The walk follows one index in id order and checks the other filters on the way, so its
    cost is what it reads before the page is full. It follows the segment's membership, else
    the tag's, else the contacts' — but a filter that holds for few contacts (at most
    ``FEW``, counted through its index and stopping past that) leads instead: a rare tag, a
    rare stage or a rare name inside a big segment is found without reading the segment.
    (PostgreSQL's planner knows each value's frequency; SQLite's does not.)"""
    live = and_(contact.c.workspace_id == workspace_id, contact.c.merged_into.is_(None))
    stmt = select(contact).where(live)
    bound = after or 0
    # Which index leads: the segment's, else the tag's, else the contacts' id index — unless
    # a rarer filter is at hand. The leading membership is joined; the others are tested
    # per contact (EXISTS), so the planner has no other walk to prefer.
    in_segment = and_(
        segment_membership.c.segment_id == segment_id, segment_membership.c.contact_id == contact.c.id
    )
    tagged = and_(contact_tag.c.tag_id == tag_id, contact_tag.c.contact_id == contact.c.id)
    lead = "segment" if segment_id is not None else "contact"
    if tag_id is not None and (
        lead == "contact"
        or _few(conn, select(contact_tag.c.contact_id).where(contact_tag.c.tag_id == tag_id))
    ):
        lead = "tag"
    if lifecycle_stage is not None:
        stmt = stmt.where(contact.c.lifecycle_stage == lifecycle_stage)
        # a rare stage leads through ix_contact_stage (its entries are in id order)
        if lead != "contact" and _few(
            conn, select(contact.c.id).where(live, contact.c.lifecycle_stage == lifecycle_stage)
        ):
            lead = "contact"
    keys = [contact.c.id]  # the id columns joined: the page's lower bound goes on each
    key = contact.c.id  # the column the keyset walks
    if segment_id is not None:
        if lead == "segment":
            stmt = stmt.join(segment_membership, in_segment)
            key = segment_membership.c.contact_id
            keys.append(key)
        else:
            stmt = stmt.where(select(segment_membership.c.contact_id).where(in_segment).exists())
    if tag_id is not None:
        if lead == "tag":
            stmt = stmt.join(contact_tag, tagged)
            key = contact_tag.c.contact_id
            keys.append(key)
        else:
            stmt = stmt.where(select(contact_tag.c.contact_id).where(tagged).exists())
    for kind, value in identities or []:
        stmt = stmt.where(
            contact.c.id.in_(
                select(identity.c.contact_id).where(
                    identity.c.workspace_id == workspace_id,
                    identity.c.kind == kind,
                    identity.c.value == value,
                )
            )
        )
    if name and name.strip():
        branches = _name_matches(name, conn.dialect.name)
        if _few(conn, *(select(contact.c.id).where(live, b) for b in branches)):
            # Each branch through its name index (partial: live contacts only, so it covers
            # the search), the ids merged and sorted, then the page's rows. Walking another
            # index instead reads everything it holds when the name matches nobody there.
            ids = union(
                *(stmt.with_only_columns(contact.c.id).where(b, contact.c.id + 0 > bound) for b in branches)
            ).subquery()
            page = select(ids.c.id).order_by(ids.c.id).limit(limit)
            stmt, key, keys = select(contact).where(contact.c.id.in_(page)), contact.c.id, [contact.c.id]
        else:
            # A common name: walking the index of the other filters (or the contacts' id
            # index) finds a page of them sooner than sorting every contact the name matches.
            stmt = stmt.where(or_(*branches))
    # A bound on every id column joined, not only the walked one: the walk always has a
    # lower bound (the planner walks that index, no sort), and PostgreSQL, which carries
    # equalities across a join but not ranges, does not merge-join from the first contact.
    stmt = stmt.where(*(k > bound for k in keys))
    rows = [dict(r._mapping) for r in conn.execute(stmt.order_by(key).limit(limit))]
    tags = tags_of(conn, [r["id"] for r in rows])
    return [{**_present(r), "tags": tags[r["id"]]} for r in rows]


#: a filter matching at most this many contacts leads the walk of the contact list
FEW = 5000


def _few(conn: Connection, *queries: Any) -> bool:
    """Whether these queries (one index range each) return at most ``FEW`` rows together:
    counted through their indexes, stopping past ``FEW`` (a millisecond or two)."""
    seen = 0
    for query in queries:
        probe = query.limit(FEW + 1 - seen).subquery()
        seen += conn.execute(select(func.count()).select_from(probe)).scalar_one()
        if seen > FEW:
            return False
    return True


def _starts_with(column: Any, prefix: str, dialect: str) -> Any:
    """``lower(column)`` starts with ``prefix``, in a form the ``lower(…)`` indexes serve:
    ``LIKE`` on PostgreSQL (``text_pattern_ops``), a range on SQLite (binary collation)."""
    lowered = func.lower(column)
    if dialect == "postgresql":
        return lowered.startswith(prefix, autoescape=True)
    return and_(lowered >= prefix, lowered < prefix[:-1] + chr(ord(prefix[-1]) + 1))


def _name_matches(name: str, dialect: str) -> list[Any]:
    """The conditions, any of which matches: first or last name starts with the word; two
    words: first and last name (either order: "Ann Lee" and "Lee Ann"), each condition led
    by one name index. SQLite's ``lower`` folds ASCII letters only."""
    words = name.strip().lower().split()
    first, last = contact.c.first_name, contact.c.last_name
    if len(words) == 1:
        return [_starts_with(first, words[0], dialect), _starts_with(last, words[0], dialect)]
    head, tail = words[0], " ".join(words[1:])
    return [
        and_(_starts_with(first, head, dialect), _starts_with(last, tail, dialect)),
        and_(_starts_with(last, head, dialect), _starts_with(first, tail, dialect)),
    ]


def _present(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("workspace_id", None)
    row.pop("merged_into", None)
    return row


# --- writing -----------------------------------------------------------------------------


def normalize_profile(
    data: dict[str, Any], default_country: str | None, types: dict[str, str]
) -> ProfileChanges:
    changes = ProfileChanges()
    for f in PROFILE_FIELDS:
        if f in data:
            changes.fields[f] = normalize_field(f, data[f], default_country)
    if data.get("traits"):
        check_custom_trait_names(data["traits"])
        changes.traits = coerce_traits(dict(data["traits"]), types)
    return changes


def upsert_contact(
    conn: Connection,
    workspace_id: int,
    data: dict[str, Any],
    now: datetime,
    *,
    default_country: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Create or update the contact identified by ``external_id`` or ``email`` (or phone).
    A ``lifecycle_stage`` sets the stage (recorded in its history); null leaves it alone."""
    from kairos.contacts.lifecycle import clean_stage, set_stage  # here: lifecycle imports this module

    stage = clean_stage(data.get("lifecycle_stage"))
    changes = normalize_profile(data, default_country, attribute_types(conn, workspace_id))
    external_id = data.get("external_id") or None
    claim = claim_for(external_id, changes.fields)
    if not claim.keys:
        raise InvalidInput(
            "a contact needs an external_id, email or phone to be matched on", code="missing_identity"
        )
    resolution = resolve(conn, workspace_id, [claim], now)
    cid = resolution.contact_ids[0]
    apply_profile_changes(conn, {cid: changes}, now)
    if stage is not None:
        set_stage(conn, workspace_id, [cid], stage, now, "api")
    if data.get("tags"):
        add_tags(conn, workspace_id, ((cid, t) for t in data["tags"]), now)
    mark_changed(conn, workspace_id, [cid], now)
    return get_contact(conn, workspace_id, cid), cid in resolution.created


def update_contact(
    conn: Connection,
    workspace_id: int,
    contact_id: int,
    data: dict[str, Any],
    now: datetime,
    *,
    default_country: str | None = None,
    source: str = "api",
) -> dict[str, Any]:
    """Partial update. New email/phone/external_id become identities of this contact; one
    that already belongs to another contact is a conflict (PATCH never merges silently).
    ``lifecycle_stage`` sets the stage, null clears it (either recorded in its history, with
    ``source``: ``api`` or ``console``, who asked)."""
    from kairos.contacts.lifecycle import clean_stage, set_stage  # here: lifecycle imports this module

    cid = live_contact_id(conn, workspace_id, contact_id)
    stage = clean_stage(data.get("lifecycle_stage"))
    changes = normalize_profile(data, default_country, attribute_types(conn, workspace_id))
    current_ext = conn.execute(select(contact.c.external_id).where(contact.c.id == cid)).scalar()
    keys: list[IdentityKey] = []
    ext = data.get("external_id")
    if ext:
        if current_ext and current_ext != ext:
            raise InvalidInput(
                "external_id is already set and cannot be changed", code="external_id_immutable"
            )
        keys.append(("user_id", ext))
    keys += [(f, str(changes.fields[f])) for f in ("email", "phone") if changes.fields.get(f)]
    for kind, value in keys:
        owner = find_contact_id(conn, workspace_id, kind, value)
        if owner is not None and owner != cid:
            raise Conflict(f"{kind} {value!r} belongs to contact {owner}", code="identity_conflict")
        if owner is None:
            conn.execute(
                insert(identity).values(
                    workspace_id=workspace_id, kind=kind, value=value, contact_id=cid, created_at=now
                )
            )
    if ext and not current_ext:
        conn.execute(update(contact).where(contact.c.id == cid).values(external_id=ext))
    apply_profile_changes(conn, {cid: changes}, now)
    if "lifecycle_stage" in data:
        set_stage(conn, workspace_id, [cid], stage, now, source)
    mark_changed(conn, workspace_id, [cid], now)
    return get_contact(conn, workspace_id, cid)


def delete_contact(conn: Connection, workspace_id: int, contact_id: int) -> None:
    """Erase a contact and everything recorded about it, including contacts merged into it
    (right to erasure: ``contacts/erasure.py`` says what is removed and what stays hashed)."""
    from kairos.contacts.erasure import erase_contacts  # here: it reads every package's tables

    cid = live_contact_id(conn, workspace_id, contact_id)
    ids = [cid, *conn.execute(select(contact.c.id).where(contact.c.merged_into == cid)).scalars()]
    erase_contacts(conn, workspace_id, ids)
