"""B2B accounts: create, read, update, delete, search, members, and Segment ``group`` calls.

An account is found by its ``external_id`` (Segment's ``groupId``) when it has one: creating
one with a known ``external_id`` updates that account (``created`` False), as a ``group`` call
does. A contact may belong to several accounts (Segment lets a user join several groups),
each membership with an optional role (title) and its source: ``group``, ``api`` or
``import``.

Whatever changes an account (its attributes, its members) marks it stale: the worker then
rolls its score up again and re-checks its members against the segments that test accounts
(``b2b/rollup.py``). Contacts that join or leave are queued as changed contacts too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from kairos.accounts import notifications
from kairos.accounts.tables import app_user
from kairos.b2b.tables import account, account_contact, account_score, account_score_setting
from kairos.contacts.service import live_contact_id, mark_changed
from kairos.contacts.tables import contact
from kairos.db.dialect import chunks, insert_on_conflict
from kairos.errors import InvalidInput, NotFound
from kairos.json_input import check_json
from kairos.scoring.tables import score_model

MAX_TRAITS_BYTES = 16 * 1024
MAX_MEMBERS_PER_CALL = 500
SOURCES = ("group", "api", "import")
#: ``group`` traits that are the account's own columns (the others are kept as traits)
NAME_TRAITS = ("name", "company", "company_name")
DOMAIN_TRAITS = ("domain", "website")

_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def normalize_domain(value: str | None, where: str = "domain") -> str | None:
    """``https://www.Acme.com/about`` → ``acme.com``; None for blank; InvalidInput otherwise."""
    if value is None:
        return None
    text = value.strip().lower()
    if not text:
        return None
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    text = text.split(":", 1)[0].removeprefix("www.").rstrip(".")
    if not _HOST.match(text):
        raise InvalidInput(f"{where}: {value!r} is not a domain name like acme.com", code="invalid_domain")
    return text


def _check_traits(traits: dict[str, Any], where: str = "traits") -> None:
    check_json(traits, where)
    if len(orjson.dumps(traits)) > MAX_TRAITS_BYTES:
        raise InvalidInput(f"{where}: more than {MAX_TRAITS_BYTES} bytes of JSON", code="traits_too_large")


def _check_owner(conn: Connection, workspace_id: int, user_id: int | None) -> None:
    if user_id is not None and not notifications.members(conn, workspace_id, [user_id]):
        raise InvalidInput(
            f"owner_user_id: user {user_id} is not an active member of this workspace", code="invalid_owner"
        )


# --- reading -------------------------------------------------------------------------------


def _row(conn: Connection, workspace_id: int, account_id: int, *, lock: bool = False) -> Any:
    stmt = select(account).where(account.c.id == account_id, account.c.workspace_id == workspace_id)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        raise NotFound(f"account {account_id} not found", code="account_not_found")
    return row


def get_account(conn: Connection, workspace_id: int, account_id: int) -> dict[str, Any]:
    return present(conn, [_row(conn, workspace_id, account_id)])[0]


