"""Creating workspaces and keys, and resolving a presented key to its workspace."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, Engine, func, insert, select, update

from kairos.clock import Clock, SystemClock, ensure_utc
from kairos.db.engine import reading
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.workspaces.settings import check_country
from kairos.workspaces.tables import api_key, workspace

KeyKind = Literal["write", "api"]
_PREFIX: dict[KeyKind, str] = {"write": "wk_", "api": "ak_"}


@dataclass(frozen=True, slots=True)
class Workspace:
    id: int
    name: str
    default_country: str | None = None
    #: a sandbox runs on its own virtual clock (``workspaces/clocks.py``); fixed at creation
    sandbox: bool = False


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A presented key, resolved: its workspace, id, role and a label for the audit log."""

    workspace: Workspace
    key_id: int
    role: str
    label: str


@dataclass(frozen=True, slots=True)
class CreatedWorkspace:
    id: int
    name: str
    write_key: str
    api_key: str
    sandbox: bool = False
    clock_at: datetime | None = None


def hash_key(raw: str) -> str:
    # Keys are 256-bit random tokens, so a plain SHA-256 is enough: there is nothing to
    # brute-force, and lookups stay one indexed equality.
    return hashlib.sha256(raw.encode()).hexdigest()


def create_workspace(
    conn: Connection,
    clock: Clock,
    name: str,
    *,
    default_country: str | None = None,
    sandbox: bool = False,
    clock_start: datetime | None = None,
) -> CreatedWorkspace:
    """A workspace with a write key and an API key. A ``sandbox`` one runs on a virtual
    clock that starts at ``clock_start`` (default: now) and moves only when advanced."""
    name = name.strip()
    if not name:
        raise InvalidInput("workspace name must not be empty", code="invalid_name")
    settings: dict[str, Any] = {}
    if default_country:
        settings["default_country"] = check_country(default_country)
    now = clock.now()
    if clock_start is not None and not sandbox:
        raise InvalidInput("only a sandbox workspace has a clock to start", code="not_a_sandbox")
    clock_at = ensure_utc(clock_start or now) if sandbox else None
    ws_id = conn.execute(
        insert(workspace)
        .values(name=name, settings=settings, created_at=now, sandbox=sandbox, clock_at=clock_at)
        .returning(workspace.c.id)
    ).scalar_one()
    write = create_key(conn, clock, ws_id, "write", "default write key")
    api = create_key(conn, clock, ws_id, "api", "default API key")
    return CreatedWorkspace(
        id=ws_id, name=name, write_key=write, api_key=api, sandbox=sandbox, clock_at=clock_at
    )


def create_key(
    conn: Connection, clock: Clock, workspace_id: int, kind: KeyKind, name: str, role: str = "admin"
) -> str:
    """A new key (shown once: only its hash is stored). ``role`` limits what an API key may
    do (``accounts/roles.py``); write keys only ingest."""
    from kairos.accounts.roles import ROLES

    if role not in ROLES:
        raise InvalidInput(f"role is one of {', '.join(ROLES)}", code="invalid_role")
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("a key's name has 1 to 200 characters", code="invalid_name")
    raw = _PREFIX[kind] + secrets.token_urlsafe(32)
    conn.execute(
        insert(api_key).values(
            workspace_id=workspace_id,
            kind=kind,
            name=name,
            prefix=raw[:10],
            key_hash=hash_key(raw),
            created_at=clock.now(),
            role=role,
        )
    )
    return raw


