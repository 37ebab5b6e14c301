"""Contact profiles: read, upsert, update, erase, and the set-based profile writer ingest uses."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, union, update

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


def mark_changed(conn: Connection, workspace_id: int, contact_ids: Iterable[int], now: datetime) -> None:
    """Queue contacts for the worker's re-evaluation; ``now`` is when the change happened
    (for events, when they were received): the worker looks at what changed since then."""
    stamp = time_converter(conn)(now)
    _MARK_CHANGED.execute(conn, [(cid, workspace_id, stamp) for cid in set(contact_ids)])


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
    with ``name`` (any case). With a segment or a tag, the walk follows that membership's
    index, so a small segment among millions of contacts is found at once."""
    stmt = select(contact).where(contact.c.workspace_id == workspace_id, contact.c.merged_into.is_(None))
    key = contact.c.id  # the column the keyset walks
    if segment_id is not None:
        stmt = stmt.join(
            segment_membership,
            and_(
                segment_membership.c.segment_id == segment_id, segment_membership.c.contact_id == contact.c.id
            ),
        )
        key = segment_membership.c.contact_id
    if tag_id is not None:
        stmt = stmt.join(
            contact_tag, and_(contact_tag.c.tag_id == tag_id, contact_tag.c.contact_id == contact.c.id)
        )
        if segment_id is None:
            key = contact_tag.c.contact_id
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
    if lifecycle_stage is not None:
        stmt = stmt.where(contact.c.lifecycle_stage == lifecycle_stage)
    lower_bound = key > (after or 0)  # always one: the planner walks the id index, no sort
    if name and name.strip():
        branches = _name_matches(name, conn.dialect.name)
        if segment_id is None and tag_id is None:
            # Each branch through its name index (partial: live contacts only, so it covers
            # the search), the ids merged and sorted, then the page's rows. Walking the id
            # index instead reads every contact when a name matches nobody; one OR of both
            # leaves the planner guessing.
            ids = union(
                *(
                    stmt.with_only_columns(contact.c.id).where(b, contact.c.id + 0 > (after or 0))
                    for b in branches
                )
            ).subquery()
            page = select(ids.c.id).order_by(ids.c.id).limit(limit)
            stmt = select(contact).where(contact.c.id.in_(page))
            lower_bound = contact.c.id > (after or 0)
        else:
            stmt = stmt.where(or_(*branches))
    stmt = stmt.where(lower_bound)
    rows = [dict(r._mapping) for r in conn.execute(stmt.order_by(key).limit(limit))]
    tags = tags_of(conn, [r["id"] for r in rows])
    return [{**_present(r), "tags": tags[r["id"]]} for r in rows]


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
) -> dict[str, Any]:
    """Partial update. New email/phone/external_id become identities of this contact; one
    that already belongs to another contact is a conflict (PATCH never merges silently).
    ``lifecycle_stage`` sets the stage, null clears it (either recorded in its history)."""
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
        set_stage(conn, workspace_id, [cid], stage, now, "api")
    mark_changed(conn, workspace_id, [cid], now)
    return get_contact(conn, workspace_id, cid)


def delete_contact(conn: Connection, workspace_id: int, contact_id: int) -> None:
    """Erase a contact and everything recorded about it, including contacts merged into it
    (right to erasure: ``contacts/erasure.py`` says what is removed and what stays hashed)."""
    from kairos.contacts.erasure import erase_contacts  # here: it reads every package's tables

    cid = live_contact_id(conn, workspace_id, contact_id)
    ids = [cid, *conn.execute(select(contact.c.id).where(contact.c.merged_into == cid)).scalars()]
    erase_contacts(conn, workspace_id, ids)
