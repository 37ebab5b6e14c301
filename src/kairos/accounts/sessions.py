"""Console sessions: server-side, behind an HttpOnly cookie, with idle and absolute expiry,
a CSRF token each, and sign-in throttling per account and per client address."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, update

from kairos.accounts.passwords import hash_password, needs_rehash, verify_password
from kairos.accounts.service import user_by_email
from kairos.accounts.tables import app_user, login_failure, user_session
from kairos.clock import ensure_utc
from kairos.errors import RateLimited, Unauthorized

COOKIE = "kairos_session"
#: a session unused this long ends; none lasts longer than ``ABSOLUTE``
IDLE = timedelta(hours=8)
ABSOLUTE = timedelta(days=7)
#: ``last_seen_at`` is written at most this often (not on every request)
TOUCH = timedelta(minutes=1)

#: failed sign-ins counted over ``WINDOW``: per account, and per client address
WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT = 10
MAX_PER_ADDRESS = 50


@dataclass(frozen=True, slots=True)
class Session:
    id: str  # the stored hash
    user_id: int
    csrf_token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(
    conn: Connection, email: str, password: str, now: datetime, ip: str | None, user_agent: str | None
) -> tuple[str, Session]:
    """Check the password and open a session: (cookie token, session). Throttled: past
    ``MAX_PER_ACCOUNT`` failures for the address, or ``MAX_PER_ADDRESS`` from the client, in
    ``WINDOW``, every attempt is refused (429) until the oldest failure leaves the window."""
    account_key = _account_key(email)
    _throttle(conn, account_key, f"ip:{ip}" if ip else None, now)
    user = user_by_email(conn, email)
    ok = verify_password(user.password_hash if user is not None else None, password)
    if not ok or user is None or user.disabled_at is not None:
        # the caller records the failure in a transaction of its own (this one rolls back)
        raise Unauthorized("the email or the password is wrong", code="invalid_credentials")
    conn.execute(delete(login_failure).where(login_failure.c.key == account_key))
    if needs_rehash(user.password_hash):
        conn.execute(
            update(app_user).where(app_user.c.id == user.id).values(password_hash=hash_password(password))
        )
    return start(conn, int(user.id), now, ip, user_agent)


def _account_key(email: str) -> str:
    return "email:" + email.strip().lower()[:300]


def record_failure(conn: Connection, email: str, ip: str | None, now: datetime) -> None:
    keys = [_account_key(email)] + ([f"ip:{ip}"] if ip else [])
    conn.execute(insert(login_failure), [{"key": k, "created_at": now} for k in keys])


def _throttle(conn: Connection, account_key: str, address_key: str | None, now: datetime) -> None:
    for key, limit in ((account_key, MAX_PER_ACCOUNT), (address_key, MAX_PER_ADDRESS)):
        if key is None:
            continue
        count, oldest = conn.execute(
            select(func.count(), func.min(login_failure.c.created_at)).where(
                login_failure.c.key == key, login_failure.c.created_at > now - WINDOW
            )
        ).one()
        if count >= limit:
            wait = max(1, int((ensure_utc(oldest) + WINDOW - now).total_seconds()) + 1)
            raise RateLimited(
                f"too many failed sign-ins; try again in {(wait + 59) // 60} minute(s)", retry_after=wait
            )


def start(
    conn: Connection, user_id: int, now: datetime, ip: str | None, user_agent: str | None
) -> tuple[str, Session]:
    token = secrets.token_urlsafe(32)
    session = Session(_hash(token), user_id, secrets.token_urlsafe(32))
    conn.execute(
        insert(user_session).values(
            id=session.id,
            user_id=user_id,
            csrf_token=session.csrf_token,
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE,
            ip=(ip or "")[:64] or None,
            user_agent=(user_agent or "")[:500] or None,
        )
    )
    return token, session


def resolve(conn: Connection, token: str, now: datetime) -> Session | None:
    """The live session of a cookie token (and its user still enabled), or None."""
    if not token or len(token) > 200:
        return None
    row = conn.execute(
        select(
            user_session.c.id,
            user_session.c.user_id,
            user_session.c.csrf_token,
            user_session.c.last_seen_at,
            user_session.c.expires_at,
        )
        .join(app_user, app_user.c.id == user_session.c.user_id)
        .where(user_session.c.id == _hash(token), app_user.c.disabled_at.is_(None))
    ).first()
    if row is None:
        return None
    last_seen, expires = ensure_utc(row.last_seen_at), ensure_utc(row.expires_at)
    if now >= expires or now - last_seen >= IDLE:
        return None
    if now - last_seen >= TOUCH:
        conn.execute(update(user_session).where(user_session.c.id == row.id).values(last_seen_at=now))
    return Session(row.id, int(row.user_id), row.csrf_token)


def csrf_matches(session: Session, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(session.csrf_token.encode(), presented.encode())


def end(conn: Connection, session_id: str) -> None:
    conn.execute(delete(user_session).where(user_session.c.id == session_id))


def end_all(conn: Connection, user_id: int) -> int:
    return conn.execute(delete(user_session).where(user_session.c.user_id == user_id)).rowcount or 0


def purge(conn: Connection, now: datetime) -> int:
    """Housekeeping: drop expired sessions and failures out of the throttling window."""
    gone = (
        conn.execute(
            delete(user_session).where(
                (user_session.c.expires_at <= now) | (user_session.c.last_seen_at <= now - IDLE)
            )
        ).rowcount
        or 0
    )
    gone += (
        conn.execute(delete(login_failure).where(login_failure.c.created_at <= now - WINDOW)).rowcount or 0
    )
    return gone