def present(conn: Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Accounts as the API shows them: with the owner's email and the score roll-up per
    score model (every model of the workspace; an account not yet rolled up shows zeros)."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    workspace_id = rows[0].workspace_id
    owners = {r.owner_user_id for r in rows if r.owner_user_id is not None}
    emails: dict[int, str] = {}
    if owners:
        emails = dict(
            conn.execute(select(app_user.c.id, app_user.c.email).where(app_user.c.id.in_(owners))).all()  # type: ignore[arg-type]
        )
    models = conn.execute(
        select(
            score_model.c.id, score_model.c.key, score_model.c.name, account_score_setting.c.engaged_threshold
        )
        .outerjoin(account_score_setting, account_score_setting.c.model_id == score_model.c.id)
        .where(score_model.c.workspace_id == workspace_id)
        .order_by(score_model.c.key)
    ).all()
    from kairos.b2b.rollup import DEFAULT_ENGAGED

    scores: dict[tuple[int, int], Any] = {}
    if models:
        for part in chunks(ids):
            for s in conn.execute(select(account_score).where(account_score.c.account_id.in_(part))):
                scores[(s.account_id, s.model_id)] = s
    out = []
    for r in rows:
        per_model = []
        for m in models:
            rolled = scores.get((r.id, m.id))
            threshold = m.engaged_threshold
            per_model.append({
                "model": m.key, "model_name": m.name, "sum": rolled.total if rolled else 0.0,
                "max": rolled.max_score if rolled else 0.0, "engaged": rolled.engaged if rolled else 0,
                "engaged_threshold": threshold if threshold is not None else DEFAULT_ENGAGED,
            })  # fmt: skip
        out.append({
            "id": r.id, "external_id": r.external_id, "name": r.name, "domain": r.domain,
            "traits": r.traits or {}, "owner_user_id": r.owner_user_id,
            "owner_email": emails.get(r.owner_user_id) if r.owner_user_id else None,
            "member_count": r.member_count, "scores": per_model, "rolled_up_at": r.rolled_up_at,
            "created_at": r.created_at, "updated_at": r.updated_at,
        })  # fmt: skip
    return out


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_accounts(
    conn: Connection,
    workspace_id: int,
    *,
    limit: int,
    after: int | None = None,
    q: str | None = None,
    domain: str | None = None,
    external_id: str | None = None,
    owner_user_id: int | None = None,
    contact_id: int | None = None,
) -> list[dict[str, Any]]:
    """Accounts in id order after ``after``: whose name or domain starts with ``q`` (any
    case), with this domain, external id or owner, or that this contact belongs to."""
    stmt = select(account).where(account.c.workspace_id == workspace_id)
    if after is not None:
        stmt = stmt.where(account.c.id > after)
    if q:
        prefix = _escape_like(q.strip().lower()) + "%"
        stmt = stmt.where(
            or_(
                func.lower(account.c.name).like(prefix, escape="\\"),
                account.c.domain.like(prefix, escape="\\"),
            )
        )
    if domain is not None:
        stmt = stmt.where(account.c.domain == normalize_domain(domain))
    if external_id is not None:
        stmt = stmt.where(account.c.external_id == external_id)
    if owner_user_id is not None:
        stmt = stmt.where(account.c.owner_user_id == owner_user_id)
    if contact_id is not None:
        cid = live_contact_id(conn, workspace_id, contact_id)
        stmt = stmt.where(
            account.c.id.in_(select(account_contact.c.account_id).where(account_contact.c.contact_id == cid))
        )
    rows = conn.execute(stmt.order_by(account.c.id).limit(limit)).all()
    return present(conn, rows)


def list_members(
    conn: Connection, workspace_id: int, account_id: int, *, limit: int, after: int | None = None
) -> list[dict[str, Any]]:
    """The account's contacts in id order, with their role there, the source and when they
    joined."""
    _row(conn, workspace_id, account_id)
    ac = account_contact.c
    stmt = (
        select(
            contact.c.id,
            contact.c.email,
            contact.c.first_name,
            contact.c.last_name,
            contact.c.external_id,
            contact.c.lifecycle_stage,
            contact.c.score,
            ac.role,
            ac.source,
            ac.created_at.label("joined_at"),
        )
        .join(account_contact, ac.contact_id == contact.c.id)
        .where(ac.account_id == account_id)
    )
    if after is not None:
        stmt = stmt.where(contact.c.id > after)
    return [dict(r._mapping) for r in conn.execute(stmt.order_by(contact.c.id).limit(limit))]


# --- writing -------------------------------------------------------------------------------


@dataclass(slots=True)
class AccountChanges:
    """What to set: only the keys present change (``traits`` merge; a null trait is removed)."""

    values: dict[str, Any]
    traits: dict[str, Any] | None = None


def _changes(conn: Connection, workspace_id: int, data: dict[str, Any]) -> AccountChanges:
    values: dict[str, Any] = {}
    for key in ("external_id", "name"):
        if key in data:
            text = data[key].strip() if isinstance(data[key], str) else data[key]
            values[key] = text or None
    if "domain" in data:
        values["domain"] = normalize_domain(data["domain"])
    if "owner_user_id" in data:
        _check_owner(conn, workspace_id, data["owner_user_id"])
        values["owner_user_id"] = data["owner_user_id"]
    traits = data.get("traits")
    if traits is not None:
        _check_traits(traits)
    return AccountChanges(values, traits)


def _merged(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    out = dict(old or {})
    for k, v in (new or {}).items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


def upsert_account(
    conn: Connection, workspace_id: int, data: dict[str, Any], now: datetime
) -> tuple[dict[str, Any], bool]:
    """Create an account, or update the one with this ``external_id``; (account, created)."""
    changes = _changes(conn, workspace_id, data)
    external_id = changes.values.get("external_id")
    existing = None
    if external_id is not None:
        existing = conn.execute(
            select(account.c.id).where(
                account.c.workspace_id == workspace_id, account.c.external_id == external_id
            )
        ).scalar()
    if existing is not None:
        return update_account(conn, workspace_id, existing, data, now), False
    account_id = conn.execute(
        insert(account)
        .values(
            workspace_id=workspace_id,
            traits=_merged({}, changes.traits),
            member_count=0,
            rollup_stale=True,
            created_at=now,
            updated_at=now,
            **changes.values,
        )
        .returning(account.c.id)
    ).scalar_one()
    return get_account(conn, workspace_id, account_id), True


def update_account(
    conn: Connection, workspace_id: int, account_id: int, data: dict[str, Any], now: datetime
) -> dict[str, Any]:
    row = _row(conn, workspace_id, account_id, lock=True)
    changes = _changes(conn, workspace_id, data)
    ext = changes.values.get("external_id")
    if ext is not None and ext != row.external_id:
        taken = conn.execute(
            select(account.c.id).where(
                account.c.workspace_id == workspace_id,
                account.c.external_id == ext,
                account.c.id != account_id,
            )
        ).scalar()
        if taken is not None:
            raise InvalidInput(
                f"external_id: account {taken} already has the external id {ext!r}", code="external_id_taken"
            )
    values = dict(changes.values)
    if changes.traits is not None:
        values["traits"] = _merged(row.traits, changes.traits)
    conn.execute(
        update(account).where(account.c.id == account_id).values(**values, updated_at=now, rollup_stale=True)
    )
    return get_account(conn, workspace_id, account_id)


def delete_account(conn: Connection, workspace_id: int, account_id: int, now: datetime) -> None:
    """Delete the account: its members leave it (they stay contacts) and are queued as
    changed, so segments that tested the account let them go."""
    _row(conn, workspace_id, account_id, lock=True)
    members = list(
        conn.execute(
            select(account_contact.c.contact_id).where(account_contact.c.account_id == account_id)
        ).scalars()
    )
    conn.execute(delete(account).where(account.c.id == account_id))
    if members:
        mark_changed(conn, workspace_id, members, now)


def add_members(
    conn: Connection,
    workspace_id: int,
    account_id: int,
    members: Sequence[tuple[int, str | None]],
    now: datetime,
    *,
    source: str = "api",
) -> list[int]:
    """Link contacts (merged ids lead to their survivor) with an optional role; a contact
    already a member keeps its membership, its role replaced when one is given. Returns the
    live contact ids."""
    _row(conn, workspace_id, account_id, lock=True)
    if len(members) > MAX_MEMBERS_PER_CALL:
        raise InvalidInput(f"contacts: at most {MAX_MEMBERS_PER_CALL} per call", code="too_many_contacts")
    roles: dict[int, str | None] = {}
    for cid, role in members:
        try:
            live = live_contact_id(conn, workspace_id, cid)
        except NotFound:
            raise NotFound(f"contact {cid} not found", code="contact_not_found") from None
        if role is not None:
            roles[live] = role.strip() or None
        else:
            roles.setdefault(live, None)
    link(conn, workspace_id, [(account_id, cid, role) for cid, role in roles.items()], now, source)
    return sorted(roles)


def link(
    conn: Connection,
    workspace_id: int,
    links: Iterable[tuple[int, int, str | None]],
    now: datetime,
    source: str,
) -> None:
    """Upsert memberships (account id, contact id, role or None to keep the stored one);
    the accounts become stale and the contacts are queued."""
    links = sorted(set(links), key=lambda x: (x[0], x[1]))  # one lock order for every writer
    rows = [
        {
            "account_id": a,
            "contact_id": c,
            "workspace_id": workspace_id,
            "role": r,
            "source": source,
            "created_at": now,
        }
        for a, c, r in links
    ]
    if not rows:
        return
    stmt = insert_on_conflict(conn, account_contact)
    with_role = [r for r in rows if r["role"] is not None]
    without = [r for r in rows if r["role"] is None]
    if with_role:
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["account_id", "contact_id"], set_={"role": stmt.excluded.role}
            ),
            with_role,
        )
    if without:
        conn.execute(stmt.on_conflict_do_nothing(), without)
    refresh_member_counts(conn, [a for a, _, _ in links])
    mark_changed(conn, workspace_id, {c for _, c, _ in links}, now)