def list_keys(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    """The workspace's keys, revoked ones included, oldest first: never their hashes."""
    rows = conn.execute(
        select(
            api_key.c.id,
            api_key.c.kind,
            api_key.c.name,
            api_key.c.prefix,
            api_key.c.role,
            api_key.c.created_at,
            api_key.c.last_used_at,
            api_key.c.revoked_at,
        )
        .where(api_key.c.workspace_id == workspace_id)
        .order_by(api_key.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def find_key(conn: Connection, ref: str) -> dict[str, Any]:
    """A key of any workspace by id, by a whole key (``ak_…``/``wk_…``, e.g. one that leaked)
    or by its printed prefix (the first 10 characters): for the command line."""
    cols = [api_key.c.id, api_key.c.workspace_id, api_key.c.kind, api_key.c.name, api_key.c.prefix]
    ref = ref.strip()
    if ref.isdigit():
        rows = conn.execute(select(*cols).where(api_key.c.id == int(ref))).mappings().all()
    elif len(ref) > 10:
        rows = conn.execute(select(*cols).where(api_key.c.key_hash == hash_key(ref))).mappings().all()
    else:
        rows = conn.execute(select(*cols).where(api_key.c.prefix == ref)).mappings().all()
    if not rows:
        raise NotFound(f"no key {ref!r}", code="key_not_found")
    if len(rows) > 1:
        raise Conflict(f"{len(rows)} keys start with {ref!r}: give the key id", code="ambiguous_key")
    return dict(rows[0])


def revoke_key(
    conn: Connection,
    clock: Clock,
    workspace_id: int,
    key_id: int,
    *,
    requesting_key_id: int | None = None,
    allow_last: bool = False,
) -> dict[str, Any]:
    """Revoke a key: it stops working at once in this process (the caller clears its
    ``KeyResolver``) and within the resolver's TTL in the others. Revoking a revoked key
    changes nothing. Refused (409): the key making the request (``key_in_use``: use another
    key, so a client cannot lock itself out by mistake), and the workspace's last API key
    (``last_api_key``: issue a new one first) unless ``allow_last``."""
    row = conn.execute(
        select(api_key).where(api_key.c.id == key_id, api_key.c.workspace_id == workspace_id)
    ).first()
    if row is None:
        raise NotFound(f"no key {key_id}", code="key_not_found")
    if row.revoked_at is None:
        if key_id == requesting_key_id:
            raise Conflict("a key cannot revoke itself: use another API key", code="key_in_use")
        if row.kind == "api" and not allow_last:
            others = conn.execute(
                select(func.count()).where(
                    api_key.c.workspace_id == workspace_id,
                    api_key.c.kind == "api",
                    api_key.c.revoked_at.is_(None),
                    api_key.c.id != key_id,
                )
            ).scalar_one()
            if others == 0:
                raise Conflict(
                    "this is the workspace's last API key: issue a new one first", code="last_api_key"
                )
        conn.execute(update(api_key).where(api_key.c.id == key_id).values(revoked_at=clock.now()))
    return next(k for k in list_keys(conn, workspace_id) if k["id"] == key_id)


def list_workspaces(conn: Connection) -> list[Workspace]:
    rows = conn.execute(select(workspace).order_by(workspace.c.id)).all()
    return [_to_workspace(r._mapping) for r in rows]


def _to_workspace(row: Any) -> Workspace:
    settings = row["settings"] or {}
    return Workspace(
        id=row["id"],
        name=row["name"],
        default_country=settings.get("default_country"),
        sandbox=bool(row.get("sandbox")),
    )


class KeyResolver:
    """Maps a presented key to its workspace, with a short in-process cache.

    Ingest presents the write key on every request; one indexed lookup per request would be
    the largest cost of a single ``/v1/track``. Entries live ``ttl`` seconds, so a revoked
    key stops working within that time on every process (at once in the process that
    revoked it: it calls ``forget``).
    """

    def __init__(self, engine: Engine, ttl: float = 30.0, clock: Clock | None = None) -> None:
        self._engine = engine
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, KeyInfo | None]] = {}
        self._workspaces: dict[int, tuple[float, Workspace]] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop every cached resolution (after a key is revoked, or a workspace's settings
        changed, in this process)."""
        with self._lock:
            self._cache.clear()
            self._workspaces.clear()

    def resolve(self, raw: str, kind: KeyKind) -> Workspace | None:
        found = self.resolve_key(raw, kind)
        return None if found is None else found.workspace

    def resolve_key(self, raw: str, kind: KeyKind) -> KeyInfo | None:
        if not raw or not raw.startswith(_PREFIX[kind]):
            return None
        cache_key = (kind, raw)
        now = time.monotonic()
        hit = self._cache.get(cache_key)
        if hit is not None and hit[0] > now:
            return hit[1]
        found = self._lookup(raw, kind)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[cache_key] = (now + self._ttl, found)
        return found

    def workspace(self, workspace_id: int) -> Workspace:
        """A workspace by id (cached like keys; a workspace's name and country change rarely)."""
        now = time.monotonic()
        hit = self._workspaces.get(workspace_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        with reading(self._engine) as conn:
            row = conn.execute(select(workspace).where(workspace.c.id == workspace_id)).first()
        if row is None:
            raise NotFound(f"no workspace {workspace_id}", code="workspace_not_found")
        found = _to_workspace(row._mapping)
        with self._lock:
            self._workspaces[workspace_id] = (now + self._ttl, found)
        return found

    def _lookup(self, raw: str, kind: KeyKind) -> KeyInfo | None:
        stmt = (
            select(
                workspace,
                api_key.c.id.label("key_id"),
                api_key.c.role,
                api_key.c.prefix,
                api_key.c.name.label("key_name"),
                api_key.c.last_used_at,
            )
            .join(api_key, api_key.c.workspace_id == workspace.c.id)
            .where(
                api_key.c.key_hash == hash_key(raw),
                api_key.c.kind == kind,
                api_key.c.revoked_at.is_(None),
            )
        )
        with reading(self._engine) as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        m = row._mapping
        if kind == "api":  # write keys are resolved on ingest's event loop: no write there
            self._used(m["key_id"], m["last_used_at"])
        return KeyInfo(_to_workspace(m), m["key_id"], m["role"], f"API key {m['prefix']}… ({m['key_name']})")

    def _used(self, key_id: int, last: datetime | None) -> None:
        """Remember when the key was last used: written when the cache is refilled (at most
        every ``ttl`` per process), and only if a minute has passed."""
        now = (self._clock or SystemClock()).now()
        if last is not None and now - ensure_utc(last) < timedelta(minutes=1):
            return
        with self._engine.begin() as conn:
            conn.execute(update(api_key).where(api_key.c.id == key_id).values(last_used_at=now))