def remove_member(
    conn: Connection, workspace_id: int, account_id: int, contact_id: int, now: datetime
) -> bool:
    """Unlink a contact; False when it was not a member (not an error)."""
    _row(conn, workspace_id, account_id, lock=True)
    cid = live_contact_id(conn, workspace_id, contact_id)
    gone = conn.execute(
        delete(account_contact).where(
            account_contact.c.account_id == account_id, account_contact.c.contact_id == cid
        )
    ).rowcount
    if gone:
        refresh_member_counts(conn, [account_id])
        mark_changed(conn, workspace_id, [cid], now)
    return bool(gone)


def refresh_member_counts(conn: Connection, account_ids: Sequence[int]) -> None:
    """Recount members and mark the accounts stale (their roll-up is due)."""
    count = (
        select(func.count())
        .select_from(account_contact)
        .where(account_contact.c.account_id == account.c.id)
        .scalar_subquery()
    )
    for part in chunks(sorted(set(account_ids))):
        conn.execute(
            update(account).where(account.c.id.in_(part)).values(member_count=count, rollup_stale=True)
        )


def mark_stale_for_contacts(conn: Connection, contact_ids: Iterable[int]) -> None:
    """The accounts these contacts belong to are due a roll-up (their scores moved)."""
    for part in chunks(sorted(set(contact_ids))):
        conn.execute(
            update(account)
            .where(
                account.c.id.in_(
                    select(account_contact.c.account_id).where(account_contact.c.contact_id.in_(part))
                ),
                account.c.rollup_stale.is_(False),
            )
            .values(rollup_stale=True)
        )


# --- Segment group calls -------------------------------------------------------------------


@dataclass(slots=True)
class GroupCall:
    contact_id: int
    group_id: str
    traits: dict[str, Any]


def apply_group_calls(conn: Connection, workspace_id: int, calls: Sequence[GroupCall], now: datetime) -> None:
    """``group`` calls of an ingest batch, in order: each upserts the account by its
    ``groupId`` (traits merged; ``name`` / ``company`` and ``website`` / ``domain`` fill the
    account's name and domain) and links the caller's contact. A domain that is not one is
    kept as a trait only: ingest never refuses a batch for it."""
    if not calls:
        return
    wanted: dict[str, dict[str, Any]] = {}
    for call in calls:
        merged = wanted.setdefault(call.group_id, {})
        merged.update(call.traits)
    existing = {
        ext: (aid, traits)
        for part in chunks(list(wanted))
        for aid, ext, traits in conn.execute(
            select(account.c.id, account.c.external_id, account.c.traits).where(
                account.c.workspace_id == workspace_id, account.c.external_id.in_(part)
            )
        )
    }
    ids: dict[str, int] = {}
    for group_id, traits in wanted.items():
        values = _group_columns(traits)
        if group_id in existing:
            aid, old = existing[group_id]
            conn.execute(
                update(account)
                .where(account.c.id == aid)
                .values(
                    **values["columns"],
                    traits=_merged(old, values["traits"]),
                    updated_at=now,
                    rollup_stale=True,
                )
            )
            ids[group_id] = aid
            continue
        ins = insert_on_conflict(conn, account).values(
            workspace_id=workspace_id, external_id=group_id, traits=_merged({}, values["traits"]),
            member_count=0, rollup_stale=True, created_at=now, updated_at=now, **values["columns"],
        )  # fmt: skip
        found = conn.execute(
            ins.on_conflict_do_nothing(index_elements=["workspace_id", "external_id"]).returning(account.c.id)
        ).scalar()
        if found is None:  # another writer created it meanwhile
            found = conn.execute(
                select(account.c.id).where(
                    account.c.workspace_id == workspace_id, account.c.external_id == group_id
                )
            ).scalar_one()
        ids[group_id] = found
    link(conn, workspace_id, {(ids[c.group_id], c.contact_id, None) for c in calls}, now, "group")


def _group_columns(traits: dict[str, Any]) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    rest = dict(traits)
    for key in NAME_TRAITS:
        value = rest.get(key)
        if isinstance(value, str) and value.strip():
            columns["name"] = value.strip()[:200]
            rest.pop(key)
            break
    for key in DOMAIN_TRAITS:
        value = rest.get(key)
        if isinstance(value, str):
            try:
                domain = normalize_domain(value)
            except InvalidInput:
                continue
            if domain:
                columns["domain"] = domain
                rest.pop(key)
                break
    return {"columns": columns, "traits": {k: v for k, v in rest.items() if v is not None}}


# --- score settings ------------------------------------------------------------------------


def score_settings(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    from kairos.b2b.rollup import DEFAULT_ENGAGED

    rows = conn.execute(
        select(score_model.c.key, score_model.c.name, account_score_setting.c.engaged_threshold)
        .outerjoin(account_score_setting, account_score_setting.c.model_id == score_model.c.id)
        .where(score_model.c.workspace_id == workspace_id)
        .order_by(score_model.c.key)
    ).all()
    return [
        {"model": k, "model_name": n, "engaged_threshold": t if t is not None else DEFAULT_ENGAGED,
         "default": t is None}
        for k, n, t in rows
    ]  # fmt: skip


def set_engaged_threshold(
    conn: Connection, workspace_id: int, key: str, threshold: float, now: datetime
) -> dict[str, Any]:
    """Set the model's engaged threshold; every account of the workspace is rolled up again."""
    model_id = conn.execute(
        select(score_model.c.id).where(score_model.c.workspace_id == workspace_id, score_model.c.key == key)
    ).scalar()
    if model_id is None:
        raise NotFound(f"score model {key!r} not found", code="score_model_not_found")
    stmt = insert_on_conflict(conn, account_score_setting).values(
        model_id=model_id, workspace_id=workspace_id, engaged_threshold=threshold, updated_at=now
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["model_id"],
            set_={
                "engaged_threshold": stmt.excluded.engaged_threshold,
                "updated_at": stmt.excluded.updated_at,
            },
        )
    )
    conn.execute(
        update(account)
        .where(and_(account.c.workspace_id == workspace_id, account.c.rollup_stale.is_(False)))
        .values(rollup_stale=True)
    )
    return next(s for s in score_settings(conn, workspace_id) if s["model"] == key)
